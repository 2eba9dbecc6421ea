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

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from gan_kit.errors import InvalidInputError
from gan_kit.generators.resample import make_filter, upsample2x, upsample_conv2d
from gan_kit.latents.truncation import checked_cutoff, psi_per_sample, truncate
from gan_kit.names import NOISE_MODES

__all__ = [
    "NOISE_MODES",
    "NoiseMode",
    "StyleGAN2Config",
    "StyleGAN2Generator",
    "checked_noise_mode",
]

NoiseMode = Literal["const", "random", "none"]


def checked_noise_mode(noise_mode: object) -> NoiseMode:
    """`noise_mode` if it is one of NOISE_MODES, else a clear error."""
    if noise_mode not in NOISE_MODES:
        raise InvalidInputError(
            f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}"
        )
    return noise_mode


_ACTIVATION_GAIN = math.sqrt(2.0)


@dataclass(frozen=True)
class StyleGAN2Config:
    """Everything needed to build the generator; JSON-serialisable via `to_dict`.

    `resolution` of the images (a power of two), `z_dim` and `w_dim` the latent widths,
    `mapping_layers` dense layers in the mapping (hidden widths `mapping_widths`, () for
    all w_dim), `channels` per synthesis block from 4 px up, `img_channels` of the
    output, `resample_filter` the FIR taps of up-sampling, `normalize_z` whether z is
    pixel-normalised first.
    """

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
        """How many ws synthesis reads: two per resolution from 4 px, less one."""
        return 2 * int(math.log2(self.resolution)) - 2

    @property
    def mapping_features(self) -> tuple[int, ...]:
        """Widths through the mapping network: z_dim, each hidden layer's, then w_dim."""
        hidden = self.mapping_widths or (self.w_dim,) * (self.mapping_layers - 1)
        return (self.z_dim, *hidden, self.w_dim)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict (what converted files store)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StyleGAN2Config:
        """The config of `data`, written by `to_dict` (JSON gives lists for tuples)."""
        return cls(**{key: tuple(v) if isinstance(v, list) else v for key, v in data.items()})


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

    def forward(
        self, z: torch.Tensor, psi: float | Sequence[float] = 1.0, cutoff: int | None = None
    ) -> torch.Tensor:
        """Map z [B, z_dim] to ws [B, num_ws, w_dim], truncated toward `w_avg` on the first
        `cutoff` ws (all by default): `w_avg + psi * (w - w_avg)`, psi one value or one per
        sample (`gan_kit.latents.truncation.truncate`); psi > 1 exaggerates, 0 gives w_avg.
        """
        x = torch.as_tensor(z, dtype=self.w_avg.dtype, device=self.w_avg.device)
        if x.ndim != 2 or x.shape[1] != self.z_dim:
            raise InvalidInputError(f"z must have shape [batch, {self.z_dim}], got {list(x.shape)}")
        untruncated = bool((psi_per_sample(psi, x.shape[0]) == 1).all())  # checks psi first
        checked_cutoff(cutoff, self.num_ws)
        if self.normalize_z:
            x = x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)
        for layer in self.layers:
            x = _lrelu(layer(x))
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        return ws if untruncated else truncate(ws, self.w_avg, psi, cutoff)


