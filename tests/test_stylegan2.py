"""The StyleGAN2 port against NVIDIA's reference outputs, and its API semantics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

import gan_kit
from gan_kit.errors import InvalidInputError
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from gan_kit.latents import z_from_seeds
from gan_kit.loading.stylegan2_tf import write_generator
from gan_kit.loading.tf_network_pickle import read_networks, write_networks

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def generator(stylegan2_pickle):
    return gan_kit.load(stylegan2_pickle, device="cpu")


def max_error(actual: torch.Tensor, expected: np.ndarray) -> float:
    return float(np.abs(actual.detach().cpu().numpy() - expected).max())


def test_dimensions_come_from_the_checkpoint(generator, stylegan2_reference):
    assert (generator.z_dim, generator.w_dim, generator.num_ws, generator.resolution) == (
        64,
        64,
        10,
        64,
    )
    assert generator.config.channels == (64, 64, 64, 64, 32)
    np.testing.assert_array_equal(generator.w_avg.numpy(), stylegan2_reference["w_avg"])
    assert not any(p.requires_grad for p in generator.parameters())
    assert not generator.training


def test_seeds_give_nvidias_z(stylegan2_reference):
    z = z_from_seeds(stylegan2_reference["seeds"].tolist(), 64)
    np.testing.assert_array_equal(z.numpy(), stylegan2_reference["z"])


def test_mapping_with_truncation_matches_reference(generator, stylegan2_reference):
    z = z_from_seeds([0, 1, 2], generator.z_dim)
    ws = generator.mapping(z, psi=float(stylegan2_reference["psi"]))
    assert ws.shape == (3, 10, 64)
    assert max_error(ws, stylegan2_reference["ws"]) <= TOLERANCE


@pytest.mark.parametrize(("noise_mode", "key"), [("const", "img_const"), ("none", "img_none")])
def test_synthesis_matches_reference(generator, stylegan2_reference, noise_mode, key):
    image = generator.synthesis(torch.from_numpy(stylegan2_reference["ws"]), noise_mode=noise_mode)
    assert image.shape == (3, 3, 64, 64) and image.dtype == torch.float32
    assert max_error(image, stylegan2_reference[key]) <= TOLERANCE


def test_style_mixing_matches_reference(generator, stylegan2_reference):
    ws = torch.from_numpy(stylegan2_reference["ws"][1:2].copy())
    ws[:, :4] = torch.from_numpy(stylegan2_reference["ws"][0:1, :4])
    image = generator.synthesis(ws, noise_mode="const")
    assert max_error(image, stylegan2_reference["img_mix_coarse0_from_seed0"]) <= TOLERANCE


@pytest.mark.parametrize("noise_mode", ["const", "none"])
def test_batched_and_one_by_one_rendering_agree(generator, stylegan2_reference, noise_mode):
    # One by one, styles modulate the weights; batched, they modulate the activations.
    ws = torch.from_numpy(stylegan2_reference["ws"]) + torch.randn(3, 10, 64) * 0.3
    batched = generator.synthesis(ws, noise_mode=noise_mode, one_by_one=False)
    one_by_one = generator.synthesis(ws, noise_mode=noise_mode, one_by_one=True)
    torch.testing.assert_close(one_by_one, batched, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(batched[0], batched[1])


def test_batched_path_matches_reference(generator, stylegan2_reference):
    ws = torch.from_numpy(stylegan2_reference["ws"])
    image = generator.synthesis(ws, one_by_one=False)
    assert max_error(image, stylegan2_reference["img_const"]) <= TOLERANCE


def test_full_call_is_mapping_then_synthesis(generator, stylegan2_reference):
    image = generator(z_from_seeds([0, 1, 2], 64), psi=0.7)
    assert max_error(image, stylegan2_reference["img_const"]) <= TOLERANCE


def tf_mapping(variables: dict[str, np.ndarray], z: np.ndarray, lrmul: float) -> np.ndarray:
    """NVIDIA's TF G_mapping written out in numpy: normalised z through lrelu dense layers."""
    x = z / np.sqrt(np.mean(z**2, axis=1, keepdims=True) + 1e-8)
    for i in range(sum(name.endswith("/weight") for name in variables)):
        weight, bias = variables[f"Dense{i}/weight"], variables[f"Dense{i}/bias"]
        x = x @ weight * (lrmul / np.sqrt(weight.shape[0])) + bias * lrmul
        x = np.where(x > 0, x, 0.2 * x) * np.sqrt(2)
    return x


def test_mapping_follows_the_tf_formula_where_z_matters(stylegan2_pickle, tmp_path):
    # The fixture's random mapping weights, shrunk 100x per layer by lrmul 0.01, make w
    # independent of z; rescaled non-square weights make every seed count here.
    networks = read_networks(stylegan2_pickle)
    mapping = networks[2].components["mapping"]
    rng = np.random.default_rng(0)
    widths = [64, 48, 40, 32, 64, 64, 64, 64, 64]
    for i in range(8):
        mapping.variables[f"Dense{i}/weight"] = (
            rng.standard_normal((widths[i], widths[i + 1])).astype(np.float32) * 100
        )
        mapping.variables[f"Dense{i}/bias"] = rng.standard_normal(widths[i + 1]).astype(np.float32)
    path = tmp_path / "mapping.pkl"
    write_networks(path, networks)
    generator = gan_kit.load(path)
    assert generator.config.mapping_widths == (48, 40, 32, 64, 64, 64, 64)
    z = z_from_seeds([0, 1, 2], 64)
    ws = generator.mapping(z)
    expected = tf_mapping(mapping.variables, z.numpy().astype(np.float64), lrmul=0.01)
    assert max_error(ws[:, 0], expected) <= TOLERANCE * np.abs(expected).max()
    assert (ws[0] - ws[1]).abs().max() > 0.1 * ws.abs().max()


