"""StyleGAN2-ext (This Anime Does Not Exist) pickles: settings from the pickled source.

The files here are TADNE-shaped at a small size: z = w = 96, 4 mapping layers, widened
channels, `resolution_h`/`resolution_w` in the static kwargs, size kwargs that disagree
with the shapes (the ext source overrides them), and `normalize_latents=False` only as
the default in the build source, as StyleGAN2-ext's G_mapping has it.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from hub_cache import hand_built_hub_cache
from stylegan2_writers import write_rosinality

import gan_kit
from gan_kit.errors import CheckpointMismatchError, UnsupportedCheckpointError
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from gan_kit.loading.converted import write_converted
from gan_kit.loading.stylegan2_tf import tf_networks_from_generator
from gan_kit.loading.tf_build_source import build_function_defaults
from gan_kit.loading.tf_network_pickle import TFNetwork, write_networks
from gan_kit.zoo import converted_cache_path, get_model

CONFIG = StyleGAN2Config(
    resolution=32, z_dim=96, w_dim=96, mapping_layers=4, channels=(64, 64, 48, 24)
)

# Shaped like the real module: the defaults sit in the build functions' signatures. The
# module-level line would leave a marker if anything ever ran this source.
EXT_SOURCE = """
import os
open(os.environ["GAN_KIT_TEST_MARKER"], "w").write("the build source was executed")

def G_main(latents_in, labels_in, truncation_psi=0.5, components=dnnlib.EasyDict(), **kwargs):
    pass

def G_mapping(latents_in, labels_in, latent_size=512, label_size=0, dlatent_size=512,
              mapping_layers=8, mapping_lrmul={mapping_lrmul}, mapping_nonlinearity="lrelu",
              normalize_latents={normalize_latents}, dtype="float32", **_kwargs):
    pass

def G_synthesis_stylegan2(dlatents_in, dlatent_size=512, num_channels=3, resolution=1024,
                          architecture={architecture}, nonlinearity="lrelu",
                          resample_kernel={resample_kernel}, fused_modconv=True, **_kwargs):
    num_channels = int(os.environ["NUM_CHANNELS"]) if "NUM_CHANNELS" in os.environ else 3
"""


def ext_source(**defaults: str) -> str:
    """EXT_SOURCE with these defaults (Python literals as text), StyleGAN2-ext's elsewhere."""
    ext_defaults = {
        "normalize_latents": "False",
        "mapping_lrmul": "0.01",
        "architecture": "'skip'",
        "resample_kernel": "[1, 3, 3, 1]",
    }
    return EXT_SOURCE.format(**(ext_defaults | defaults))


@pytest.fixture(scope="module")
def weights() -> StyleGAN2Generator:
    """Random weights at the init scales (not the init values, so every variable matters)."""
    generator = StyleGAN2Generator(CONFIG)
    torch.manual_seed(3)
    with torch.no_grad():
        for tensor in generator.state_dict().values():
            spread = tensor.std() if tensor.numel() > 1 else 0
            if spread > 0:
                tensor.copy_(torch.randn_like(tensor) * spread)
            else:  # biases, noise strengths, the affine's +1
                tensor.add_(torch.randn_like(tensor) * 0.1)
    return generator


def ext_networks(weights: StyleGAN2Generator, source: str, **kwargs) -> tuple[TFNetwork, ...]:
    networks = copy.deepcopy(tf_networks_from_generator(weights))
    stated = {"resolution_h": 32, "resolution_w": 32, "latent_size": 512, "dlatent_size": 512}
    stated |= kwargs
    for network in networks:
        for part in (network, *network.components.values()):
            part.static_kwargs.pop("normalize_latents", None)
            part.static_kwargs.update(stated)
            part.build_module_src = source
    return networks