class ModulatedConv2d(nn.Module):
    """A convolution whose input channels are scaled per sample by a style computed from w.

    With `demodulate`, each output channel is renormalised to unit expected variance (the
    StyleGAN2 replacement of AdaIN). For one sample the styles scale the weights; for a
    batch they scale the activations and the demodulation scales the outputs, so the whole
    batch shares one convolution: the same products in another order, and much faster than
    a per-sample grouped convolution. `input_gain` is a constant factor the input still
    owes (the activation gain of the previous layer, folded in here for free).
    """

    def __init__(
        self,
        w_dim: int,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        demodulate: bool,
        upsample: bool = False,
    ):
        super().__init__()
        self.affine = nn.Linear(w_dim, in_channels)
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.demodulate = demodulate
        self.upsample = upsample
        self._derived: tuple[tuple, torch.Tensor, torch.Tensor] | None = None

    def _kernel_and_energy(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The kernel in the layout its op wants and sum_k W^2 [out, in].

        Inference caches both until the weight changes; training, and weights computed by a
        parametrization, compute them afresh (a recycled address could pass for the old one).
        """
        weight = self.weight
        fresh_each_access = parametrize.is_parametrized(self, "weight")  # a new tensor each time
        if fresh_each_access or (weight.requires_grad and torch.is_grad_enabled()):
            return self._derive(weight)
        key = (weight.data_ptr(), weight._version, weight.dtype, weight.device)
        if self._derived is None or self._derived[0] != key:
            self._derived = (key, *self._derive(weight.detach()))
        return self._derived[1], self._derived[2]

    def _derive(self, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        kernel = weight.flip(2, 3).transpose(0, 1).contiguous() if self.upsample else weight
        return kernel, weight.square().sum(dim=(2, 3))

    def _convolve(
        self,
        x: torch.Tensor,
        kernel: torch.Tensor,
        resample_filter: torch.Tensor,
        bias: torch.Tensor | None,
    ) -> torch.Tensor:
        if self.upsample:
            return upsample_conv2d(x, kernel, resample_filter, bias=bias)
        return F.conv2d(x, kernel, bias=bias, padding=kernel.shape[-1] // 2)

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        resample_filter: torch.Tensor,
        *,
        input_gain: float = 1.0,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """conv(x, W * style) (demodulated) + noise + bias, before any activation."""
        styles = self.affine(w)  # [B, in]
        kernel, energy = self._kernel_and_energy()
        if self.demodulate:
            out_scale = torch.rsqrt(styles.square() @ energy.T + 1e-8) * input_gain  # [B, out]
        else:
            styles, out_scale = styles * input_gain, None
        bias = self.bias.view(1, -1, 1, 1)
        if x.shape[0] == 1:  # fold both scalings into the weights of one plain convolution
            factor = styles[0].view(1, -1)  # [1, in]
            if out_scale is not None:
                factor = out_scale[0, :, None] * factor  # [out, in]
            if self.upsample:  # the transposed-conv kernel is laid out [in, out, k, k]
                factor = factor.T
            y = self._convolve(x, kernel * factor[:, :, None, None], resample_filter, self.bias)
            return y if noise is None else y.add_(noise)
        y = self._convolve(x * styles[:, :, None, None], kernel, resample_filter, None)
        offset = bias if noise is None else noise + bias
        if out_scale is None:
            return y.add_(offset)
        return torch.addcmul(offset, y, out_scale[:, :, None, None])


class StyleConv(ModulatedConv2d):
    """Modulated 3x3 convolution (optionally upsampling), noise, bias and leaky ReLU.

    The activation's gain of sqrt(2) is left to the next layer (its `input_gain`).
    """

    def __init__(
        self, w_dim: int, in_channels: int, out_channels: int, resolution: int, *, upsample: bool
    ):
        super().__init__(w_dim, in_channels, out_channels, 3, demodulate=True, upsample=upsample)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.zeros(1, 1, resolution, resolution))

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        resample_filter: torch.Tensor,
        noise_mode: NoiseMode,
        input_gain: float = 1.0,
    ) -> torch.Tensor:
        noise = None
        if noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        elif noise_mode == "random":
            size = self.noise_const.shape[2:]
            noise = torch.randn(x.shape[0], 1, *size, device=x.device, dtype=x.dtype)
            noise = noise * self.noise_strength
        y = super().forward(x, w, resample_filter, input_gain=input_gain, noise=noise)
        return F.leaky_relu_(y, 0.2)


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
        self.to_rgb = ModulatedConv2d(w_dim, out_channels, config.img_channels, 1, demodulate=False)
        self.num_ws = 2 if self.conv0 is None else 3

    def forward(
        self,
        x: torch.Tensor | None,
        img: torch.Tensor | None,
        ws: torch.Tensor,
        resample_filter: torch.Tensor,
        noise_mode: NoiseMode,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.conv0 is None:
            x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
            # oneDNN's CPU convolutions run faster on channels-last (NHWC) activations.
            if x.device.type == "cpu":
                x = x.contiguous(memory_format=torch.channels_last)
            x = self.conv1(x, ws[:, 0], resample_filter, noise_mode)
        else:
            x = self.conv0(x, ws[:, 0], resample_filter, noise_mode, input_gain=_ACTIVATION_GAIN)
            x = self.conv1(x, ws[:, 1], resample_filter, noise_mode, input_gain=_ACTIVATION_GAIN)
        rgb = self.to_rgb(x, ws[:, self.num_ws - 1], resample_filter, input_gain=_ACTIVATION_GAIN)
        img = rgb if img is None else upsample2x(img, resample_filter).add_(rgb)
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

    def forward(
        self, ws: torch.Tensor, noise_mode: NoiseMode = "const", one_by_one: bool | None = None
    ) -> torch.Tensor:
        """Render ws; noise "const" uses the stored noise maps, "random" fresh, "none" none.

        `one_by_one` renders the samples of a batch separately, each as plain convolutions
        with its own modulated weights; None chooses it on the CPU, where batching large
        images only adds memory traffic (measured in BENCHMARKS.md), and not on GPUs.
        """
        checked_noise_mode(noise_mode)
        kernel = self.resample_kernel
        ws = torch.as_tensor(ws, dtype=kernel.dtype, device=kernel.device)
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise InvalidInputError(
                f"ws must have shape [batch, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}"
            )
        if one_by_one is None:
            one_by_one = ws.device.type == "cpu"
        if one_by_one and ws.shape[0] > 1:
            return torch.cat([self._render(w.unsqueeze(0), noise_mode) for w in ws])
        return self._render(ws, noise_mode)

    def _render(self, ws: torch.Tensor, noise_mode: NoiseMode) -> torch.Tensor:
        x = img = None
        first_w = 0
        for block in self.blocks:
            x, img = block(
                x, img, ws[:, first_w : first_w + block.num_ws], self.resample_kernel, noise_mode
            )
            first_w += block.num_ws - 1
        return img.contiguous()


class StyleGAN2Generator(nn.Module):
    """The full generator of the size `config` gives: `G.mapping(z, psi, cutoff)` -> ws,
    `G.synthesis(ws, noise_mode)`."""

    kind: ClassVar[str] = "stylegan2"  # its name in converted files, recipes and the registry

    def __init__(self, config: StyleGAN2Config):
        super().__init__()
        self.config = config
        self.mapping = MappingNetwork(config)
        self.synthesis = SynthesisNetwork(config)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StyleGAN2Generator:
        """The generator of a config read back from JSON (`config.to_dict()`)."""
        return cls(StyleGAN2Config.from_dict(config))

    @property
    def z_dim(self) -> int:
        """The width of z."""
        return self.config.z_dim

    @property
    def w_dim(self) -> int:
        """The width of each w."""
        return self.config.w_dim

    @property
    def num_ws(self) -> int:
        """How many ws synthesis reads: two per resolution from 4 px, less one."""
        return self.config.num_ws

    @property
    def resolution(self) -> int:
        """The images' width and height, in pixels."""
        return self.config.resolution

    @property
    def w_avg(self) -> torch.Tensor:
        """The average w, the centre truncation pulls toward."""
        return self.mapping.w_avg

    def set_latent_normalization(self, enabled: bool) -> None:
        """Switch the pixel-norm of z on (`enabled`) or off, for files that do not record it."""
        self.config = dataclasses.replace(self.config, normalize_z=enabled)
        self.mapping.normalize_z = enabled

    def forward(
        self,
        z: torch.Tensor,
        psi: float = 1.0,
        cutoff: int | None = None,
        noise_mode: NoiseMode = "const",
    ) -> torch.Tensor:
        """z [B, z_dim] -> image [B, 3, resolution, resolution] in about [-1, 1]: mapping
        with `psi` and `cutoff`, then synthesis with `noise_mode`."""
        return self.synthesis(self.mapping(z, psi=psi, cutoff=cutoff), noise_mode=noise_mode)
