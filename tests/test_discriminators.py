"""Discriminators: NVIDIA's TF D, ada's D and rosinality's d give the reference code's
scores (tests/data/discriminators, see its README); files without D say so."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from stylegan2_writers import write_rosinality

import gan_kit
from gan_kit.discriminators import StyleGAN2Discriminator, StyleGAN2DiscriminatorConfig
from gan_kit.errors import (
    CheckpointNotFoundError,
    CorruptCheckpointError,
    InvalidInputError,
    UnsafePickleError,
    UnsupportedCheckpointError,
)
from gan_kit.loading.stylegan2_tf_discriminator import (
    discriminator_from_tf,
    tf_network_from_discriminator,
)
from gan_kit.loading.tf_network_pickle import read_networks, write_networks

DATA = Path(__file__).resolve().parent / "data" / "discriminators"


@pytest.mark.parametrize("name", ["stylegan2-tf-d32.pkl", "ada-d16.pkl", "rosinality-d16.pt"])
def test_each_format_scores_as_its_reference_code(name):
    discriminator = gan_kit.load_discriminator(DATA / name, device="cpu")
    reference = torch.load(DATA / f"{Path(name).stem}-reference.pt")
    with torch.no_grad():
        scores = discriminator(reference["images"])
    assert scores.shape == reference["scores"].shape
    assert (scores - reference["scores"]).abs().max() <= 1e-4
    assert scores.std() > 1e-3  # the images are told apart: not a constant


def test_features_end_in_the_dense_layer_that_scores():
    discriminator = gan_kit.load_discriminator(DATA / "stylegan2-tf-d32.pkl", device="cpu")
    images = torch.load(DATA / "stylegan2-tf-d32-reference.pt")["images"][:4]
    with torch.no_grad():
        features = discriminator.features(images)
        scores = discriminator(images)
    assert [f.shape[-1] for f in features[:-1]] == [16, 8, 4, 4]
    assert torch.allclose(discriminator.output(features[-1]).squeeze(1), scores)


def test_tf_records_round_trip_exactly(tmp_path):
    config = StyleGAN2DiscriminatorConfig(resolution=16, channels=(8, 8, 4), dense_width=6)
    discriminator = StyleGAN2Discriminator(config)
    with torch.no_grad():
        for parameter in discriminator.parameters():
            parameter.normal_()
    back = discriminator_from_tf(tf_network_from_discriminator(discriminator))
    assert back.config == config
    images = torch.rand(4, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert (back(images) - discriminator(images)).abs().max() <= 1e-3 * discriminator(
            images
        ).abs().max()


def test_a_batch_the_minibatch_std_cannot_group_is_refused():
    discriminator = gan_kit.load_discriminator(DATA / "ada-d16.pkl", device="cpu")
    with pytest.raises(InvalidInputError, match="multiple of 4"):
        discriminator(torch.zeros(6, 3, 16, 16))
    with pytest.raises(InvalidInputError, match=r"\[batch, 3, 16, 16\]"):
        discriminator(torch.zeros(1, 3, 32, 32))


def test_the_bundled_demo_model_has_its_discriminator():
    discriminator = gan_kit.load_discriminator("demo-stylegan2", device="cpu")
    assert discriminator.resolution == 64
    faces = gan_kit.load("demo-stylegan2", device="cpu")(torch.randn(4, 128))
    with torch.no_grad():
        assert torch.isfinite(discriminator(faces)).all()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        ("biggan", "BigGAN generator file"),
        ("converted", "converted file"),
        ("rosinality-g", "generator only"),
        ("tf-without-d", "holds no variables"),
        ("text", "not a checkpoint with a discriminator"),
    ],
)
def test_files_without_a_discriminator_say_so(make, words, tmp_path, stylegan2_pickle):
    if make == "biggan":
        path = Path(__file__).resolve().parent / "data" / "conformance" / "biggan_tiny.bin"
    elif make == "converted":
        path = gan_kit.convert(stylegan2_pickle, tmp_path / "converted.safetensors")
    elif make == "rosinality-g":
        path = tmp_path / "g.pt"
        write_rosinality(path, read_networks(stylegan2_pickle)[2])
    elif make == "tf-without-d":
        path = tmp_path / "gs.pkl"
        g, d, gs = read_networks(stylegan2_pickle)
        d.variables = {}
        write_networks(path, (g, d, gs))
    else:
        path = tmp_path / "notes.txt"
        path.write_text("not a network")
    with pytest.raises(UnsupportedCheckpointError, match=words):
        gan_kit.load_discriminator(path, device="cpu")


def test_names_of_downloaded_models_and_missing_files_get_advice(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="original checkpoint"):
        gan_kit.load_discriminator("tadne-512")
    with pytest.raises(CheckpointNotFoundError, match="check the path"):
        gan_kit.load_discriminator(tmp_path / "missing.pkl")


def test_nan_weights_are_reported_as_damage(tmp_path):
    g, d, gs = read_networks(DATA / "stylegan2-tf-d32.pkl")
    d.variables["4x4/Conv/bias"] = np.full_like(d.variables["4x4/Conv/bias"], np.nan)
    write_networks(tmp_path / "nan.pkl", (g, d, gs))
    with pytest.raises(UnsupportedCheckpointError, match="NaN"):
        gan_kit.load_discriminator(tmp_path / "nan.pkl")


class _RunsShell:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_an_ada_pickle_running_a_shell_is_refused_unrun(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "hostile.pkl"
    head = b"\x80\x04torch_utils.persistence"  # looks like an ada pickle to the sniffer
    with path.open("wb") as file:
        pickle.dump({"D": _RunsShell(f"touch {marker}"), "note": head.decode("latin1")}, file)
    with pytest.raises(UnsafePickleError, match="system"):
        gan_kit.load_discriminator(path)
    assert not marker.exists()


def test_corrupt_files_are_reported_as_damage(tmp_path):
    data = (DATA / "ada-d16.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises((CorruptCheckpointError, UnsupportedCheckpointError)):
        gan_kit.load_discriminator(tmp_path / "cut.pkl")
