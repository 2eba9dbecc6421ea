"""Load checkpoint files in a child process under a memory limit and a timeout, so that a
file that crashes the interpreter, exhausts memory or hangs fails the test instead of
taking the test run down with it. One child loads a whole batch (importing torch once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MEMORY_LIMIT = 3 << 30
"""Address space of the child: torch alone maps about 1 GB; a load may use little more."""

_CHILD = r"""
import json, resource, sys, warnings
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import torch
import gan_kit
from gan_kit.errors import GanKitError
warnings.simplefilter("ignore")
torch.set_num_threads(1)
for path in json.loads(open(sys.argv[1]).read()):
    try:
        loaded = gan_kit.load(path, device="cpu")
        outcome = {"outcome": "loaded" if isinstance(loaded, torch.nn.Module) else "other"}
    except GanKitError as exc:
        outcome = {"outcome": "gan_kit", "error": type(exc).__name__, "message": str(exc)}
    except BaseException as exc:  # anything but a gan_kit error is the defect under test
        outcome = {"outcome": "other", "error": type(exc).__name__, "message": str(exc)[:2000]}
    print(json.dumps({"path": path, **outcome}), flush=True)
from gan_kit.loading import ada_pickle, tf_network_pickle
import collections
classes = (tf_network_pickle.TFNetwork, ada_pickle._EasyDict, collections.OrderedDict)
print(json.dumps({"probe": {c.__name__: sorted(vars(c)) for c in classes}}), flush=True)
"""


def load_in_child(paths: list[Path], work: Path, timeout: float = 240) -> tuple[dict, dict]:
    """Load each of `paths` with `gan_kit.load` in one child process; return ({path:
    outcome}, probe). Fails (AssertionError) if the child dies, by a signal or otherwise."""
    listing = work / "paths.json"
    listing.write_text(json.dumps([str(p) for p in paths]))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    try:
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, str(listing), str(MEMORY_LIMIT)],
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        stdout, stderr, status = child.stdout, child.stderr, child.returncode
    except subprocess.TimeoutExpired as expired:
        stdout, stderr, status = expired.stdout or b"", expired.stderr or b"", "timed out"
    text = stdout.decode(errors="replace")
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    outcomes = {line["path"]: line for line in lines if "path" in line}
    done = len(outcomes)
    assert status == 0, (
        f"the child died ({status}) loading "
        f"{paths[done] if done < len(paths) else 'after the last file'}: "
        f"{stderr.decode(errors='replace')[-2000:]}"
    )
    probes = [line["probe"] for line in lines if "probe" in line]
    return outcomes, probes[0]
