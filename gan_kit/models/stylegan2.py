"""A StyleGAN2 generator (config-f family, 'skip' architecture) in plain PyTorch.

The math is NVIDIA's: a mapping network z -> w with truncation toward `w_avg`, and a
synthesis network of modulated/demodulated 3x3 convolutions, per-layer noise and FIR
resampling, summing RGB outputs across resolutions. Weights are stored ready to use:
the equalized-learning-rate gains and the style bias of +1 are folded in when a checkpoint
is converted, so a forward pass does no bookkeeping.

Layer `i` of the synthesis network reads `ws[:, i]`: block 4x4 uses w0 (conv) and w1
(toRGB); each later block uses three consecutive indices (conv0, conv1, toRGB), the
toRGB index being shared with the next block's first conv.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from gan_kit.errors import InvalidInputError
from gan_kit.models.resample import make_filter, upsample2x, upsample_conv2d

NoiseMode = Literal["const", "random", "none"]
_ACTIVATION_GAIN = math.sqrt(2.0)


@dataclass(frozen=True)
class StyleGAN2Config:
    """Everything needed to build the generator; JSON-serialisable via `asdict`."""

    resolution: int = 512
    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    channels: tuple[int, ...] = (512, 512, 512, 512, 512, 256, 128, 64)  # per block, 4 px up
    img_channels: int = 3
    resample_filter: tuple[float, ...] = (1.0, 3.0, 3.0, 1.0)
    normalize_z: bool = True
    mapping_widths: tuple[int, ...] = field(default=())  # hidden widths; () means all w_dim

    def __post_init__(self) -> None:
        log2 = math.log2(self.resolution)
        if self.resolution < 4 or log2 != int(log2):
            raise ValueError(f"resolution must be a power of two >= 4, got {self.resolution}")
        if len(self.channels) != int(log2) - 1:
            raise ValueError(
                f"{self.resolution} px needs {int(log2) - 1} channel counts (4 px up), "
                f"got {len(self.channels)}"
            )

    @property
    def num_ws(self) -> int:
        return 2 * int(math.log2(self.resolution)) - 2

    @property
    def mapping_features(self) -> tuple[int, ...]:
        """Widths through the mapping network: z_dim, each hidden layer's, then w_dim."""
        hidden = self.mapping_widths or (self.w_dim,) * (self.mapping_layers - 1)
        return (self.z_dim, *hidden, self.w_dim)

    def to_dict(self) -> dict:
        return asdict(self)


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2).mul_(_ACTIVATION_GAIN)


