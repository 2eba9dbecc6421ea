"""The discriminator as a critic: rank random seeds by how real D finds their images.

Gwern's discriminator ranking: a StyleGAN2's own D scores its samples, and the best
scored are kept (rejection sampling). Each image is scored alone (a minibatch-stddev
group of one), so a seed's score does not depend on the other seeds ranked with it.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from gan_kit.discriminators.stylegan2 import StyleGAN2Discriminator
from gan_kit.errors import InvalidInputError
from gan_kit.explore.base import Explorer
from gan_kit.generators.stylegan2 import StyleGAN2Generator
from gan_kit.values import is_whole_number

__all__ = ["best_seeds", "seed_scores"]

MAX_SEEDS = 1_000_000


def _discriminator(
    explorer: Explorer, given: StyleGAN2Discriminator | None
) -> StyleGAN2Discriminator:
    if not isinstance(explorer.generator, StyleGAN2Generator):
        raise InvalidInputError(
            "seeds are ranked by a StyleGAN2 discriminator; this explorer holds a "
            f"{explorer.kind} model"
        )
    if given is not None:
        return given
    if explorer.model is None:
        raise InvalidInputError(
            "the explorer records no model file to read the discriminator from: pass "
            "discriminator=gan_kit.load_discriminator(path)"
        )
    from gan_kit.zoo.discriminator import load_discriminator

    return load_discriminator(explorer.model, device=explorer.device)


def seed_scores(
    explorer: Explorer,
    seeds: Iterable[int],
    *,
    psi: float | None = None,
    discriminator: StyleGAN2Discriminator | None = None,
) -> list[float]:
    """D's score of each of `seeds`' images on the StyleGAN2 `explorer` (higher: more
    real), rendered at `psi` (None: the model's default) with constant noise;
    `discriminator` None loads the model's own."""
    critic = _discriminator(explorer, discriminator)
    seeds = list(seeds)
    psi = explorer.psi_default if psi is None else psi
    scores = []
    with torch.no_grad():
        for start in range(0, len(seeds), 16):
            styles = explorer.seed_styles(seeds[start : start + 16], psi=psi)
            images = explorer.render(styles).to(critic.resample_kernel.device) * 2 - 1
            scores += [float(critic(image[None])) for image in images]
    return scores


def best_seeds(
    explorer: Explorer,
    n: int,
    keep: int,
    *,
    first_seed: int = 0,
    psi: float | None = None,
    discriminator: StyleGAN2Discriminator | None = None,
) -> list[tuple[int, float]]:
    """The `keep` best of the `n` seeds `first_seed`.. of the StyleGAN2 `explorer` by its
    D's score, as (seed, score), best first; `psi` and `discriminator` as `seed_scores`."""
    for name, value in (("n", n), ("keep", keep)):
        if not is_whole_number(value) or not 1 <= value <= MAX_SEEDS:
            raise InvalidInputError(
                f"{name} must be a whole number from 1 to {MAX_SEEDS}, got {value!r}"
            )
    if keep > n:
        raise InvalidInputError(f"cannot keep {keep} of {n} seeds: keep at most n")
    if not is_whole_number(first_seed) or first_seed < 0:
        raise InvalidInputError(f"first_seed must be a whole number >= 0, got {first_seed!r}")
    seeds = range(first_seed, first_seed + n)
    scores = seed_scores(explorer, seeds, psi=psi, discriminator=discriminator)
    ranked = sorted(zip(seeds, scores, strict=True), key=lambda pair: (-pair[1], pair[0]))
    return ranked[:keep]
