"""Seeded fuzzing of every checkpoint reader: mutated bytes, truncations and swapped
ranges of a good file of each format give a gan_kit error or a correct load, never a
crash, a bare Python error, a memory blow-up or a hang (one child process, `isolated_load`)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import torch
from isolated_load import load_in_child
from stylegan2_writers import write_ada_pickle, write_rosinality

import gan_kit
from gan_kit.loading.converted import write_converted
from gan_kit.loading.tf_network_pickle import read_networks

MUTANTS_PER_FORMAT = 30
_STRUCTURE_BYTES = 8192  # where the pickles, headers and indexes mostly are


def _mutant(data: bytes, rng: random.Random, kind: str) -> bytes:
    """`data` with a few random bytes changed, cut short, or two ranges swapped."""
    mutated = bytearray(data)
    if kind == "truncate":
        return bytes(mutated[: rng.randrange(len(mutated))])
    if kind == "swap":
        width = rng.randint(2, 64)
        a, b = (rng.randrange(len(mutated) - width) for _ in range(2))
        mutated[a : a + width], mutated[b : b + width] = (
            mutated[b : b + width],
            mutated[a : a + width],
        )
        return bytes(mutated)
    for _ in range(rng.randint(1, 8)):
        span = min(len(mutated), _STRUCTURE_BYTES) if rng.random() < 0.7 else len(mutated)
        mutated[rng.randrange(span)] = rng.randrange(256)
    return bytes(mutated)


def _bases(folder: Path, stylegan2_pickle: Path, biggan_checkpoint: Path, tf_dir: Path) -> dict:
    """format -> (the file to mutate, a function writing a mutant's bytes as a checkpoint)."""
    gs = read_networks(stylegan2_pickle)[2]
    write_ada_pickle(folder / "ada.pkl", gs)
    write_rosinality(folder / "rosinality.pt", gs)
    state = torch.load(biggan_checkpoint, map_location="cpu", weights_only=True)
    torch.save(state, folder / "legacy.bin", _use_new_zipfile_serialization=False)
    write_converted(gan_kit.load("demo-stylegan2", device="cpu"), folder / "demo.safetensors")
    index = next(tf_dir.glob("*.index"))

    def as_file(name: str):
        return lambda data, n: _written(folder / f"{n}-{name}", data)

    def as_bundle(data: bytes, n: int) -> Path:
        copy = folder / f"bundle-{n}"
        shutil.copytree(tf_dir, copy)
        (copy / index.name).chmod(0o644)
        (copy / index.name).write_bytes(data)
        return copy / index.stem

    return {
        "tf-pickle": (stylegan2_pickle, as_file("g.pkl")),
        "ada-pickle": (folder / "ada.pkl", as_file("ada.pkl")),
        "rosinality": (folder / "rosinality.pt", as_file("r.pt")),
        "biggan-zip": (biggan_checkpoint, as_file("b.bin")),
        "biggan-legacy": (folder / "legacy.bin", as_file("l.bin")),
        "tf-bundle": (index, as_bundle),
        "converted": (folder / "demo.safetensors", as_file("c.safetensors")),
    }


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.filterwarnings("ignore")
def test_mutated_checkpoints_give_gan_kit_errors_or_load(
    tmp_path, stylegan2_pickle, biggan_checkpoint, conformance_dir
):
    rng = random.Random(20261202)
    folder = tmp_path / "fuzz"
    folder.mkdir()
    mutants = {}
    bases = _bases(folder, stylegan2_pickle, biggan_checkpoint, conformance_dir / "biggan_tiny_tf")
    for name, (base, write) in bases.items():
        data = base.read_bytes()
        for n in range(MUTANTS_PER_FORMAT):
            kind = ("bytes", "truncate", "swap")[n % 3]
            mutants[write(_mutant(data, rng, kind), n)] = (name, kind)
    results, _ = load_in_child(list(mutants), tmp_path)
    outcomes = {str(path): results[str(path)] for path in mutants}
    wrong = {p: r for p, r in outcomes.items() if r["outcome"] not in ("gan_kit", "loaded")}
    assert not wrong, wrong
    # the fuzzing reaches the readers' checks: most mutants are refused, some still load
    refused = sum(r["outcome"] == "gan_kit" for r in outcomes.values())
    assert refused >= len(mutants) // 2, outcomes
