"""Recipes: everything needed to render an image again, stored inside the PNG itself.

A `Recipe` is a small JSON-serialisable record (model reference, seeds, psi, classes,
layer choices, ...). Saving a grid writes it as PNG text under the key "gan_kit.recipe";
`recipe_from_png(path)` reads it back, and `gan_kit.render_recipe(recipe)` renders the
same pixels again (same model file and device; noise_mode "random" is not reproducible).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

from gan_kit.errors import GanKitError, InvalidInputError
from gan_kit.export import read_png_text
from gan_kit.latents.classes import ClassChoice

RECIPE_KEY = "gan_kit.recipe"
Axis = Literal["seed", "psi", "class"]


def _gan_kit_version() -> str:
    from gan_kit import __version__

    return __version__


@dataclass(frozen=True)
class Recipe:
    """How a grid image was made.

    `layout` "grid": one cell per combination of the `rows` axis values and the `columns`
    axis values ("seed", "psi", "class"; every other axis has one value); with `columns`
    None the row axis's cells wrap into `num_columns` columns. `layout` "mixing-matrix":
    rows are the `sources` seeds, columns the destination `seeds`, each cell the
    destination with the `layers` slots taken from its source.
    """

    model: str | None  # as given to gan_kit.load: zoo name, URL or absolute path
    kind: str  # "stylegan2" or "biggan"
    layout: Literal["grid", "mixing-matrix"]
    seeds: tuple[int, ...]
    psi: tuple[float, ...] = (1.0,)
    classes: tuple[ClassChoice, ...] | None = None  # None: each model's default per seed
    rows: Axis = "seed"
    columns: Axis | None = None
    num_columns: int | None = None
    cutoff: int | None = None
    noise_mode: str = "const"
    layers: tuple[str, ...] | None = None
    sources: tuple[int, ...] | None = None
    labels: bool = True
    gan_kit_version: str = field(default_factory=_gan_kit_version)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        """The recipe written by `to_json` (JSON lists become tuples, class keys ints)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"the recipe is not valid JSON: {exc}") from None
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or not {"model", "kind", "layout", "seeds"} <= data.keys():
            raise InvalidInputError("the recipe lacks model, kind, layout or seeds")
        unknown = sorted(data.keys() - known)
        if unknown:
            raise InvalidInputError(
                f"the recipe has fields this gan_kit does not know ({', '.join(unknown)}): "
                f"it was written by gan_kit {data.get('gan_kit_version')}; upgrade gan_kit"
            )
        for name in ("seeds", "psi", "layers", "sources"):
            if data.get(name) is not None:
                data[name] = tuple(data[name])
        if data.get("classes") is not None:
            data["classes"] = tuple(
                {int(k): w for k, w in c.items()} if isinstance(c, dict) else c
                for c in data["classes"]
            )
        return cls(**data)

    def png_text(self) -> dict[str, str]:
        """The PNG text chunks that carry this recipe."""
        return {RECIPE_KEY: self.to_json(), "Software": f"gan_kit {self.gan_kit_version}"}


def recipe_from_png(path: str | Path) -> Recipe:
    """The recipe stored in a PNG saved by gan_kit."""
    text = read_png_text(path)
    if RECIPE_KEY not in text:
        raise GanKitError(f"{path} holds no gan_kit recipe (it was not saved by gan_kit)")
    return Recipe.from_json(text[RECIPE_KEY])
