"""One image as plain data, and favourites: PNG files that carry the image's recipe.

`ImageState` is what the explorer widget shows (a seed, its truncation and class, and
optionally slots taken from a second seed); its record is a `Recipe` (a one-cell grid,
`ImageState.recipe`), so `render_state` draws it as `render_recipe` would and a favourite
is an ordinary gan_kit PNG: `gan-kit rerender` renders it again, mixed or not. Everything
here works without ipywidgets; favourites written by gan_kit 0.1 still load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from gan_kit.errors import InvalidInputError
from gan_kit.explore.base import Explorer, NoiseMode
from gan_kit.explore.grids import render_recipe
from gan_kit.export import write_png
from gan_kit.files import make_folder
from gan_kit.latents.classes import ClassChoice
from gan_kit.recipes import Recipe, recipe_from_png

__all__ = ["ImageState", "load_favourite", "render_state", "save_favourite"]


@dataclass(frozen=True)
class ImageState:
    """One image: a seed and its truncation, optionally with the `mix_layers` slots taken
    from a second sample (`mix_seed`, `mix_classes`). `classes` (conditional models) is a
    class or a {class: weight} blend, None for the seed's `Explorer.default_class`; `psi`
    is its truncation, `cutoff` (StyleGAN2) truncates the first ws only; `noise_mode` as
    `Explorer.render`."""

    seed: int
    psi: float = 1.0
    cutoff: int | None = None
    noise_mode: NoiseMode = "const"
    classes: ClassChoice | None = None
    mix_seed: int | None = None
    mix_classes: ClassChoice | None = None
    mix_layers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mix_layers and self.mix_seed is None:
            raise InvalidInputError("mix_layers need a mix_seed to take the slots from")

    def recipe(self, explorer: Explorer) -> Recipe:
        """This image's recipe on `explorer`'s model: a one-cell grid without labels."""
        return Recipe(
            model=explorer.model,
            kind=explorer.kind,
            layout="grid",
            seeds=(self.seed,),
            psi=(self.psi,),
            classes=None if self.classes is None else (self.classes,),
            cutoff=self.cutoff,
            noise_mode=self.noise_mode,
            layers=self.mix_layers or None,
            mix_seed=self.mix_seed,
            mix_class=self.mix_classes,
            labels=False,
        )

    @classmethod
    def from_recipe(cls, recipe: Recipe) -> ImageState:
        """The image a one-image recipe describes (a grid of one seed, psi and class)."""
        classes = recipe.classes or (None,)
        if recipe.layout != "grid" or {len(recipe.seeds), len(recipe.psi), len(classes)} != {1}:
            raise InvalidInputError("the recipe describes a grid of several images, not one")
        return cls(
            seed=recipe.seeds[0],
            psi=recipe.psi[0],
            cutoff=recipe.cutoff,
            noise_mode=recipe.noise_mode,
            classes=classes[0],
            mix_seed=recipe.mix_seed,
            mix_classes=recipe.mix_class,
            mix_layers=recipe.layers or (),
        )


def render_state(explorer: Explorer, state: ImageState) -> np.ndarray:
    """The image of `state` on `explorer` as uint8 [R, R, 3], exactly as its recipe renders."""
    return render_recipe(state.recipe(explorer), explorer).images[0, 0]


def save_favourite(
    explorer: Explorer, state: ImageState, folder: str | Path, image: np.ndarray | None = None
) -> Path:
    """Write the image of `state` on `explorer` as a new PNG in `folder` (created if need
    be), carrying its recipe; `image` (uint8 [R, R, 3]) is used instead of rendering it
    again where the caller has it. Returns the new file's path."""
    folder = make_folder(folder)
    pixels = render_state(explorer, state) if image is None else image
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    stem = f"{explorer.kind}-seed{state.seed}-{stamp}"
    path = folder / f"{stem}.png"
    number = 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}.png"
    return write_png(pixels, path, text=state.recipe(explorer).png_text())


def load_favourite(path: str | Path, explorer: Explorer | None = None) -> ImageState:
    """The image stored in the favourite PNG at `path` (or any one-image gan_kit PNG, or a
    favourite written by gan_kit 0.1); with `explorer`, one saved from the other kind of
    model is refused."""
    recipe = recipe_from_png(path)
    try:
        state = ImageState.from_recipe(recipe)
    except InvalidInputError as error:
        raise InvalidInputError(f"{path}: {error}") from None
    if explorer is not None and recipe.kind != explorer.kind:
        raise InvalidInputError(f"{path} was saved from a {recipe.kind} model, not {explorer.kind}")
    return state
