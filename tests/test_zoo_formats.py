"""Other projects' StyleGAN2 layouts: the same weights must give the same images."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import torch
from stylegan2_writers import rosinality_state_dict, write_ada_pickle, write_rosinality

import gan_kit
from gan_kit.errors import CheckpointMismatchError, UnsafePickleError
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from gan_kit.loading.stylegan2_tf import generator_from_tf, tf_networks_from_generator
from gan_kit.loading.tf_network_pickle import read_networks


@pytest.fixture(scope="module")
def gs(stylegan2_pickle):
    return read_networks(stylegan2_pickle)[2]


@pytest.fixture(scope="module")
def from_tf(stylegan2_pickle):
    return gan_kit.load(stylegan2_pickle, device="cpu")


def render(generator, reference) -> torch.Tensor:
    ws = torch.from_numpy(reference["ws"])
    return generator.synthesis(ws, noise_mode="const")


def test_rosinality_pt_gives_the_tf_pickle_images(gs, from_tf, tmp_path, stylegan2_reference):
    path = tmp_path / "g.pt"
    write_rosinality(path, gs)
    generator = gan_kit.load(path, device="cpu")
    assert generator.config == from_tf.config
    ours = render(generator, stylegan2_reference)
    assert (ours - render(from_tf, stylegan2_reference)).abs().max() <= 1e-5
    assert np.abs(ours.numpy() - stylegan2_reference["img_const"]).max() <= 1e-4
    z = torch.from_numpy(stylegan2_reference["z"])
    mapped = generator.mapping(z, psi=float(stylegan2_reference["psi"]))
    assert np.abs(mapped.numpy() - stylegan2_reference["ws"]).max() <= 1e-5


def test_a_bare_rosinality_state_dict_loads_and_warns_about_latent_avg(gs, from_tf, tmp_path):
    path = tmp_path / "bare.pt"
    write_rosinality(path, gs, nested=False)
    with pytest.warns(UserWarning, match="no latent_avg"):
        generator = gan_kit.load(path, device="cpu")
    assert torch.equal(generator.w_avg, torch.zeros(from_tf.w_dim))
    ws = from_tf.mapping(torch.randn(1, from_tf.z_dim))
    assert (generator.synthesis(ws) - from_tf.synthesis(ws)).abs().max() <= 1e-5


def test_the_up_conv_kernels_must_be_flipped_back(gs, tmp_path, stylegan2_reference):
    """Without the flip, a flipped-kernel file would render differently: the test can fail."""
    state = rosinality_state_dict(gs)
    state["convs.0.conv.weight"] = state["convs.0.conv.weight"].flip(3, 4)
    path = tmp_path / "unflipped.pt"
    torch.save({"g_ema": state, "latent_avg": torch.zeros(gs.variables["dlatent_avg"].shape)}, path)
    images = render(gan_kit.load(path, device="cpu"), stylegan2_reference)
    assert np.abs(images.numpy() - stylegan2_reference["img_const"]).max() > 1e-3


def test_wider_rosinality_generators_are_sized_from_their_shapes(tmp_path):
    """TADNE-like sizes: z = w = 96, 4 mapping layers, channels no preset names."""
    config = StyleGAN2Config(
        resolution=32, z_dim=96, w_dim=96, mapping_layers=4, channels=(48, 40, 24, 16)
    )
    gs = tf_networks_from_generator(StyleGAN2Generator(config))[2]
    rng = np.random.default_rng(1)
    for part in (gs, *gs.components.values()):
        for name, value in part.variables.items():
            part.variables[name] = rng.standard_normal(value.shape).astype(np.float32)
    path = tmp_path / "wide.pt"
    write_rosinality(path, gs)
    loaded = gan_kit.load(path, device="cpu")
    assert loaded.config == config
    reference = generator_from_tf(gs)
    z = torch.randn(2, 96, generator=torch.Generator().manual_seed(0))
    expected = reference(z, psi=0.5)  # random weights: values far beyond [-1, 1]
    assert (loaded(z, psi=0.5) - expected).abs().max() <= 1e-6 * expected.abs().max()


def test_a_missing_tensor_is_named(gs, tmp_path):
    state = rosinality_state_dict(gs)
    del state["convs.1.activate.bias"]
    path = tmp_path / "broken.pt"
    torch.save({"g_ema": state, "latent_avg": torch.zeros(64)}, path)
    with pytest.raises(CheckpointMismatchError, match=r"convs\.1\.activate\.bias"):
        gan_kit.load(path, device="cpu")


class _Hostile:
    def __reduce__(self):
        return (print, ("pwned",))


def test_python_objects_in_a_rosinality_file_are_refused_unrun(gs, tmp_path, capsys):
    state = rosinality_state_dict(gs)
    path = tmp_path / "hostile.pt"
    torch.save({"g_ema": state, "args": _Hostile()}, path)
    with pytest.raises(UnsafePickleError, match="besides tensors"):
        gan_kit.load(path, device="cpu")
    assert "pwned" not in capsys.readouterr().out


def test_ada_pickle_gives_the_tf_pickle_images(gs, from_tf, tmp_path, stylegan2_reference):
    path = tmp_path / "network-snapshot.pkl"
    write_ada_pickle(path, gs)
    assert b"never run" in path.read_bytes()  # the embedded source is there, and not run
    generator = gan_kit.load(path, device="cpu")
    assert generator.config == from_tf.config
    ours = render(generator, stylegan2_reference)
    assert (ours - render(from_tf, stylegan2_reference)).abs().max() <= 1e-5
    assert np.abs(ours.numpy() - stylegan2_reference["img_const"]).max() <= 1e-4
    assert torch.equal(generator.w_avg, from_tf.w_avg)


def test_ada_and_rosinality_files_of_the_same_weights_agree(gs, tmp_path):
    write_ada_pickle(tmp_path / "ada.pkl", gs)
    write_rosinality(tmp_path / "rosinality.pt", gs)
    ada, rosinality = (
        gan_kit.load(tmp_path / n, device="cpu") for n in ("ada.pkl", "rosinality.pt")
    )
    z = torch.randn(2, ada.z_dim, generator=torch.Generator().manual_seed(3))
    assert (ada(z, psi=0.6) - rosinality(z, psi=0.6)).abs().max() <= 1e-5


def test_an_ada_pickle_calling_os_system_is_refused_and_not_run(gs, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "hostile.pkl"
    write_ada_pickle(path, gs, progress=_RunsShell(f"touch {marker}"))
    with pytest.raises(UnsafePickleError, match=r"system"):
        gan_kit.load(path, device="cpu")
    assert not marker.exists()


def test_a_tensor_storage_hiding_code_is_refused(gs, tmp_path):
    """torch's own _load_from_bytes would torch.load these bytes without restriction."""
    marker = tmp_path / "pwned"
    path = tmp_path / "hostile_storage.pkl"
    write_ada_pickle(path, gs, progress=_StorageHiding(_RunsShell(f"touch {marker}")))
    with pytest.raises(UnsafePickleError, match="besides its data"):
        gan_kit.load(path, device="cpu")
    assert not marker.exists()


class _RunsShell:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _StorageHiding:
    """Pickles as torch.storage._load_from_bytes(torch.save(payload))."""

    def __init__(self, payload):
        buffer = io.BytesIO()
        torch.save(payload, buffer, _use_new_zipfile_serialization=False)
        self.data = buffer.getvalue()

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (self.data,))
