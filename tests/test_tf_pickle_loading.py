"""Reading NVIDIA TF pickles safely, and the errors for files that are not right."""

from __future__ import annotations

import copy
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

import gan_kit
from gan_kit.devices import resolve_device
from gan_kit.errors import (
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    GanKitError,
    UnsafePickleError,
    UnsupportedCheckpointError,
)
from gan_kit.loading.tf_network_pickle import read_networks, write_networks


@pytest.fixture()
def networks(stylegan2_pickle):
    return read_networks(stylegan2_pickle)


def synthesis_variables(networks) -> dict[str, np.ndarray]:
    return networks[2].components["synthesis"].variables


class RunsShellCommand:
    """Pickles as a call of os.system, the classic pickle exploit."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_both_numpy_module_paths_are_accepted(stylegan2_pickle, networks, tmp_path):
    assert b"numpy.core.multiarray" in stylegan2_pickle.read_bytes()
    rewritten = tmp_path / "numpy2.pkl"
    write_networks(rewritten, networks)
    assert b"numpy._core.multiarray" in rewritten.read_bytes()
    assert gan_kit.load(rewritten).num_ws == 10


def test_a_reduce_calling_os_system_is_refused_and_not_run(networks, tmp_path):
    marker = tmp_path / "pwned"
    synthesis_variables(networks)["4x4/Conv/weight"] = RunsShellCommand(f"touch {marker}")
    hostile = tmp_path / "hostile.pkl"
    write_networks(hostile, networks)
    assert b"system" in hostile.read_bytes()
    with pytest.raises(UnsafePickleError, match=r"system.*nothing from the file was executed"):
        gan_kit.load(hostile)
    assert not marker.exists()


def test_build_module_src_is_never_executed(networks, tmp_path):
    marker = tmp_path / "written-by-build-source"
    for network in networks:
        network.build_module_src = f"open({str(marker)!r}, 'w').write('ran')\n"
    hostile = tmp_path / "build-source.pkl"
    write_networks(hostile, networks)
    generator = gan_kit.load(hostile)
    assert generator.resolution == 64
    assert not marker.exists()


def test_object_arrays_are_refused(networks, tmp_path):
    synthesis_variables(networks)["noise0"] = np.array([1, 2], dtype=object)
    path = tmp_path / "objects.pkl"
    write_networks(path, networks)
    with pytest.raises(UnsafePickleError, match="dtype"):
        gan_kit.load(path)


def test_missing_file():
    with pytest.raises(CheckpointNotFoundError, match="no checkpoint at"):
        gan_kit.load("/nonexistent/network-snapshot.pkl")


def test_truncated_pickle(stylegan2_pickle, tmp_path):
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(stylegan2_pickle.read_bytes()[:1_000_000])
    with pytest.raises(CorruptCheckpointError, match="truncated or damaged"):
        gan_kit.load(truncated)


def test_corrupt_pickle_stream(stylegan2_pickle, tmp_path):
    data = bytearray(stylegan2_pickle.read_bytes())
    data[300:340] = b"\xff" * 40  # inside the opcode stream of the static kwargs
    corrupt = tmp_path / "corrupt.pkl"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(
        CorruptCheckpointError, match=r"could not be unpickled.*truncated or damaged"
    ):
        gan_kit.load(corrupt)


def test_pickle_of_something_else(tmp_path):
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(UnsupportedCheckpointError, match="not a checkpoint format gan_kit reads"):
        gan_kit.load(other)


def test_networks_not_in_a_triple(networks, tmp_path):
    path = tmp_path / "pair.pkl"
    write_networks(path, networks[:2])
    with pytest.raises(UnsupportedCheckpointError, match=r"not NVIDIA's \(G, D, Gs\) tuple"):
        gan_kit.load(path)


def test_a_text_file(tmp_path):
    text = tmp_path / "notes.pkl"
    text.write_text("not a checkpoint")
    with pytest.raises(UnsupportedCheckpointError, match="not a checkpoint format"):
        gan_kit.load(text)


def modified(networks, change) -> tuple:
    networks = copy.deepcopy(networks)
    change(networks)
    return networks


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            lambda n: n[2].static_kwargs.update(frobnicate=3),
            UnsupportedCheckpointError,
            r"static_kwargs include \['frobnicate'\]",
        ),
        (
            lambda n: n[2].static_kwargs.update(architecture="resnet"),
            UnsupportedCheckpointError,
            "architecture='resnet'",
        ),
        (
            lambda n: n[2].static_kwargs.update(label_size=10),
            UnsupportedCheckpointError,
            "label_size",
        ),
        (
            lambda n: n[2].static_kwargs.update(latent_size=128),
            CheckpointMismatchError,
            "latent_size=128 but the variables' shapes give 64",
        ),
        (
            lambda n: synthesis_variables(n).pop("8x8/Conv1/mod_bias"),
            CheckpointMismatchError,
            "missing synthesis/8x8/Conv1/mod_bias",
        ),
        (
            lambda n: synthesis_variables(n).update({"8x8/Extra/weight": np.zeros(3, np.float32)}),
            CheckpointMismatchError,
            "unexpected synthesis/8x8/Extra/weight",
        ),
        (
            lambda n: synthesis_variables(n).update(
                {"16x16/Conv1/weight": np.zeros((3, 3, 64, 8), np.float32)}
            ),
            CheckpointMismatchError,
            "16x16/Conv1/weight has shape",
        ),
        (
            lambda n: n[2].components.pop("synthesis"),
            UnsupportedCheckpointError,
            "no 'synthesis' component",
        ),
        (
            lambda n: n[2].components["mapping"].variables.clear(),
            CheckpointMismatchError,
            "not StyleGAN2's",
        ),
    ],
)
def test_checkpoints_that_do_not_fit_give_clear_errors(networks, tmp_path, change, error, message):
    path = tmp_path / "changed.pkl"
    write_networks(path, modified(networks, change))
    with pytest.raises(error, match=message):
        gan_kit.load(path)


def test_every_error_shares_one_base_class_and_is_exported():
    errors = [
        value
        for value in vars(gan_kit.errors).values()
        if isinstance(value, type) and issubclass(value, Exception)
    ]
    assert len(errors) >= 12
    for error in errors:
        assert issubclass(error, GanKitError)
        assert getattr(gan_kit, error.__name__) is error


def test_writes_are_atomic(networks, tmp_path):
    path = tmp_path / "snapshot.pkl"
    path.write_bytes(b"previous")
    broken = modified(networks, lambda n: synthesis_variables(n).update(bad=lambda: None))
    with pytest.raises(Exception):  # noqa: B017 - any pickling failure
        write_networks(path, broken)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot.pkl"]


def test_unknown_device():
    with pytest.raises(GanKitError, match="unknown device"):
        gan_kit.load(Path("whatever.pkl"), device="tpu:9")


@pytest.mark.parametrize("device", ["mps", "xpu", "cuda"])
def test_a_device_this_machine_lacks_is_a_clear_error(device):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(GanKitError, match=f"device '{device}' was asked for but is not available"):
        resolve_device(device)