class MappingNetwork(nn.Module):
    """z -> ws: pixel-normalise z, a stack of leaky-ReLU dense layers, broadcast, truncate."""

    def __init__(self, config: StyleGAN2Config):
        super().__init__()
        features = config.mapping_features
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(features))
        self.register_buffer("w_avg", torch.zeros(config.w_dim))
        self.normalize_z = config.normalize_z
        self.z_dim = config.z_dim
        self.num_ws = config.num_ws

    def forward(self, z: torch.Tensor, psi: float = 1.0, cutoff: int | None = None) -> torch.Tensor:
        """Map z [B, z_dim] to ws [B, num_ws, w_dim], truncated on the first `cutoff` ws.

        Truncation is `w_avg + psi * (w - w_avg)`; psi > 1 exaggerates, psi = 0 gives w_avg.
        """
        x = torch.as_tensor(z, dtype=self.w_avg.dtype, device=self.w_avg.device)
        if x.ndim != 2 or x.shape[1] != self.z_dim:
            raise InvalidInputError(f"z must have shape [batch, {self.z_dim}], got {list(x.shape)}")
        if not math.isfinite(psi):
            raise InvalidInputError(f"psi must be a finite number, got {psi}")
        if cutoff is not None and not 0 <= cutoff <= self.num_ws:
            raise InvalidInputError(f"cutoff must be between 0 and {self.num_ws}, got {cutoff}")
        if self.normalize_z:
            x = x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)
        for layer in self.layers:
            x = _lrelu(layer(x))
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if psi != 1.0:
            layers = slice(None) if cutoff is None else slice(0, cutoff)
            ws[:, layers] = torch.lerp(self.w_avg, ws[:, layers], psi)
        return ws


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    *,
    demodulate: bool,
    upsample: bool,
    kernel: torch.Tensor,
) -> torch.Tensor:
    """Convolve each sample with `weight` [out, in, k, k] scaled per input channel by its style.

    With `demodulate`, each output channel is renormalised to unit expected variance (the
    StyleGAN2 replacement of AdaIN). The styles modulate the weights, so a batch runs as one
    grouped convolution (NVIDIA's fused_modconv).
    """
    batch, in_channels, height, width = x.shape
    weight = weight.unsqueeze(0) * styles[:, None, :, None, None]  # [B, out, in, k, k]
    if demodulate:
        weight = weight * torch.rsqrt(weight.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    weight = weight.reshape(-1, in_channels, *weight.shape[3:])
    x = x.reshape(1, batch * in_channels, height, width)
    if upsample:
        x = upsample_conv2d(x, weight, kernel, groups=batch)
    else:
        x = F.conv2d(x, weight, padding=weight.shape[-1] // 2, groups=batch)
    return x.reshape(batch, -1, *x.shape[2:])


class StyleConv(nn.Module):
    """Modulated 3x3 convolution (optionally upsampling), then noise, bias and leaky ReLU."""

    def __init__(
        self, w_dim: int, in_channels: int, out_channels: int, resolution: int, *, upsample: bool
    ):
        super().__init__()
        self.affine = nn.Linear(w_dim, in_channels)
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.zeros(1, 1, resolution, resolution))
        self.upsample = upsample

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, kernel: torch.Tensor, noise_mode: NoiseMode
    ) -> torch.Tensor:
        x = modulated_conv2d(
            x, self.weight, self.affine(w), demodulate=True, upsample=self.upsample, kernel=kernel
        )
        if noise_mode == "const":
            x = x.add_(self.noise_const * self.noise_strength)
        elif noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
            x = x.add_(noise * self.noise_strength)
        return _lrelu(x.add_(self.bias.view(1, -1, 1, 1)))


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to RGB, without demodulation or activation."""

    def __init__(self, w_dim: int, in_channels: int, out_channels: int):
        super().__init__()
        self.affine = nn.Linear(w_dim, in_channels)
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        x = modulated_conv2d(
            x, self.weight, self.affine(w), demodulate=False, upsample=False, kernel=kernel
        )
        return x.add_(self.bias.view(1, -1, 1, 1))


class SynthesisBlock(nn.Module):
    """One resolution: (upsampling conv,) conv, and the RGB output added to the skip image."""

    def __init__(
        self, config: StyleGAN2Config, in_channels: int, out_channels: int, resolution: int
    ):
        super().__init__()
        self.resolution = resolution
        w_dim = config.w_dim
        if resolution == 4:
            self.const = nn.Parameter(torch.zeros(out_channels, 4, 4))
            self.conv0 = None
        else:
            self.conv0 = StyleConv(w_dim, in_channels, out_channels, resolution, upsample=True)
        self.conv1 = StyleConv(w_dim, out_channels, out_channels, resolution, upsample=False)
        self.to_rgb = ToRGB(w_dim, out_channels, config.img_channels)
        self.num_ws = 2 if self.conv0 is None else 3

    def forward(
        self,
        x: torch.Tensor | None,
        img: torch.Tensor | None,
        ws: torch.Tensor,
        kernel: torch.Tensor,
        noise_mode: NoiseMode,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.conv0 is None:
            x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
            x = self.conv1(x, ws[:, 0], kernel, noise_mode)
        else:
            x = self.conv0(x, ws[:, 0], kernel, noise_mode)
            x = self.conv1(x, ws[:, 1], kernel, noise_mode)
        rgb = self.to_rgb(x, ws[:, self.num_ws - 1], kernel)
        img = rgb if img is None else upsample2x(img, kernel).add_(rgb)
        return x, img


class SynthesisNetwork(nn.Module):
    """ws [B, num_ws, w_dim] -> image [B, img_channels, resolution, resolution], about [-1, 1]."""

    def __init__(self, config: StyleGAN2Config):
        super().__init__()
        self.num_ws = config.num_ws
        self.w_dim = config.w_dim
        resolutions = [2**i for i in range(2, int(math.log2(config.resolution)) + 1)]
        in_channels = [config.channels[0], *config.channels[:-1]]
        self.blocks = nn.ModuleList(
            SynthesisBlock(config, c_in, c_out, res)
            for c_in, c_out, res in zip(in_channels, config.channels, resolutions, strict=True)
        )
        self.register_buffer(
            "resample_kernel", make_filter(config.resample_filter), persistent=False
        )

    def forward(self, ws: torch.Tensor, noise_mode: NoiseMode = "const") -> torch.Tensor:
        """Render ws; noise "const" uses the stored noise maps, "random" fresh, "none" none."""
        if noise_mode not in ("const", "random", "none"):
            raise InvalidInputError(
                f"noise_mode must be 'const', 'random' or 'none', got {noise_mode!r}"
            )
        kernel = self.resample_kernel
        ws = torch.as_tensor(ws, dtype=kernel.dtype, device=kernel.device)
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise InvalidInputError(
                f"ws must have shape [batch, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}"
            )
        x = img = None
        first_w = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, first_w : first_w + block.num_ws], kernel, noise_mode)
            first_w += block.num_ws - 1
        return img


class StyleGAN2Generator(nn.Module):
    """The full generator: `G.mapping(z, psi, cutoff)` -> ws, `G.synthesis(ws, noise_mode)`."""

    def __init__(self, config: StyleGAN2Config):
        super().__init__()
        self.config = config
        self.mapping = MappingNetwork(config)
        self.synthesis = SynthesisNetwork(config)

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    @property
    def w_dim(self) -> int:
        return self.config.w_dim

    @property
    def num_ws(self) -> int:
        return self.config.num_ws

    @property
    def resolution(self) -> int:
        return self.config.resolution

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping.w_avg

    def forward(
        self,
        z: torch.Tensor,
        psi: float = 1.0,
        cutoff: int | None = None,
        noise_mode: NoiseMode = "const",
    ) -> torch.Tensor:
        """z [B, z_dim] -> image [B, 3, resolution, resolution] in about [-1, 1]."""
        return self.synthesis(self.mapping(z, psi=psi, cutoff=cutoff), noise_mode=noise_mode)
