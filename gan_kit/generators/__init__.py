"""The generator architectures (StyleGAN2, BigGAN run39), their resampling ops, and the
kinds table that names them. Model math only: no file I/O (see `gan_kit.loading`)."""

from gan_kit.generators.biggan import BigGANConfig, BigGANGenerator, truncated_z
from gan_kit.generators.kinds import GENERATORS, KINDS, Generator, kind_of
from gan_kit.generators.stylegan2 import (
    NOISE_MODES,
    NoiseMode,
    StyleGAN2Config,
    StyleGAN2Generator,
)

__all__ = [
    "GENERATORS",
    "KINDS",
    "NOISE_MODES",
    "BigGANConfig",
    "BigGANGenerator",
    "Generator",
    "NoiseMode",
    "StyleGAN2Config",
    "StyleGAN2Generator",
    "kind_of",
    "truncated_z",
]
