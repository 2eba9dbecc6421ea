"""The demo models in their training form, and the discriminator that trains them.

The generators are gan_kit's own classes (the architectures the loaders build) at tiny
widths, with their weights reparametrized for training (see `gan_kit.demo.weights`):
equalized learning rate for StyleGAN2, spectral norm for BigGAN, as each was trained.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_kit.demo.weights import equalize, spectral_normalise
from gan_kit.generators.biggan import BigGANConfig, BigGANGenerator
from gan_kit.generators.stylegan2 import (
    ModulatedConv2d,
    StyleConv,
    StyleGAN2Config,
    StyleGAN2Generator,
)

__all__ = [
    "MAPPING_LR_MULTIPLIER",
    "STYLEGAN2_CONFIG",
    "Discriminator",
    "biggan_config",
    "trainable_biggan",
    "trainable_stylegan2",
]

STYLEGAN2_CONFIG = StyleGAN2Config(
    resolution=64, z_dim=128, w_dim=128, mapping_layers=4, channels=(128, 128, 64, 32, 16)
)
MAPPING_LR_MULTIPLIER = 0.01  # NVIDIA's: the mapping network learns 100x slower


def biggan_config(n_class: int) -> BigGANConfig:
    """The demo BigGAN's size: 64 px has 4 blocks, so z has 5 chunks of 20 (z_dim 100);
    attention after B3 (32 x 32), the second-to-last block, as run39 has it after B5 of 6."""
    return BigGANConfig(
        ch=8, resolution=64, n_class=n_class, chunk_size=20, embed_dim=32, attention_block=3
    )


def trainable_stylegan2(config: StyleGAN2Config = STYLEGAN2_CONFIG) -> StyleGAN2Generator:
    """A freshly initialised StyleGAN2 generator whose weights train with equalized lr.

    Initialised as NVIDIA's: raw weights N(0, 1) (N(0, 1/lr_mul²) in the mapping), biases
    0, style biases 1, noise strengths 0, the constant input and noise maps N(0, 1).
    """
    generator = StyleGAN2Generator(config)
    for layer in generator.mapping.layers:
        nn.init.zeros_(layer.bias)
        equalize(layer, "weight", MAPPING_LR_MULTIPLIER)
        equalize(layer, "bias", MAPPING_LR_MULTIPLIER)
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, ModulatedConv2d):
                equalize(module, "weight")
                equalize(module.affine, "weight")
                module.affine.bias.fill_(1.0)
            if isinstance(module, StyleConv):
                module.noise_const.normal_()
        generator.synthesis.blocks[0].const.normal_()
    return generator


def trainable_biggan(n_class: int) -> BigGANGenerator:
    """A freshly initialised run39-architecture BigGAN (`biggan_config`) for `n_class`
    classes, every kernel but the class embedding spectrally normalised, orthogonal init."""
    generator = BigGANGenerator(biggan_config(n_class))
    for module in generator.modules():
        if module is generator.class_embedding:
            continue
        if isinstance(module, (nn.Conv2d, nn.Linear, nn.ConvTranspose2d)):
            _orthogonal_init(module.weight)
            spectral_normalise(module, transposed=isinstance(module, nn.ConvTranspose2d))
    return generator


@torch.no_grad()
def _orthogonal_init(weight: Tensor) -> None:
    """Orthogonal initialisation (BigGAN's) of a weight in any memory format."""
    weight.copy_(nn.init.orthogonal_(torch.empty(weight.shape)))


class _ResidualBlock(nn.Module):
    """conv-act-downsample-conv-act, plus a downsampled 1x1 shortcut, scaled by 1/sqrt(2).

    The widening conv runs at the lower resolution, as StyleGAN2's strided one: 4x cheaper.
    """

    def __init__(self, in_channels: int, out_channels: int, activation_gain: float) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.activation_gain = activation_gain

    def forward(self, x: Tensor) -> Tensor:
        hidden = F.leaky_relu(self.conv0(x), 0.2) * self.activation_gain
        hidden = F.avg_pool2d(hidden, 2)
        hidden = F.leaky_relu(self.conv1(hidden), 0.2) * self.activation_gain
        return (hidden + self.skip(F.avg_pool2d(x, 2))) * math.sqrt(0.5)


class Discriminator(nn.Module):
    """A small residual discriminator for 64 px images in [-1, 1]: a score per image.

    From RGB, one residual block per halving down to 4x4, minibatch standard deviation
    (groups of up to 4), a 3x3 conv and two dense layers. With `n_class`, the score adds
    the projection `<embed(y), features>` (Miyato & Koyama 2018). `spectral` trains every
    weight under spectral norm (BigGAN's recipe); otherwise with equalized learning rate
    and activation gain sqrt(2) (StyleGAN2's).
    """

    def __init__(
        self,
        channels: tuple[int, ...] = (16, 32, 64, 128, 128),
        n_class: int = 0,
        spectral: bool = False,
    ) -> None:
        super().__init__()
        gain = 1.0 if spectral else math.sqrt(2.0)
        self.activation_gain = gain
        self.from_rgb = nn.Conv2d(3, channels[0], 1)
        self.blocks = nn.Sequential(
            *(_ResidualBlock(a, b, gain) for a, b in itertools.pairwise(channels))
        )
        width = channels[-1]
        self.final_conv = nn.Conv2d(width + 1, width, 3, padding=1)
        self.dense = nn.Linear(width * 16, width)
        self.score = nn.Linear(width, 1)
        self.class_projection = nn.Embedding(n_class, width) if n_class else None
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear, nn.Embedding)):
                if spectral:
                    _orthogonal_init(module.weight)
                    spectral_normalise(module)
                else:
                    if getattr(module, "bias", None) is not None:
                        nn.init.zeros_(module.bias)
                    equalize(module)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        """Scores [B] of images [B, 3, 64, 64] (and class indices [B] with `n_class`)."""
        gain = self.activation_gain
        x = self.blocks(F.leaky_relu(self.from_rgb(images), 0.2) * gain)
        x = torch.cat([x, _minibatch_std(x)], dim=1)
        x = F.leaky_relu(self.final_conv(x), 0.2) * gain
        features = F.leaky_relu(self.dense(x.flatten(1)), 0.2) * gain
        score = self.score(features).squeeze(1)
        if self.class_projection is not None:
            score = score + (self.class_projection(labels) * features).sum(dim=1)
        return score


def _minibatch_std(x: Tensor, group_size: int = 4) -> Tensor:
    """One feature map: the mean over features of the std across a group of samples."""
    batch, _, height, width = x.shape
    group = math.gcd(group_size, batch)
    grouped = x.reshape(group, batch // group, -1)
    std = (grouped.var(dim=0, correction=0) + 1e-8).sqrt().mean(dim=1)  # [batch // group]
    return std.repeat(group).view(batch, 1, 1, 1).expand(batch, 1, height, width)
