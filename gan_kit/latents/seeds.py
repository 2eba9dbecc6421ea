"""Seeds -> z, with the convention of NVIDIA's StyleGAN2 scripts.

`np.random.RandomState(seed).randn(1, z_dim)` is what NVIDIA's generate scripts draw, so
a seed gives the image that the original TF code gave (with the stored noise maps). Numpy's
legacy generator is used because it is bit-for-bit stable across versions and machines.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np
import torch

from gan_kit.errors import InvalidInputError

MAX_SEED = 2**32 - 1


def z_from_seeds(seeds: int | Iterable[int], z_dim: int) -> torch.Tensor:
    """z [len(seeds), z_dim] (float32, CPU), row i drawn from `seeds[i]` as NVIDIA's scripts do."""
    seed_list = [seeds] if isinstance(seeds, numbers.Integral) else list(seeds)
    if not seed_list:
        raise InvalidInputError("give at least one seed")
    for seed in seed_list:
        if (
            not isinstance(seed, numbers.Integral)
            or isinstance(seed, bool)
            or not 0 <= seed <= MAX_SEED
        ):
            raise InvalidInputError(f"seeds must be integers from 0 to {MAX_SEED}, got {seed!r}")
    rows = [np.random.RandomState(int(seed)).randn(1, z_dim) for seed in seed_list]
    return torch.from_numpy(np.concatenate(rows).astype(np.float32))