def test_truncation_cutoff_and_psi_beyond_one(generator):
    z = z_from_seeds([5, 6], generator.z_dim)
    plain = generator.mapping(z)
    w_avg = generator.w_avg
    cut = generator.mapping(z, psi=0.0, cutoff=4)
    torch.testing.assert_close(cut[:, :4], w_avg.expand(2, 4, -1))
    torch.testing.assert_close(cut[:, 4:], plain[:, 4:])
    exaggerated = generator.mapping(z, psi=1.5)
    torch.testing.assert_close(exaggerated, w_avg + 1.5 * (plain - w_avg))


def test_psi_zero_renders_the_average_image_for_every_seed(generator):
    images = generator(z_from_seeds([3, 4], generator.z_dim), psi=0.0)
    torch.testing.assert_close(images[0], images[1])


def test_noise_modes(generator, stylegan2_reference):
    ws = torch.from_numpy(stylegan2_reference["ws"][:1])
    torch.manual_seed(0)
    first = generator.synthesis(ws, noise_mode="random")
    second = generator.synthesis(ws, noise_mode="random")
    const = generator.synthesis(ws, noise_mode="const")
    assert not torch.equal(first, second)
    assert not torch.equal(first, const)
    torch.testing.assert_close(generator.synthesis(ws, noise_mode="const"), const, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: g.mapping(torch.zeros(2, 63)), "z must have shape"),
        (lambda g: g.mapping(torch.zeros(2, 64), psi=float("nan")), "psi must be a finite"),
        (
            lambda g: g.mapping(torch.zeros(2, 64), cutoff=11),
            "cutoff must be a whole number from 0 to 10",
        ),
        (lambda g: g.mapping(torch.zeros(2, 64), cutoff=1.5), "got 1.5"),
        (lambda g: g.synthesis(torch.zeros(2, 9, 64)), "ws must have shape"),
        (lambda g: g.synthesis(torch.zeros(1, 10, 64), noise_mode="fresh"), "noise_mode must be"),
    ],
)
def test_bad_arguments_give_clear_errors(generator, call, message):
    with pytest.raises(InvalidInputError, match=message):
        call(generator)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(InvalidInputError, match="seeds must be integers"):
        z_from_seeds([seed], 8)


def random_generator(resolution: int, seed: int = 0) -> StyleGAN2Generator:
    """A small generator with random weights, like a real one but tiny."""
    blocks = int(np.log2(resolution)) - 1
    channels = tuple(max(16 // 2 ** max(0, k - 3), 4) for k in range(blocks))
    config = StyleGAN2Config(
        resolution=resolution, z_dim=16, w_dim=16, mapping_layers=2, channels=channels
    )
    generator = StyleGAN2Generator(config)
    torch.manual_seed(seed)
    with torch.no_grad():
        for tensor in generator.state_dict().values():
            tensor.copy_(torch.randn_like(tensor) * 0.5)
    return generator.eval()


@pytest.mark.parametrize("resolution", [4, 8, 128, 1024])
def test_any_resolution_round_trips_through_a_tf_pickle(tmp_path, resolution):
    original = random_generator(resolution)
    path = tmp_path / f"network-{resolution}.pkl"
    write_generator(path, original)
    loaded = gan_kit.load(path, device="cpu")
    assert loaded.config == original.config
    assert loaded.num_ws == 2 * int(np.log2(resolution)) - 2
    z = z_from_seeds([1], 16)
    with torch.no_grad():
        expected = original(z)
        actual = loaded(z)
    assert actual.shape == (1, 3, resolution, resolution)
    # Folding and unfolding the weight gains rounds in float32: compare relative to the scale.
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5 * float(expected.abs().max()))


def test_gradients_reach_the_weights_when_training():
    generator = random_generator(8).requires_grad_(True)
    generator(z_from_seeds([0, 1], 16)).square().mean().backward()
    conv = generator.synthesis.blocks[1].conv0
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0


def test_cached_kernels_follow_weight_changes():
    generator = random_generator(8)
    z = z_from_seeds([0], 16)
    before = generator(z)
    with torch.no_grad():
        generator.synthesis.blocks[1].conv0.weight.add_(0.5)
        generator.synthesis.blocks[1].conv1.weight.neg_()
    assert not torch.allclose(generator(z), before)


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("factor", torch.ones(()))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight * self.factor


def test_parametrized_weights_are_not_served_from_the_cache():
    generator = random_generator(8)
    conv = generator.synthesis.blocks[1].conv1
    parametrize.register_parametrization(conv, "weight", Scaled())
    z = z_from_seeds([0], 16)
    with torch.no_grad():
        before = generator(z)
        conv.parametrizations.weight[0].factor.fill_(-1.0)
        after = generator(z)
    assert not torch.allclose(before, after)
    # Not even cached: a new weight tensor may reuse a freed one's address and version.
    assert conv._derived is None
    assert generator.synthesis.blocks[1].conv0._derived is not None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(stylegan2_pickle, stylegan2_reference, monkeypatch):
    # cuDNN may use TF32 for float32 convolutions (PyTorch's default): compare in full float32.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    generator = gan_kit.load(stylegan2_pickle, device="cuda")
    assert generator.w_avg.device.type == "cuda"
    ws = torch.from_numpy(stylegan2_reference["ws"]).cuda()
    for one_by_one in (False, True):
        image = generator.synthesis(ws, one_by_one=one_by_one)
        assert max_error(image, stylegan2_reference["img_const"]) <= TOLERANCE
