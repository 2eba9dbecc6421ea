"""Reading checkpoint files, shared by the format modules: a damaged file becomes a
`CorruptCheckpointError` where it is read, never an error from inside torch or zipfile, and
torch files are only ever loaded with `weights_only=True`.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import torch

from gan_kit.errors import CorruptCheckpointError, GanKitError, UnsafePickleError
from gan_kit.files import read_head

_TORCH_KEYS_SCAN_BYTES = 1 << 22  # the keys of a legacy torch pickle come before its tensors
# How torch's weights-only unpickler words a refused global or class (not a damaged stream).
_REFUSED_OBJECT_SIGNS = ("GLOBAL", "allowlisted")


@contextmanager
def reading_checkpoint(path: Path) -> Iterator[None]:
    """Report an error raised while reading `path` as a damaged file; gan_kit's own pass as is."""
    try:
        yield
    except (GanKitError, MemoryError):  # ours say what to do; memory is not damage
        raise
    except Exception as exc:
        raise CorruptCheckpointError(
            f"{path} could not be read ({type(exc).__name__}: {exc}); the file is probably "
            "truncated or damaged: download it again"
        ) from exc


def load_tensors_only(file: Path | BinaryIO, refusal: str) -> Any:
    """`torch.load(file, weights_only=True)` onto the CPU.

    A pickle naming a global or class torch does not allow raises `UnsafePickleError(refusal)`;
    other failures (a damaged stream, ...) pass through, for `reading_checkpoint` to report.
    """
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch wraps its unpickler's words in advice to load unsafely: keep its words only
        reason = exc.__context__ if isinstance(exc.__context__, pickle.UnpicklingError) else exc
        if any(sign in str(reason) for sign in _REFUSED_OBJECT_SIGNS):
            refused = str(reason).split(" Please use")[0]  # not its how-to-allow advice
            raise UnsafePickleError(f"{refusal} (torch: {refused})") from exc
        raise pickle.UnpicklingError(str(reason)) from exc


def torch_file_keys(path: Path) -> bytes:
    """The pickle part of a torch file (zip or legacy), where its key names are; b"" for
    other files. Nothing is unpickled; a damaged zip gives its first bytes, for the
    format's build to report."""
    head = read_head(path, 4)
    if head == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "data.pkl"]
                return archive.read(names[0]) if names else b""
        except Exception:  # any damage: zipfile raises many kinds
            return read_head(path, _TORCH_KEYS_SCAN_BYTES)
    return read_head(path, _TORCH_KEYS_SCAN_BYTES) if head[:1] == b"\x80" else b""


def read_torch_file(path: Path, advice: str) -> Any:
    """The tensors of the torch file `path` (loaded with `weights_only=True`). Pickled
    objects besides tensors are refused with `advice` on what to save instead; damage is a
    `CorruptCheckpointError`."""
    with reading_checkpoint(path):
        return load_tensors_only(
            path,
            f"{path} holds pickled Python objects besides tensors, which gan_kit does not run; "
            + advice,
        )
