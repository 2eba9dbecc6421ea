"""Damaged or malformed checkpoints of every format give a gan_kit error naming the file,
never a raw error from inside torch, numpy or zipfile."""

from __future__ import annotations

import copy
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from stylegan2_writers import rosinality_state_dict, write_ada_pickle, write_rosinality
from tf_bundle_writer import write_tensor_bundle

import gan_kit
from gan_kit.errors import (
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    UnsupportedCheckpointError,
)
from gan_kit.loading.tf_bundle import TensorBundle, find_prefix
from gan_kit.loading.tf_network_pickle import read_networks, write_networks

EMA = "/ExponentialMovingAverage"


@pytest.fixture(scope="module")
def networks(stylegan2_pickle: Path) -> tuple:
    return read_networks(stylegan2_pickle)


# --- NVIDIA TF pickles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("8x8/Conv0_up/weight", np.zeros((3, 3, 64), np.float32)),
        ("8x8/Conv0_up/weight", np.zeros((3, 3, 64, 64, 1), np.float32)),
        ("4x4/Const/const", np.zeros((), np.float32)),
    ],
    ids=["conv-rank-3", "conv-rank-5", "const-rank-0"],
)
def test_a_tf_variable_of_the_wrong_rank_is_named(networks, tmp_path, name, value):
    changed = copy.deepcopy(networks)
    changed[2].components["synthesis"].variables[name] = value
    path = tmp_path / "wrong_rank.pkl"
    write_networks(path, changed)
    expected = f"synthesis/{name} has shape {value.shape}, which does not fit"
    with pytest.raises(CheckpointMismatchError, match=re.escape(expected)):
        gan_kit.load(path)


@pytest.mark.parametrize("kernel", [[0, 0], [1.0, -1.0], [2, -1, -1]])
def test_a_resample_kernel_summing_to_zero_is_refused(networks, tmp_path, kernel):
    changed = copy.deepcopy(networks)
    changed[2].static_kwargs["resample_kernel"] = kernel
    path = tmp_path / "zero_sum.pkl"
    write_networks(path, changed)
    with pytest.raises(UnsupportedCheckpointError, match=r"resample_kernel=.* with a non-zero sum"):
        gan_kit.load(path)


# --- rosinality .pt ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda p: p["g_ema"].update({"conv1.noise.weight": torch.zeros(2)}),
            r"not a well-formed rosinality StyleGAN2 generator \(RuntimeError",
        ),
        (lambda p: p.update(latent_avg="text"), "its latent_avg is a str, not the average w"),
        (
            lambda p: p.update(latent_avg=torch.zeros(3)),
            r"its latent_avg is a tensor of shape \[3\], not the average w of 64 numbers",
        ),
        (
            lambda p: p["g_ema"].update({"style.1.weight": torch.zeros(64, 0)}),
            "a latent width is 0; generators gan_kit builds have a latent width from 1",
        ),
        (lambda p: p["g_ema"].update({7: torch.zeros(1)}), r"holds the entry 7 \(Tensor\)"),
        (lambda p: p["g_ema"].update({"noises.noise_0": 1.5}), r"entry 'noises.noise_0' \(float\)"),
    ],
    ids=["noise-weight-of-2", "latent-avg-text", "latent-avg-short", "z-dim-0", "int-key", "float"],
)
@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning")
def test_malformed_rosinality_files_are_mismatches_naming_the_file(
    networks, tmp_path, edit, message
):
    gs = networks[2]
    payload = {"g_ema": rosinality_state_dict(gs), "latent_avg": torch.zeros(64)}
    edit(payload)
    path = tmp_path / "malformed.pt"
    torch.save(payload, path)
    with pytest.raises(CheckpointMismatchError, match=message) as caught:
        gan_kit.load(path)
    assert str(path) in str(caught.value)


# --- BigGAN -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "bad"),
    [("blocks.1.conv1.weight", float("nan")), ("noise_fc.module.bias", float("inf"))],
)
def test_a_biggan_tensor_with_nan_or_inf_is_corrupt(biggan_checkpoint, tmp_path, name, bad):
    state_dict = torch.load(biggan_checkpoint, map_location="cpu", weights_only=True)
    state_dict[name] = torch.full_like(state_dict[name], bad)
    path = tmp_path / "pytorch_model.bin"
    torch.save(state_dict, path)
    expected = f"{path}: {name} holds NaN or infinite values; the file is damaged"
    with pytest.raises(CorruptCheckpointError, match=re.escape(expected)):
        gan_kit.load(path)


def test_a_nan_tf_variable_is_named_as_tf_names_it(conformance_dir, tmp_path):
    bundle = TensorBundle(find_prefix(conformance_dir / "biggan_tiny_tf"))
    arrays = {name: bundle.read(name) for name in bundle.entries}
    name = f"generator/B2/up_conv1/kernel{EMA}"
    arrays[name] = np.full_like(arrays[name], np.nan)
    write_tensor_bundle(tmp_path / "model.ckpt-1", arrays)
    with pytest.raises(CorruptCheckpointError, match=rf"{name} holds NaN.*download it again"):
        gan_kit.load(tmp_path)


