"""What an explorer widget shows, as plain data: rendering, animation paths and favourites.

Everything here works without ipywidgets: `render_state(explorer, ImageState(seed=3))`
gives the pixels a widget would show, and favourites are ordinary PNG files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from gan_kit.errors import GanKitError, InvalidInputError
from gan_kit.explore import Explorer, NoiseMode
from gan_kit.export import read_png_text, write_png
from gan_kit.files import make_folder
from gan_kit.latents.classes import ClassChoice
from gan_kit.latents.interpolation import Easing, Method
from gan_kit.recipes import (
    INT,
    NOISE,
    OPTIONAL_CLASS,
    OPTIONAL_INT,
    REAL,
    RECIPE_KEY,
    STRINGS,
    FieldRules,
    Recipe,
    check_fields,
    json_class,
)

FAVOURITE_KEY = "gan_kit.favourite"  # PNG text key of a favourite's ImageState, as JSON


@dataclass(frozen=True)
class ImageState:
    """One image: a seed and its truncation, optionally with the `mix_layers` slots taken
    from a second sample (`mix_seed`, `mix_classes`). `classes` (conditional models) is a
    class or a {class: weight} blend, None for the seed's `Explorer.default_class`;
    `cutoff` (StyleGAN2) truncates the first ws only."""

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

    def styles(self, explorer: Explorer) -> torch.Tensor:
        """The style code [1, *layout.shape] of this image."""
        seeds, classes = [self.seed], [self.classes]
        if self.mix_layers:
            seeds.append(self.mix_seed)
            classes.append(self.mix_classes)
        if not explorer.n_class:
            classes = None
        styles = explorer.seed_styles(seeds, psi=self.psi, cutoff=self.cutoff, classes=classes)
        if not self.mix_layers:
            return styles
        return explorer.mix(styles[:1], styles[1:], self.mix_layers)

    def recipe(self, explorer: Explorer) -> Recipe | None:
        """The core recipe of this image (a one-cell grid without labels, which `gan-kit
        rerender` understands); None for a mixed image, which recipes cannot describe."""
        if self.mix_layers:
            return None
        return Recipe(
            model=explorer.model,
            kind=explorer.kind,
            layout="grid",
            seeds=(self.seed,),
            psi=(self.psi,),
            classes=None if self.classes is None else (self.classes,),
            cutoff=self.cutoff,
            noise_mode=self.noise_mode,
            labels=False,
        )

    @classmethod
    def from_dict(cls, data: object) -> ImageState:
        """The state of `asdict(state)` read back from JSON, each field checked."""
        if not isinstance(data, dict) or "seed" not in data:
            raise InvalidInputError(f"a favourite's state needs at least a seed, got {data!r}")
        unknown = sorted(data.keys() - {f.name for f in fields(cls)})
        if unknown:
            raise InvalidInputError(
                f"the favourite has fields this gan_kit does not know ({', '.join(unknown)}): "
                "it was saved by a newer gan_kit; upgrade gan_kit"
            )
        check_fields(data, _STATE_FIELDS, "the favourite")
        data = dict(data)
        data["mix_layers"] = tuple(data.get("mix_layers", ()))
        data["classes"] = json_class(data.get("classes"))
        data["mix_classes"] = json_class(data.get("mix_classes"))
        return cls(**data)


_STATE_FIELDS: FieldRules = {
    "seed": INT,
    "psi": REAL,
    "cutoff": OPTIONAL_INT,
    "noise_mode": NOISE,
    "classes": OPTIONAL_CLASS,
    "mix_seed": OPTIONAL_INT,
    "mix_classes": OPTIONAL_CLASS,
    "mix_layers": STRINGS,
}


def render_state(explorer: Explorer, state: ImageState) -> np.ndarray:
    """The image of `state` as uint8 [R, R, 3]."""
    return explorer.render_uint8(state.styles(explorer), noise_mode=state.noise_mode)[0]


@dataclass(frozen=True)
class AnimationPath:
    """A path through keyframe seeds (see `Explorer.interpolate` for frame counts)."""

    seeds: tuple[int, ...]
    frames_per_segment: int = 12
    loop: bool = True
    method: Method = "slerp"
    easing: Easing = "linear"
    psi: float = 1.0
    noise_mode: NoiseMode = "const"
    fps: float = 15

    def styles(self, explorer: Explorer) -> torch.Tensor:
        """The style codes of every frame."""
        if len(self.seeds) < 2:
            raise InvalidInputError(f"give at least two keyframe seeds, got {list(self.seeds)}")
        return explorer.interpolate(
            explorer.latents(self.seeds),
            self.frames_per_segment,
            loop=self.loop,
            method=self.method,
            easing=self.easing,
            psi=self.psi,
        )


# --- favourites -------------------------------------------------------------------------


def save_favourite(
    explorer: Explorer, state: ImageState, folder: str | Path, image: np.ndarray | None = None
) -> Path:
    """Write the image of `state` (rendered unless given) as a new PNG in `folder`, carrying
    the state and, where one describes it, the core recipe; returns its path."""
    folder = make_folder(folder)
    pixels = render_state(explorer, state) if image is None else image
    saved = {"kind": explorer.kind, "model": explorer.model, "state": asdict(state)}
    text = {FAVOURITE_KEY: json.dumps(saved)}
    recipe = state.recipe(explorer)
    if recipe is not None:
        text.update(recipe.png_text())
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    stem = f"{explorer.kind}-seed{state.seed}-{stamp}"
    path = folder / f"{stem}.png"
    number = 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}.png"
    return write_png(pixels, path, text=text)


def load_favourite(path: str | Path, explorer: Explorer | None = None) -> ImageState:
    """The state stored in a favourite PNG (or in a one-image PNG with a core recipe); with
    `explorer`, refuses a state saved from the other kind of model."""
    text = read_png_text(path)
    if FAVOURITE_KEY in text:
        try:
            saved = json.loads(text[FAVOURITE_KEY])
        except json.JSONDecodeError as error:
            raise InvalidInputError(f"{path}'s favourite is not valid JSON ({error})") from None
        if not isinstance(saved, dict) or "kind" not in saved or "state" not in saved:
            raise InvalidInputError(f"{path}'s favourite lacks its kind or state")
        kind, state = saved["kind"], ImageState.from_dict(saved["state"])
    elif RECIPE_KEY in text:
        recipe = Recipe.from_json(text[RECIPE_KEY])
        if recipe.layout != "grid" or len(recipe.seeds) != 1 or len(recipe.psi) != 1:
            raise InvalidInputError(f"{path} holds a grid of several images, not one image")
        classes = None if recipe.classes is None else recipe.classes[0]
        kind = recipe.kind
        state = ImageState(
            recipe.seeds[0], recipe.psi[0], recipe.cutoff, recipe.noise_mode, classes
        )
    else:
        raise GanKitError(f"{path} holds no gan_kit favourite or recipe")
    if explorer is not None and kind != explorer.kind:
        raise InvalidInputError(f"{path} was saved from a {kind} model, not {explorer.kind}")
    return state
