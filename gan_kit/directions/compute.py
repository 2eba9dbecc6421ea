"""`sefa` and `ganspace`: directions of an explorer's model, cached per model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from gan_kit.directions import cache as directions_cache
from gan_kit.directions.factorize import pca_basis, regressed_pca_basis, scales_along, sefa_basis
from gan_kit.directions.record import Directions
from gan_kit.errors import InvalidInputError
from gan_kit.latents.slots import Layers
from gan_kit.values import is_whole_number

if TYPE_CHECKING:
    from gan_kit.explore.base import Explorer

SCALE_SAMPLES = 4096  # codes sampled to measure the scale of each direction
MAX_SAMPLES = 1_000_000


def sefa(
    explorer: Explorer, slots: Layers | None = None, top: int = 8, *, cache: bool = True
) -> Directions:
    """The `top` SeFa directions (closed-form factorization, Shen & Zhou 2021) of the
    weights that read `slots` (slot or group names inside one of the explorer's
    `direction_groups`; None: all of the first, e.g. BigGAN's z chunks, where "class"
    gives directions between classes) of `explorer`'s model; `cache` keeps and reuses
    them under GAN_KIT_CACHE."""
    chosen = explorer.direction_slots(slots)

    def basis() -> torch.Tensor:
        return sefa_basis([w for slot in chosen for w in explorer.reading_weights(slot)])

    return _directions(explorer, "sefa", chosen, top, "", basis, cache)


def ganspace(
    explorer: Explorer,
    slots: Layers | None = None,
    top: int = 8,
    *,
    samples: int = 4096,
    cache: bool = True,
) -> Directions:
    """The `top` GANSpace directions (Haerkoenen et al. 2020) of `explorer`'s model, to
    move `slots` (as `sefa`): principal components of `samples` sampled w (StyleGAN2), or
    of the activations of the layers reading the chosen z chunks, regressed onto z
    (BigGAN); `cache` as `sefa`."""
    chosen = explorer.direction_slots(slots)
    if not is_whole_number(samples) or not 2 <= samples <= MAX_SAMPLES:
        raise InvalidInputError(
            f"samples must be a whole number from 2 to {MAX_SAMPLES}, got {samples!r}"
        )

    def basis() -> torch.Tensor:
        codes = explorer.sample_codes(samples, seed=1, slots=chosen)
        if not explorer.ganspace_reads_layers:
            return pca_basis(codes)
        weights = [w for slot in chosen for w in explorer.reading_weights(slot)]
        return regressed_pca_basis(codes, weights)

    return _directions(explorer, "ganspace", chosen, top, f"samples={samples}", basis, cache)


def _directions(
    explorer: Explorer,
    method: str,
    slots: tuple[str, ...],
    top: int,
    settings: str,
    basis: Callable[[], torch.Tensor],
    cache: bool,
) -> Directions:
    """The first `top` of the full basis `basis()` computes (or the cache holds)."""
    dim = explorer.slot_width(slots[0])
    if not is_whole_number(top) or not 1 <= top <= dim:
        raise InvalidInputError(
            f"top must be a whole number from 1 to {dim} (the dimension of this model's "
            f"slot codes), got {top!r}"
        )
    fingerprint = explorer.fingerprint
    empty = Directions(torch.zeros(1, dim), torch.ones(1), slots, method, fingerprint, settings)
    found = directions_cache.load_basis(fingerprint, empty.key, dim) if cache else None
    if found is None:
        vectors = basis().float()
        scales = scales_along(explorer.sample_codes(SCALE_SAMPLES, slots=slots), vectors)
        if cache:
            directions_cache.save_basis(fingerprint, empty.key, vectors, scales)
    else:
        vectors, scales = found
    names = directions_cache.load_names(fingerprint, empty.key, top) if cache else None
    return Directions(
        vectors[:top].clone(), scales[:top].clone(), slots, method, fingerprint, settings, names
    )
