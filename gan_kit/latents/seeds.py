"""Seeds -> latent codes, reproducibly on any machine.

Numpy's legacy `RandomState` is used because its streams are bit-for-bit stable across
numpy versions, operating systems and CPUs (torch's generators are not promised to be).

- StyleGAN2 (`z_from_seeds`): NVIDIA's scripts' convention,
  `np.random.RandomState(seed).randn(1, z_dim)`, so a seed gives the image that the
  original TF code gave (with the stored noise maps).
- BigGAN (`truncated_normal_from_seeds`): a standard normal truncated to [-bound, bound]
  by redrawing, from `np.random.RandomState(seed)`; see that function for the exact order
  of draws. The truncation psi then scales it (done by the caller, not here).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable

import numpy as np
import torch

from gan_kit.errors import InvalidInputError
from gan_kit.latents.truncation import redraw_outside
from gan_kit.values import is_whole_number

MAX_SEED = 2**32 - 1
MAX_SEEDS_IN_TEXT = 100_000  # more seeds than any grid or animation can hold
_SEED_ITEM = re.compile(r"(-?\d+)(?:-(-?\d+))?")  # a seed, or an inclusive range first-last


def checked_seeds(seeds: int | Iterable[int]) -> list[int]:
    """`seeds` as a non-empty list of ints in 0..MAX_SEED (numpy's seed range), else an error."""
    seed_list = [seeds] if isinstance(seeds, numbers.Integral) else list(seeds)
    if not seed_list:
        raise InvalidInputError("give at least one seed")
    for seed in seed_list:
        if not is_whole_number(seed) or not 0 <= seed <= MAX_SEED:
            raise InvalidInputError(f"seeds must be integers from 0 to {MAX_SEED}, got {seed!r}")
    return [int(seed) for seed in seed_list]


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds from text: whole numbers and inclusive ranges, separated by commas and/or
    spaces, e.g. "0-7,12", "1, 2 3" or "4 10-11"; each seed then checked (0..MAX_SEED)."""
    parts = text.split(",")
    items = [word for part in parts for word in part.split()]
    matches = [_SEED_ITEM.fullmatch(item) for item in items]
    if not items or not all(part.strip() for part in parts) or None in matches:
        raise InvalidInputError(
            f"cannot read the seeds {text!r}: write whole numbers and ranges, separated by "
            "commas or spaces, e.g. 0-7,12 or 1 2 3"
        )
    seeds: list[int] = []
    for item, match in zip(items, matches, strict=True):
        first, last = checked_seeds([int(match[1]), int(match[2] or match[1])])
        if last < first:
            raise InvalidInputError(f"the seed range {item!r} runs backwards")
        if len(seeds) + last - first + 1 > MAX_SEEDS_IN_TEXT:
            raise InvalidInputError(f"at most {MAX_SEEDS_IN_TEXT} seeds, got more in {text!r}")
        seeds.extend(range(first, last + 1))
    return tuple(seeds)


def z_from_seeds(seeds: int | Iterable[int], z_dim: int) -> torch.Tensor:
    """z [len(seeds), z_dim] (float32, CPU), row i drawn from `seeds[i]` as NVIDIA's scripts do."""
    rows = [np.random.RandomState(seed).randn(1, z_dim) for seed in checked_seeds(seeds)]
    return torch.from_numpy(np.concatenate(rows).astype(np.float32))


def truncated_normal_from_seeds(
    seeds: int | Iterable[int], dim: int, bound: float = 2.0
) -> torch.Tensor:
    """Truncated-normal latents [len(seeds), dim] (float32, CPU), row i from `seeds[i]`.

    Exactly: `rs = np.random.RandomState(seed); x = rs.randn(dim)`; then, while any
    |x| > bound, the offending entries (in index order) are replaced by `rs.randn(count)`.
    The result follows truncnorm(-bound, bound) (the Tensorfork BigGAN scripts' bound is 2).
    """
    if not bound > 0:
        raise InvalidInputError(f"the truncation bound must be positive, got {bound}")
    rows = []
    for seed in checked_seeds(seeds):
        state = np.random.RandomState(seed)
        rows.append(redraw_outside(state.randn(dim), bound, state.randn))
    return torch.from_numpy(np.stack(rows).astype(np.float32))
