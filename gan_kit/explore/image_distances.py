"""Differentiable image distances for projection: multi-scale pixel distance, SSIM over
scales, and NVIDIA's noise regularisation (how far noise maps are from white noise).

Images are [B, 3, H, W] in [0, 1]. No network is involved.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["multiscale_pixel_distance", "multiscale_ssim", "noise_regularization", "ssim"]

_SSIM_C1, _SSIM_C2 = 0.01**2, 0.03**2


def _pyramid(x: torch.Tensor, levels: int, smallest: int = 8) -> list[torch.Tensor]:
    out = [x]
    while len(out) < levels and out[-1].shape[-1] >= 2 * smallest:
        out.append(F.avg_pool2d(out[-1], 2))
    return out


def multiscale_pixel_distance(a: torch.Tensor, b: torch.Tensor, levels: int = 3) -> torch.Tensor:
    """Mean squared difference [B], averaged over `levels` halvings (fine and coarse
    errors count alike)."""
    terms = [
        (x - y).square().mean(dim=(1, 2, 3))
        for x, y in zip(_pyramid(a, levels), _pyramid(b, levels), strict=True)
    ]
    return torch.stack(terms).mean(dim=0)


def _gaussian_window(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    taps = torch.exp(-coords.square() / (2 * sigma**2))
    return taps / taps.sum()


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 7, sigma: float = 1.5) -> torch.Tensor:
    """SSIM [B] (Wang et al. 2004) with a Gaussian window, per channel, averaged; images
    in [0, 1]; 'valid' windows only, so the edges count no more than the middle."""
    window = min(window, a.shape[-1])
    taps = _gaussian_window(window, sigma, a)
    channels = a.shape[1]
    horizontal = taps.view(1, 1, 1, -1).expand(channels, 1, 1, window)
    vertical = taps.view(1, 1, -1, 1).expand(channels, 1, window, 1)

    def smooth(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(x, horizontal, groups=channels), vertical, groups=channels)

    mean_a, mean_b = smooth(a), smooth(b)
    var_a = smooth(a * a) - mean_a.square()
    var_b = smooth(b * b) - mean_b.square()
    cov = smooth(a * b) - mean_a * mean_b
    value = ((2 * mean_a * mean_b + _SSIM_C1) * (2 * cov + _SSIM_C2)) / (
        (mean_a.square() + mean_b.square() + _SSIM_C1) * (var_a + var_b + _SSIM_C2)
    )
    return value.mean(dim=(1, 2, 3))


def multiscale_ssim(a: torch.Tensor, b: torch.Tensor, levels: int = 3) -> torch.Tensor:
    """SSIM [B] averaged over `levels` halvings (the mean, not Wang's product, so that a
    negative structure term at one scale cannot flip the sign)."""
    terms = [ssim(x, y) for x, y in zip(_pyramid(a, levels), _pyramid(b, levels), strict=True)]
    return torch.stack(terms).mean(dim=0)


def noise_regularization(noise_maps: list[torch.Tensor]) -> torch.Tensor:
    """NVIDIA's projector penalty: the squared autocorrelation at a one-pixel shift, in x
    and y, of each noise map and of its 2x-average-pooled pyramid down to 8 px."""
    total = noise_maps[0].new_zeros(())
    for noise in noise_maps:
        x = noise.reshape(1, 1, *noise.shape[-2:])
        while True:
            total = total + (x * torch.roll(x, 1, dims=3)).mean().square()
            total = total + (x * torch.roll(x, 1, dims=2)).mean().square()
            if x.shape[-1] <= 8:
                break
            x = F.avg_pool2d(x, 2)
    return total
