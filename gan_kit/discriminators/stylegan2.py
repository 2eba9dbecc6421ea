"""NVIDIA's StyleGAN2 discriminator (config-e/f, 'resnet' architecture) in plain PyTorch.

The math is NVIDIA's `D_stylegan2`: FromRGB (1x1) at the top resolution, then one
residual block per halving (3x3 conv, 3x3 conv with FIR blur and stride 2, and a blurred
strided 1x1 shortcut, summed and scaled by 1/sqrt(2)), and at 4x4 the minibatch standard
deviation, a 3x3 conv, a dense layer and the one-unit output. Leaky ReLU (0.2) with gain
sqrt(2) follows every layer but the shortcut and the output. As in the generator, the
equalized-learning-rate gains are folded into the stored weights when a checkpoint is
read, so a forward pass does no bookkeeping.

`features(images)` gives the activations after each block, the 4x4 conv and the dense
layer: what `gan_kit.project` compares instead of a VGG network.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gan_kit.errors import InvalidInputError
from gan_kit.generators.resample import blur, make_filter

__all__ = ["StyleGAN2Discriminator", "StyleGAN2DiscriminatorConfig"]

_ACTIVATION_GAIN = math.sqrt(2.0)


@dataclass(frozen=True)
class StyleGAN2DiscriminatorConfig:
    """The discriminator's size: images of `resolution` px (a power of two) with
    `img_channels` channels, `channels` feature widths per resolution from 4 px up, the
    dense layer's `dense_width` (NVIDIA's nf(0)), the minibatch-stddev `mbstd_group_size`
    (0 or 1: no such layer) and `mbstd_num_features`, and `resample_filter`, the FIR taps
    of downsampling."""

    resolution: int = 512
    channels: tuple[int, ...] = (512, 512, 512, 512, 512, 256, 128, 64)
    dense_width: int = 512
    img_channels: int = 3
    mbstd_group_size: int = 4
    mbstd_num_features: int = 1
    resample_filter: tuple[float, ...] = (1.0, 3.0, 3.0, 1.0)

    def __post_init__(self) -> None:
        log2 = math.log2(self.resolution)
        if self.resolution < 8 or log2 != int(log2):
            raise ValueError(f"resolution must be a power of two >= 8, got {self.resolution}")
        if len(self.channels) != int(log2) - 1:
            raise ValueError(
                f"{self.resolution} px needs {int(log2) - 1} channel counts (4 px up), "
                f"got {len(self.channels)}"
            )

    @property
    def uses_mbstd(self) -> bool:
        """Whether the 4x4 stage appends minibatch standard-deviation features."""
        return self.mbstd_group_size > 1 and self.mbstd_num_features > 0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StyleGAN2DiscriminatorConfig:
        """The config of `data`, written by `to_dict` (JSON gives lists for tuples)."""
        return cls(**{key: tuple(v) if isinstance(v, list) else v for key, v in data.items()})


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * _ACTIVATION_GAIN


class _DownConv(nn.Module):
    """FIR blur then a stride-2 convolution (NVIDIA's conv_downsample_2d), bias optional."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x: torch.Tensor, resample_filter: torch.Tensor) -> torch.Tensor:
        overhang = resample_filter.numel() - 2 + self.weight.shape[-1] - 1
        x = blur(x, resample_filter, ((overhang + 1) // 2, overhang // 2))
        return F.conv2d(x, self.weight, self.bias, stride=2)


class DiscriminatorBlock(nn.Module):
    """One halving: conv, blurred strided conv, plus the blurred strided 1x1 shortcut."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.conv1 = _DownConv(in_channels, out_channels, 3, bias=True)
        self.skip = _DownConv(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor, resample_filter: torch.Tensor) -> torch.Tensor:
        shortcut = self.skip(x, resample_filter)
        x = _lrelu(self.conv1(_lrelu(self.conv0(x)), resample_filter))
        return (x + shortcut) * math.sqrt(0.5)


def minibatch_stddev(x: torch.Tensor, group_size: int, num_features: int) -> torch.Tensor:
    """`x` with `num_features` more maps: the std over groups of up to `group_size`
    samples (sample i in group i mod n), averaged over channels and pixels (NVIDIA's)."""
    batch, channels, height, width = x.shape
    group = min(group_size, batch)
    if batch % group:
        raise InvalidInputError(
            f"the discriminator's minibatch standard deviation needs a batch divisible by "
            f"{group}, got {batch}: score images in batches of a multiple of {group}"
        )
    y = x.reshape(group, -1, num_features, channels // num_features, height, width)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()
    y = y.mean(dim=(2, 3, 4)).reshape(-1, num_features, 1, 1).repeat(group, 1, height, width)
    return torch.cat([x, y], dim=1)


class StyleGAN2Discriminator(nn.Module):
    """The discriminator of the size `config` gives: images [B, C, R, R] in [-1, 1] ->
    realness scores [B] (higher: more like the training data)."""

    kind: ClassVar[str] = "stylegan2"

    def __init__(self, config: StyleGAN2DiscriminatorConfig):
        super().__init__()
        self.config = config
        top = config.channels[-1]
        self.from_rgb = nn.Conv2d(config.img_channels, top, 1)
        widths = list(reversed(config.channels))  # top resolution first
        self.blocks = nn.ModuleList(DiscriminatorBlock(a, b) for a, b in itertools.pairwise(widths))
        width = config.channels[0]
        extra = config.mbstd_num_features if config.uses_mbstd else 0
        self.conv = nn.Conv2d(width + extra, width, 3, padding=1)
        self.dense = nn.Linear(width * 16, config.dense_width)
        self.output = nn.Linear(config.dense_width, 1)
        self.register_buffer(
            "resample_kernel", make_filter(config.resample_filter), persistent=False
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StyleGAN2Discriminator:
        """The discriminator of a config read back from JSON (`config.to_dict()`)."""
        return cls(StyleGAN2DiscriminatorConfig.from_dict(config))

    @property
    def resolution(self) -> int:
        """The width and height of the images it scores, in pixels."""
        return self.config.resolution

    def _checked(self, images: torch.Tensor) -> torch.Tensor:
        kernel = self.resample_kernel
        images = torch.as_tensor(images, dtype=kernel.dtype, device=kernel.device)
        expected = (self.config.img_channels, self.resolution, self.resolution)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise InvalidInputError(
                f"the discriminator scores images of shape [batch, {', '.join(map(str, expected))}]"
                f" in [-1, 1], got {list(images.shape)}"
            )
        return images

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The activations after each block (top resolution first), after the 4x4 conv
        and after the dense layer, for images [B, C, R, R] in [-1, 1]."""
        x = _lrelu(self.from_rgb(self._checked(images)))
        found = []
        for block in self.blocks:
            x = block(x, self.resample_kernel)
            found.append(x)
        if self.config.uses_mbstd:
            x = minibatch_stddev(x, self.config.mbstd_group_size, self.config.mbstd_num_features)
        x = _lrelu(self.conv(x))
        found.append(x)
        found.append(_lrelu(self.dense(x.flatten(1))))
        return found

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Realness scores [B] of images [B, C, R, R] in [-1, 1] (NVIDIA's D output)."""
        return self.output(self.features(images)[-1]).squeeze(1)
