"""Write a `BigGANGenerator` in HighCWu's `anime-biggan-pytorch` layout, the inverse of
`gan_kit.loading.biggan_highcwu`: kernels in PyTorch conv layout with their
power-iteration vector `weight_u`, batch-norm statistics as compare_gan's accumulated
sums with a counter (the demo BigGAN is published this way).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from gan_kit.files import atomic_path
from gan_kit.generators.biggan import BigGANGenerator, StandingStatistics
from gan_kit.loading.biggan_highcwu import highcwu_layout

__all__ = ["highcwu_state_dict", "write_highcwu"]


def _power_iteration_vector(weight: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The converged `u` of compare_gan's spectral norm for a HighCWu-layout `weight`.

    compare_gan views a kernel as [kh*kw*in, out] (TF order) and keeps u as the top left
    singular vector [rows, 1] when rows <= out, else the top right one [1, out].
    """
    matrix = weight.permute(*range(2, weight.dim()), 1, 0).reshape(-1, weight.shape[0])
    left, _, right_t = torch.linalg.svd(matrix.double(), full_matrices=False)
    vector = left[:, 0] if shape[1] == 1 else right_t[0]
    return vector.float().reshape(shape)


def _accumulators(statistics: StandingStatistics, batches: int) -> dict[str, Tensor]:
    """compare_gan's accumulators (sums over `batches` batches) and torch's running stats."""
    return {
        "accumulated_mean": statistics.mean * batches,
        "accumulated_var": statistics.var * batches,
        "accumulated_counter": torch.tensor([float(batches)]),
        "running_mean": statistics.mean.clone(),
        "running_var": statistics.var.clone(),
        "num_batches_tracked": torch.tensor(batches),
    }


def highcwu_state_dict(generator: BigGANGenerator, statistics_batches: int) -> dict[str, Tensor]:
    """`generator` as a HighCWu-layout state dict.

    The generator's kernels must be spectrally normalised (largest singular value 1, as
    training with spectral norm leaves them): the loader divides each by its own. Its BN
    buffers hold standing statistics averaged over `statistics_batches` batches.
    """
    width = generator.channels[0]
    state: dict[str, Tensor] = {
        "embed_y.weight": generator.class_embedding.weight,
        # Our dense output is NCHW; HighCWu's (like TF's) is NHWC.
        "noise_fc.weight": generator.noise_fc.weight.reshape(width, 4, 4, -1)
        .permute(1, 2, 0, 3)
        .reshape(16 * width, -1),
        "noise_fc.module.bias": generator.noise_fc.bias.reshape(width, 4, 4)
        .permute(1, 2, 0)
        .flatten(),
    }

    def conv(key: str, module: nn.Module) -> None:
        state[f"{key}.weight"] = module.weight
        state[f"{key}.module.bias"] = module.bias

    def batch_norm(key: str, module: StandingStatistics) -> None:
        for name, tensor in _accumulators(module, statistics_batches).items():
            state[f"{key}.{name}"] = tensor

    for index, block in enumerate(generator.blocks):
        key = f"blocks.{index}"
        for number, norm in ((1, block.norm1), (2, block.norm2)):
            batch_norm(f"{key}.cond_norm{number}.bn_in_cond", norm)
            state[f"{key}.cond_norm{number}.gamma_embed.weight"] = norm.gamma.weight
            state[f"{key}.cond_norm{number}.beta_embed.weight"] = norm.beta.weight
        # Our stride-2 transposed conv is their zero-insertion unpool + 3x3 conv, flipped.
        state[f"{key}.conv0.weight"] = block.up_conv.weight.transpose(0, 1).flip(2, 3)
        state[f"{key}.conv0.module.bias"] = block.up_conv.bias
        conv(f"{key}.conv1", block.conv)
        conv(f"{key}.conv_sc", block.shortcut)
    if generator.attention is not None:
        key = f"blocks.{generator.attention_block - 1}.attention"
        attention = generator.attention
        for theirs, module in (
            ("theta", attention.theta),
            ("phi", attention.phi),
            ("g", attention.g),
            ("o_conv", attention.out),
        ):
            state[f"{key}.{theirs}.weight"] = module.weight
        state[f"{key}.gamma"] = attention.sigma.reshape(1)
    state["output_layer_bn.weight"] = generator.final_norm.weight
    state["output_layer_bn.bias"] = generator.final_norm.bias
    batch_norm("output_layer_bn", generator.final_norm)
    conv("output_layer_conv", generator.final_conv)

    _, optional = highcwu_layout(generator)
    for key, shape in optional.items():
        if key.endswith(".weight_u"):
            state[key] = _power_iteration_vector(state[key.removesuffix("_u")], shape)
    return {key: tensor.detach().cpu().contiguous().clone() for key, tensor in state.items()}


def write_highcwu(path: Path, generator: BigGANGenerator, statistics_batches: int) -> None:
    """`torch.save` the HighCWu-layout state dict of `generator` to `path`, atomically
    (replacing `path`)."""
    state = highcwu_state_dict(generator, statistics_batches)
    with atomic_path(path, overwrite=True) as temporary:
        torch.save(state, temporary)
