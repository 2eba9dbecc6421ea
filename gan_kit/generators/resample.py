"""FIR resampling for StyleGAN2: separable blur, 2x upsampling, and the up-convolution.

NVIDIA's reference ops apply the 4-tap filter outer([1,3,3,1]) as a dense 4x4 depthwise
convolution. The filter is separable, so each 2D filter here is two 1D passes (8 taps
instead of 16).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def make_filter(taps: Sequence[float]) -> torch.Tensor:
    """A 1D FIR filter normalised to unit sum, flipped so that conv2d applies it as TF does."""
    kernel = torch.as_tensor(taps, dtype=torch.float32)
    if kernel.ndim != 1 or kernel.numel() < 1 or float(kernel.sum()) == 0:
        raise ValueError(f"a resampling filter needs 1D taps with a non-zero sum, got {taps!r}")
    return (kernel / kernel.sum()).flip(0)


def blur(
    x: torch.Tensor,
    kernel: torch.Tensor,
    pad: tuple[int, int],
    gain: float = 1.0,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Pad by `pad` (before, after) on both spatial axes, apply `kernel` along each, add `bias`."""
    channels = x.shape[1]
    taps = kernel.numel()
    kernel = (kernel * gain**0.5).to(x.dtype)
    horizontal = kernel.view(1, 1, 1, taps).expand(channels, 1, 1, taps)
    vertical = kernel.view(1, 1, taps, 1).expand(channels, 1, taps, 1)
    if pad[0] == pad[1]:  # let the convolution pad: no padded copy of x
        x = F.conv2d(x, horizontal, padding=(0, pad[0]), groups=channels)
        return F.conv2d(x, vertical, bias=bias, padding=(pad[0], 0), groups=channels)
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    x = F.conv2d(x, horizontal, groups=channels)
    return F.conv2d(x, vertical, bias=bias, groups=channels)


def upsample2x(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """FIR-upsample by 2: zero insertion, then the filter with gain 4 (NVIDIA's upsample_2d)."""
    batch, channels, height, width = x.shape
    zeros_inserted = x.new_zeros(batch, channels, height, 2, width, 2)
    zeros_inserted[:, :, :, 0, :, 0] = x
    zeros_inserted = zeros_inserted.view(batch, channels, 2 * height, 2 * width)
    overhang = kernel.numel() - 2
    # Dropping the last inserted zero row/column and padding one more is the same signal,
    # and makes the padding symmetric for even filters.
    pad = ((overhang + 1) // 2 + 1, overhang // 2 + 1)
    return blur(zeros_inserted[:, :, :-1, :-1], kernel, pad, gain=4.0)


def upsample_conv2d(
    x: torch.Tensor,
    kernel: torch.Tensor,
    resample_filter: torch.Tensor,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Upsample by 2 and convolve, as TF's upsample_conv_2d; `kernel` is [in, out, k, k].

    Zero insertion followed by a convolution with W is a stride-2 transposed convolution
    with W flipped (the `kernel` given here); the FIR filter (gain 4) then smooths the
    result back to exactly 2x the size.
    """
    x = F.conv_transpose2d(x, kernel, stride=2)
    overhang = resample_filter.numel() - 2 - (kernel.shape[-1] - 1)
    pad = ((overhang + 1) // 2 + 1, overhang // 2 + 1)
    return blur(x, resample_filter, pad, gain=4.0, bias=bias)