# --- single damaged bytes in torch files -----------------------------------------------------


def damaged_copy(source: bytes, offset: int, value: int, path: Path) -> Path:
    data = bytearray(source)
    assert data[offset] != value, "the test must change the byte"
    data[offset] = value
    path.write_bytes(bytes(data))
    return path


def assert_reported_as_damaged(path: Path) -> None:
    with pytest.raises(CorruptCheckpointError, match="damaged: download it again") as caught:
        gan_kit.load(path, device="cpu")
    assert str(caught.value).startswith(str(path))


# Each escaped from torch.load as a raw error: UnicodeDecodeError, KeyError, TypeError,
# AttributeError, UnicodeDecodeError (in the zip's central directory), and a NaN weight.
@pytest.mark.parametrize(
    ("offset", "value"),
    [(27, 0xFF), (153, 0xFF), (153, 0x00), (279, 0x00), (-13432, 0xFF), (-14008, 0xFF)],
)
def test_a_biggan_bin_with_a_damaged_byte(biggan_checkpoint, tmp_path, offset, value):
    path = damaged_copy(biggan_checkpoint.read_bytes(), offset, value, tmp_path / "model.bin")
    assert_reported_as_damaged(path)


@pytest.fixture(scope="module")
def rosinality_file(networks, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("rosinality") / "g.pt"
    write_rosinality(path, networks[2])
    return path.read_bytes()


# Offsets into its pickle (data.pkl). Such files were refused as of no known format (zipfile
# checks a CRC); recognised, torch.load raises UnicodeDecodeError, KeyError, AttributeError,
# IndexError and RuntimeError.
@pytest.mark.parametrize(
    ("offset", "value"), [(11, 0xFF), (221, 0xFF), (221, 0), (81, 0), (121, 0)]
)
def test_a_rosinality_pt_with_a_damaged_byte(rosinality_file, tmp_path, offset, value):
    pickle_start = rosinality_file.index(b"\x80\x02")
    path = damaged_copy(rosinality_file, pickle_start + offset, value, tmp_path / "g.pt")
    assert_reported_as_damaged(path)


@pytest.fixture(scope="module")
def ada_file(networks, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("ada") / "network-snapshot.pkl"
    write_ada_pickle(path, networks[2])
    return path.read_bytes()


# In the first tensor's embedded torch file: RuntimeError (586), AssertionError (764, 1514).
@pytest.mark.parametrize(("offset", "value"), [(586, 0xFF), (764, 0x00), (1514, 0x07)])
def test_an_ada_pickle_with_a_damaged_tensor_storage(ada_file, tmp_path, offset, value):
    path = damaged_copy(ada_file, offset, value, tmp_path / "network-snapshot.pkl")
    assert_reported_as_damaged(path)


def test_zip_damage_that_torch_ignores_does_not_stop_recognition(
    biggan_checkpoint, rosinality_file, tmp_path
):
    """A bad zip version (BigGAN) or local file name (rosinality) made zipfile raise
    NotImplementedError or UnicodeDecodeError while recognising; torch reads both files."""
    biggan = damaged_copy(biggan_checkpoint.read_bytes(), -13477, 0xFF, tmp_path / "model.bin")
    assert gan_kit.load(biggan, device="cpu").resolution == 256
    rosinality = damaged_copy(rosinality_file, 30, 0xFF, tmp_path / "g.pt")
    assert gan_kit.load(rosinality, device="cpu").config.resolution == 64


# --- unreadable files -------------------------------------------------------------------------


def test_an_unreadable_file_is_reported_as_unreadable(stylegan2_pickle, tmp_path, monkeypatch):
    """Tests run as root, who may read anything: os.access, which recognise asks before
    reading, is made to say no for this one file."""
    path = tmp_path / "locked.pkl"
    shutil.copy(stylegan2_pickle, path)
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda target, mode, **kw: Path(target) != path and real_access(target, mode)
    )
    with pytest.raises(CheckpointNotFoundError, match=r"cannot read .*locked\.pkl: permission"):
        gan_kit.load(path)


def test_nan_weights_in_a_stylegan2_pickle_are_refused(stylegan2_pickle, tmp_path):
    networks = read_networks(stylegan2_pickle)
    networks[2].components["synthesis"].variables["8x8/Conv1/bias"][3] = np.nan
    path = tmp_path / "nan.pkl"
    write_networks(path, networks)
    with pytest.raises(CorruptCheckpointError, match=r"blocks\.1\.conv1\.bias holds NaN"):
        gan_kit.load(path, device="cpu")
