"""The truncation trick: pull latents toward a centre to trade variety for quality.

Both model kinds use the same formula, `centre + psi * (x - centre)`:
StyleGAN2 truncates w toward `w_avg` (optionally only the first `cutoff` ws), BigGAN
scales its truncated-normal z toward 0. psi = 1 leaves x as is, psi = 0 gives the centre,
psi > 1 exaggerates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import numpy as np
import torch

from gan_kit.errors import InvalidInputError
from gan_kit.values import is_finite_number, is_whole_number

Values = TypeVar("Values", torch.Tensor, np.ndarray)


def redraw_outside(values: Values, bound: float, draw: Callable[[int], Values]) -> Values:
    """Truncate a standard normal sample to [-bound, bound] by rejection: replace the
    entries outside (in index order) by `draw(count)` fresh ones until none is left.
    Works in place on a numpy array or a torch tensor, with the caller's generator."""
    outside = abs(values) > bound
    while outside.any():
        values[outside] = draw(int(outside.sum()))
        outside = abs(values) > bound
    return values


def checked_cutoff(cutoff: int | None, num_layers: int) -> int | None:
    """`cutoff` if None or a whole number from 0 to `num_layers`, else a clear error."""
    if cutoff is not None and (not is_whole_number(cutoff) or not 0 <= cutoff <= num_layers):
        raise InvalidInputError(
            f"cutoff must be a whole number from 0 to {num_layers}, got {cutoff!r}"
        )
    return cutoff


MAX_ABS_PSI = 1000.0  # far past any useful psi; beyond, float32 styles overflow to NaN


def checked_psi(psi: float) -> float:
    """`psi` as a float, refusing NaN, infinities, non-numbers and absurd sizes."""
    if not is_finite_number(psi):
        raise InvalidInputError(f"psi must be a finite number, got {psi!r}")
    if abs(psi) > MAX_ABS_PSI:
        raise InvalidInputError(
            f"psi must be between -{MAX_ABS_PSI:g} and {MAX_ABS_PSI:g}, got {psi:g} "
            "(useful values are about 0 to 1.5)"
        )
    return float(psi)


def psi_per_sample(psi: float | Sequence[float], batch: int) -> torch.Tensor:
    """psi [batch] (float32): one value broadcast, or one per sample."""
    several = isinstance(psi, Iterable) and not isinstance(psi, str)
    values = list(psi) if several else [psi] * batch
    if len(values) != batch:
        raise InvalidInputError(f"give one psi or one per sample ({batch}), got {len(values)}")
    return torch.tensor([checked_psi(value) for value in values], dtype=torch.float32)


def truncate(
    x: torch.Tensor,
    centre: torch.Tensor | float,
    psi: float | Sequence[float],
    cutoff: int | None = None,
) -> torch.Tensor:
    """`centre + psi * (x - centre)` for x [B, ...]; psi one value or one per sample.

    With `cutoff`, only x[:, :cutoff] is truncated (StyleGAN2's per-layer cutoff: the first
    `cutoff` ws); the rest is returned unchanged.
    """
    weights = psi_per_sample(psi, x.shape[0]).to(x.device, x.dtype)
    weights = weights.view(-1, *[1] * (x.dim() - 1))
    centre = torch.as_tensor(centre, dtype=x.dtype, device=x.device)
    if cutoff is None:
        return torch.lerp(centre.expand_as(x), x, weights)
    checked_cutoff(cutoff, x.shape[1])
    result = x.clone()
    result[:, :cutoff] = torch.lerp(centre.expand_as(x[:, :cutoff]), x[:, :cutoff], weights)
    return result