@pytest.fixture()
def marker(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "executed.txt"
    monkeypatch.setenv("GAN_KIT_TEST_MARKER", str(path))
    return path


def images(generator: StyleGAN2Generator) -> torch.Tensor:
    """Images of z far from unit length, so that normalising z or not shows plainly."""
    z = 3 * torch.from_numpy(np.random.RandomState(5).randn(2, generator.z_dim)).float()
    return generator(z, psi=0.8)


def with_normalization(weights: StyleGAN2Generator, enabled: bool) -> StyleGAN2Generator:
    generator = StyleGAN2Generator(dataclasses.replace(CONFIG, normalize_z=enabled))
    generator.load_state_dict(weights.state_dict())
    return generator


def test_an_ext_pickle_loads_with_the_settings_of_its_source(weights, tmp_path, marker):
    path = tmp_path / "aydao-like.pkl"
    write_networks(path, ext_networks(weights, ext_source()))
    loaded = gan_kit.load(path, device="cpu")
    assert loaded.config == dataclasses.replace(CONFIG, normalize_z=False)  # sizes from shapes
    expected = images(with_normalization(weights, False))
    assert (images(loaded) - expected).abs().max() <= 1e-5
    # Normalising z would have changed the images: the setting is really read.
    assert (images(with_normalization(weights, True)) - expected).abs().max() > 0.02
    assert not marker.exists()


def test_the_source_default_counts_both_ways_and_a_stated_kwarg_wins(weights, tmp_path, marker):
    path = tmp_path / "normalising.pkl"
    write_networks(path, ext_networks(weights, ext_source(normalize_latents="True")))
    assert gan_kit.load(path, device="cpu").config.normalize_z is True
    normalising = ext_source(normalize_latents="True")
    write_networks(path, ext_networks(weights, normalising, normalize_latents=False))
    assert gan_kit.load(path, device="cpu").config.normalize_z is False
    assert not marker.exists()


def test_without_a_readable_source_nvidia_defaults_apply(weights, tmp_path):
    path = tmp_path / "no-source.pkl"
    write_networks(path, ext_networks(weights, "def G_mapping(:\n"))
    assert gan_kit.load(path, device="cpu").config.normalize_z is True


def test_a_non_square_ext_generator_is_refused(weights, tmp_path):
    path = tmp_path / "wide.pkl"
    write_networks(path, ext_networks(weights, ext_source(), resolution_w=64))
    with pytest.raises(UnsupportedCheckpointError, match=r"resolution_w=64: a non-square"):
        gan_kit.load(path, device="cpu")
    write_networks(path, ext_networks(weights, ext_source(), resolution_h=64, resolution_w=64))
    with pytest.raises(CheckpointMismatchError, match=r"64x64 but the variables' shapes give 32"):
        gan_kit.load(path, device="cpu")


def test_an_unsupported_default_in_the_source_is_refused(weights, tmp_path):
    path = tmp_path / "resnet.pkl"
    write_networks(path, ext_networks(weights, ext_source(architecture="'resnet'")))
    with pytest.raises(
        UnsupportedCheckpointError, match="the build source's default architecture='resnet'"
    ):
        gan_kit.load(path, device="cpu")


@pytest.mark.parametrize(
    ("key", "literal", "expected"),
    [
        ("normalize_latents", "'False'", "True or False"),
        ("mapping_lrmul", "0", "a positive number"),
        ("mapping_lrmul", "None", "a positive number"),
        ("resample_kernel", "1", "a list of up to 16 numbers"),
        ("resample_kernel", "[]", "a list of up to 16 numbers"),
    ],
)
def test_settings_of_the_wrong_kind_are_refused(weights, tmp_path, key, literal, expected):
    path = tmp_path / "odd.pkl"
    write_networks(path, ext_networks(weights, ext_source(**{key: literal})))
    with pytest.raises(
        UnsupportedCheckpointError, match=rf"the build source's default {key}=.* is not {expected}"
    ):
        gan_kit.load(path, device="cpu")


def test_a_huge_or_mistyped_build_source_is_refused_unparsed(weights, tmp_path):
    path = tmp_path / "huge.pkl"
    write_networks(path, ext_networks(weights, "x = 1\n" * 200_000))
    with pytest.raises(UnsupportedCheckpointError, match="build source is 1,200,000 characters"):
        gan_kit.load(path, device="cpu")
    networks = ext_networks(weights, ext_source())
    networks[2].components["mapping"].build_module_src = b"def G_mapping(): pass"
    write_networks(path, networks)
    with pytest.raises(UnsupportedCheckpointError, match="of the wrong type"):
        gan_kit.load(path, device="cpu")


def test_only_literal_defaults_are_read():
    source = "def build(x, a=1, b=[1, 3], *, c=make(), d='s', e=None):\n    pass\n"
    assert build_function_defaults(source, "pkg.module.build") == {
        "a": 1,
        "b": [1, 3],
        "d": "s",
        "e": None,
    }
    assert build_function_defaults(source, "pkg.module.other") == {}
    assert build_function_defaults("", "pkg.module.build") == {}
    redefined = "def build(a=1):\n    pass\ndef build(a=2):\n    pass\n"
    assert build_function_defaults(redefined, "build") == {"a": 2}  # the last one, as Python


def test_tadne_from_the_hub_matches_its_pickle(weights, tmp_path, monkeypatch):
    """The zoo's .pt of TADNE gives the same images as the ext pickle of the same weights."""
    monkeypatch.setenv("GAN_KIT_CACHE", str(tmp_path / "gan_kit"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    networks = ext_networks(weights, ext_source())
    pickle_path, pt_path = tmp_path / "tadne.pkl", tmp_path / "tadne.pt"
    write_networks(pickle_path, networks)
    write_rosinality(pt_path, networks[2])
    source = get_model("tadne-512").default_source
    hand_built_hub_cache(tmp_path / "hub", source.location, source.filename, pt_path)

    from_hub = gan_kit.load("tadne-512", device="cpu")
    assert from_hub.config.normalize_z is False
    assert (images(from_hub) - images(gan_kit.load(pickle_path, device="cpu"))).abs().max() <= 1e-5
    again = gan_kit.load("tadne-512", device="cpu")  # from the converted cache
    assert again.config.normalize_z is False and torch.equal(images(again), images(from_hub))
    by_address = gan_kit.load(f"hf://{source.location}/{source.filename}", device="cpu")
    assert by_address.config.normalize_z is False  # the registry's setting for that file
    assert torch.equal(images(by_address), images(from_hub))

    # A conversion cached before the registry said so (z normalised) is corrected on load.
    stale = gan_kit.load(pt_path, device="cpu")  # by path: rosinality's reading
    assert stale.config.normalize_z is True
    write_converted(stale, converted_cache_path("tadne-512"))
    corrected = gan_kit.load("tadne-512", device="cpu")
    assert corrected.config.normalize_z is False
    assert torch.equal(images(corrected), images(from_hub))
