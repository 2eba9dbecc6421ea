"""Direction strips: a labelled grid of one sample moved along several directions, a row
per direction and a column per strength (the unedited sample where the strength is 0),
rendered from its `Recipe` so that the PNG renders the same pixels again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch

from gan_kit.directions.record import Directions, checked_strength
from gan_kit.errors import InvalidInputError
from gan_kit.explore.base import Explorer, NoiseMode
from gan_kit.explore.grids import Grid, _assemble, _check_size, render_recipe
from gan_kit.latents.seeds import checked_seeds
from gan_kit.latents.truncation import checked_psi
from gan_kit.names import DEFAULT_STRENGTHS
from gan_kit.recipes import Recipe

MAX_STRENGTHS = 32


def direction_strip(
    explorer: Explorer,
    directions: Directions,
    seed: int = 0,
    *,
    indices: Sequence[int] | None = None,
    strengths: Sequence[float] = DEFAULT_STRENGTHS,
    psi: float | None = None,
    noise_mode: NoiseMode = "const",
    labels: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
) -> Grid:
    """`seed`'s sample of `explorer`'s model (at `psi`, default the model's) moved along
    `directions` (those at `indices`, default all): a row per direction labelled with its
    name, a column per value of `strengths` (standard deviations). `noise_mode`, `labels`,
    `batch_size` and `progress` as `gan_kit.sample_grid`."""
    chosen = range(len(directions)) if indices is None else indices
    edits = tuple(directions.edit(index, 1.0) for index in chosen)
    if not edits:
        raise InvalidInputError("choose at least one direction for the strip")
    recipe = Recipe(
        model=explorer.model,
        kind=explorer.kind,
        layout="directions",
        seeds=tuple(checked_seeds([seed])),
        psi=(checked_psi(explorer.psi_default if psi is None else psi),),
        noise_mode=noise_mode,
        labels=labels,
        edits=edits,
        strengths=tuple(strengths),
    )
    return render_recipe(recipe, explorer, batch_size=batch_size, progress=progress)


def render_directions_strip(explorer: Explorer, recipe: Recipe, options: dict) -> Grid:
    """The grid of a "directions" recipe (see `Recipe`); `options` as `Explorer.render`."""
    if len(recipe.seeds) != 1 or len(recipe.psi) != 1 or not recipe.edits:
        raise InvalidInputError("a directions recipe needs one seed, one psi and its edits")
    strengths = [checked_strength(value) for value in recipe.strengths or ()]
    if not 1 <= len(strengths) <= MAX_STRENGTHS:
        raise InvalidInputError(
            f"a directions strip needs 1 to {MAX_STRENGTHS} strengths, got {len(strengths)}"
        )
    start = explorer.seed_styles(recipe.seeds, psi=recipe.psi[0], cutoff=recipe.cutoff)
    rows = [
        explorer.apply_edits(start, [replace(edit, strength=strength)])
        for edit in recipe.edits
        for strength in strengths
    ]
    row_labels = tuple(edit.name or f"{edit.method} {edit.index}" for edit in recipe.edits)
    column_labels = tuple("start" if value == 0 else f"{value:+g}" for value in strengths)
    shape = (len(recipe.edits), len(strengths))
    _check_size(shape, explorer.resolution, (row_labels, column_labels, ()))
    images = list(explorer.render_uint8(torch.cat(rows), **options))
    return _assemble(images, shape, row_labels, column_labels, (), recipe)
