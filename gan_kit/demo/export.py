"""Checking the trained demo generators once written in the formats the real models were
published in (StyleGAN2: `gan_kit.loading.stylegan2_tf.write_generator`, an NVIDIA TF
pickle; BigGAN: `gan_kit.loading.biggan_highcwu_writer.write_highcwu`, a HighCWu state
dict): `verify_export` loads a written file through `gan_kit.load` and compares its images
with the generator's own.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

import gan_kit
from gan_kit.generators.biggan import BigGANGenerator

__all__ = ["verify_export"]


@torch.no_grad()
def verify_export(path: Path, generator: nn.Module, count: int = 8, seed: int = 0) -> float:
    """Max abs difference between images of `generator` and of `gan_kit.load(path)`, for
    `count` seeded latents (and classes, for BigGAN). Both run on the CPU."""
    loaded = gan_kit.load(path, device="cpu")
    if type(loaded) is not type(generator):
        raise TypeError(f"{path} loads as {type(loaded).__name__}, not {type(generator).__name__}")
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(count, generator.z_dim, generator=rng)
    generator = generator.cpu().eval()
    if isinstance(generator, BigGANGenerator):
        classes = torch.randint(generator.n_class, (count,), generator=rng)
        expected, actual = generator(z, classes), loaded(z, classes)
    else:
        expected, actual = generator(z, noise_mode="const"), loaded(z, noise_mode="const")
    return float((expected - actual).abs().max())
