"""Recipes: everything needed to render an image again, stored inside the PNG itself.

A `Recipe` is a small JSON-serialisable record (model reference, seeds, psi, classes,
layer choices, ...): of a grid, or of one image (a one-cell grid, mixed or not, as the
explorer widget's favourites are). Saving writes it as PNG text under the key
"gan_kit.recipe"; `recipe_from_png(path)` reads it back (favourites written by gan_kit 0.1,
under "gan_kit.favourite", too), and `gan_kit.render_recipe(recipe)` renders the same
pixels again (same model file and device; noise_mode "random" is not reproducible).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal

from gan_kit.directions.record import Edit
from gan_kit.errors import GanKitError, InvalidInputError
from gan_kit.export import read_png_text
from gan_kit.generators.kinds import KINDS
from gan_kit.generators.stylegan2 import NOISE_MODES
from gan_kit.json_text import load_json
from gan_kit.latents.classes import ClassChoice
from gan_kit.values import is_number, is_whole_number
from gan_kit.version import __version__

__all__ = ["FAVOURITE_KEY", "RECIPE_KEY", "Axis", "Recipe", "recipe_from_png"]

RECIPE_KEY = "gan_kit.recipe"
FAVOURITE_KEY = "gan_kit.favourite"  # gan_kit 0.1's favourites: {"kind", "model", "state"}
Axis = Literal["seed", "psi", "class"]
MAX_RECIPE_VALUES = 100_000  # values in one list of a recipe: more than any grid holds
MAX_TEXT_CHARS = 4096  # of one text value (a model reference, a version)


# --- records read back from JSON (PNG text edited by hand is still just text) ------------


def _is_class(value: object) -> bool:
    """A class index, or a {class: weight} blend with JSON's string keys."""
    if isinstance(value, dict):
        keys_ok = all(isinstance(k, (int, str)) and str(k).isdigit() for k in value)
        return bool(value) and keys_ok and all(map(is_number, value.values()))
    return is_whole_number(value)


def _list_of(test: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: isinstance(value, (list, tuple)) and all(map(test, value))


def _optional(test: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: value is None or test(value)


def _one_of(*choices: object) -> Callable[[object], bool]:
    return lambda value: value in choices


FieldRules = dict[str, tuple[Callable[[object], bool], str]]
INT = (is_whole_number, "a whole number")
REAL = (is_number, "a number")
OPTIONAL_INT = (_optional(is_whole_number), "a whole number or null")
OPTIONAL_CLASS = (_optional(_is_class), "a class, a {class: weight} blend or null")
STRINGS = (_list_of(lambda v: isinstance(v, str)), "a list of names")
NOISE = (_one_of(*NOISE_MODES), " or ".join(map(repr, NOISE_MODES)))


def _short(value: object, limit: int = 200) -> str:
    """repr(value), cut to `limit` characters (recipe text can be long)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}[...]"


def check_fields(data: dict, rules: FieldRules, what: str) -> None:
    """Refuse, with the field's name, any value of `data` that breaks its rule."""
    for name, (test, description) in rules.items():
        if name in data and not test(data[name]):
            raise InvalidInputError(
                f"{what}'s {name} must be {description}, got {_short(data[name])}: the "
                "PNG's text was changed by hand or by another program; save the image again"
            )


def check_lengths(data: dict, what: str) -> None:
    """Refuse, before looking inside, any list of `data` with over MAX_RECIPE_VALUES
    values (a recipe of a million seeds is refused at once, not after its work), and
    any text over MAX_TEXT_CHARS characters."""
    for name, value in data.items():
        if isinstance(value, (list, dict)) and len(value) > MAX_RECIPE_VALUES:
            raise InvalidInputError(
                f"{what}'s {name} has {len(value)} values, over the {MAX_RECIPE_VALUES} a "
                "recipe may hold: the PNG was not written by gan_kit"
            )
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            raise InvalidInputError(
                f"{what}'s {name} has {len(value)} characters, over the {MAX_TEXT_CHARS} a "
                "recipe's text may have: the PNG was not written by gan_kit"
            )


def json_class(choice: ClassChoice | None) -> ClassChoice | None:
    """A class choice read from JSON (blend keys come back as strings)."""
    if isinstance(choice, dict):
        return {int(key): float(weight) for key, weight in choice.items()}
    return choice


_AXIS = (_one_of("seed", "psi", "class"), '"seed", "psi" or "class"')
_RECIPE_FIELDS: FieldRules = {
    "model": (_optional(lambda v: isinstance(v, str)), "a name, URL or path"),
    "kind": (_one_of(*KINDS), " or ".join(json.dumps(kind) for kind in KINDS)),
    "layout": (
        _one_of("grid", "mixing-matrix", "directions"),
        '"grid", "mixing-matrix" or "directions"',
    ),
    "seeds": (_list_of(is_whole_number), "a list of whole numbers"),
    "psi": (_list_of(is_number), "a list of numbers"),
    "classes": (_optional(_list_of(_is_class)), "a list of classes or null"),
    "rows": _AXIS,
    "columns": (_optional(_AXIS[0]), '"seed", "psi", "class" or null'),
    "num_columns": OPTIONAL_INT,
    "cutoff": OPTIONAL_INT,
    "noise_mode": NOISE,
    "layers": (_optional(STRINGS[0]), "a list of names or null"),
    "sources": (_optional(_list_of(is_whole_number)), "a list of whole numbers or null"),
    "mix_seed": OPTIONAL_INT,
    "mix_class": OPTIONAL_CLASS,
    "labels": (lambda v: isinstance(v, bool), "true or false"),
    "edits": (_optional(lambda v: isinstance(v, list) and len(v) <= 64), "a list of edits or null"),
    "strengths": (_optional(_list_of(is_number)), "a list of numbers or null"),
    "gan_kit_version": (lambda v: isinstance(v, str), "a version"),
    "styles": (
        _optional(lambda v: bool(v) and _list_of(_list_of(is_number))(v)),
        "a list of style rows (lists of numbers) or null",
    ),
}
# left out of the JSON while unset, so that older gan_kits read the recipe
_SINCE_0_2 = ("mix_seed", "mix_class", "styles", "edits", "strengths")


@dataclass(frozen=True)
class Recipe:
    """How a grid image (or one image: a one-cell grid) was made: by `model` (as given
    to gan_kit.load: zoo name, URL or absolute path; None: not recorded), a generator of
    `kind`, with `noise_mode`, captioned unless `labels` is False, by gan_kit
    `gan_kit_version`; `classes` (conditional models) holds the class axis's values.

    `layout` "grid": one cell per combination of the `rows` axis values and the `columns`
    axis values ("seed", "psi", "class"; every other axis has one value); with `columns`
    None the row axis's cells wrap into `num_columns` columns. With `layers`, every cell
    takes those slots from the sample of `mix_seed` (class `mix_class`, None: the seed's
    default), rendered at the cell's psi and cutoff. `layout` "mixing-matrix": rows are
    the `sources` seeds, columns the destination `seeds`, each cell the destination with
    the `layers` slots taken from its source. `edits` (`Edit` records, each with its
    direction vector) move every cell's style code, in order, after any mixing.
    `layout` "directions": one seed and psi; a row per edit of `edits`, a column per
    value of `strengths` (each replacing the row edit's strength).

    `styles` (a projected picture, `gan_kit.project`) holds one image's style code inline,
    one row per slot (StyleGAN2: the ws); it replaces the seeds' own styles in every cell
    (one seed, psi 1), and with `layers` is mixed with `mix_seed` like any seed.
    """

    model: str | None  # as given to gan_kit.load: zoo name, URL or absolute path
    kind: str  # the generator's kind: one of gan_kit.generators.kinds.KINDS
    layout: Literal["grid", "mixing-matrix"]
    seeds: tuple[int, ...]
    psi: tuple[float, ...] = (1.0,)
    classes: tuple[ClassChoice, ...] | None = None  # None: each seed's default class
    rows: Axis = "seed"
    columns: Axis | None = None
    num_columns: int | None = None
    cutoff: int | None = None
    noise_mode: str = "const"
    layers: tuple[str, ...] | None = None
    sources: tuple[int, ...] | None = None
    mix_seed: int | None = None
    mix_class: ClassChoice | None = None
    labels: bool = True
    edits: tuple[Edit, ...] | None = None
    strengths: tuple[float, ...] | None = None
    gan_kit_version: str = __version__
    styles: tuple[tuple[float, ...], ...] | None = None

    def to_json(self) -> str:
        """The recipe as JSON (what `from_json` reads)."""
        data = asdict(self)
        for name in _SINCE_0_2:
            if data[name] is None:
                del data[name]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        """The recipe written by `to_json` as `text` (JSON lists become tuples, class keys
        ints)."""
        return cls.from_dict(load_json(text, "the recipe"), "the recipe")

    @classmethod
    def from_dict(cls, data: object, what: str) -> Recipe:
        """The recipe of `asdict(recipe)` read back from JSON as `data`, each field checked;
        `what` names it in errors ("the recipe")."""
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or not {"model", "kind", "layout", "seeds"} <= data.keys():
            raise InvalidInputError(f"{what} lacks model, kind, layout or seeds")
        unknown = sorted(data.keys() - known)
        if unknown:
            raise InvalidInputError(
                f"{what} has fields this gan_kit does not know ({', '.join(unknown)}): "
                f"it was written by gan_kit {data.get('gan_kit_version')}; upgrade gan_kit"
            )
        check_lengths(data, what)
        check_fields(data, _RECIPE_FIELDS, what)
        data = dict(data)
        for name in ("seeds", "psi", "layers", "sources", "strengths"):
            if data.get(name) is not None:
                data[name] = tuple(data[name])
        if data.get("classes") is not None:
            data["classes"] = tuple(json_class(c) for c in data["classes"])
        data["mix_class"] = json_class(data.get("mix_class"))
        if data.get("styles") is not None:
            data["styles"] = tuple(tuple(float(v) for v in row) for row in data["styles"])
        if data.get("edits") is not None:
            data["edits"] = tuple(
                Edit.from_dict(edit, f"{what}'s edit {index}")
                for index, edit in enumerate(data["edits"])
            )
        return cls(**data)

    def png_text(self) -> dict[str, str]:
        """The PNG text chunks that carry this recipe."""
        return {RECIPE_KEY: self.to_json(), "Software": f"gan_kit {self.gan_kit_version}"}


def recipe_from_png(path: str | Path) -> Recipe:
    """The recipe stored in the PNG at `path`, saved by gan_kit (a grid, an image or a
    favourite)."""
    text = read_png_text(path)
    if FAVOURITE_KEY in text:  # written by gan_kit 0.1: richer than its recipe, if any
        return _recipe_of_favourite_0_1(text[FAVOURITE_KEY], path)
    if RECIPE_KEY not in text:
        raise GanKitError(f"{path} holds no gan_kit recipe (it was not saved by gan_kit)")
    return Recipe.from_json(text[RECIPE_KEY])


# --- favourites written by gan_kit 0.1 --------------------------------------------------

_FAVOURITE_0_1_STATE: FieldRules = {
    "seed": INT,
    "psi": REAL,
    "cutoff": OPTIONAL_INT,
    "noise_mode": NOISE,
    "classes": OPTIONAL_CLASS,
    "mix_seed": OPTIONAL_INT,
    "mix_classes": OPTIONAL_CLASS,
    "mix_layers": STRINGS,
}


def _recipe_of_favourite_0_1(text: str, path: str | Path) -> Recipe:
    """The one-image recipe of a gan_kit 0.1 favourite: JSON {"kind", "model", "state"},
    the state being the explorer widget's (seed, psi, cutoff, noise_mode, classes,
    mix_seed, mix_classes, mix_layers)."""
    saved = load_json(text, f"{path}'s favourite")
    if not isinstance(saved, dict) or "kind" not in saved or "state" not in saved:
        raise InvalidInputError(f"{path}'s favourite lacks its kind or state")
    state = saved["state"]
    if not isinstance(state, dict) or "seed" not in state:
        raise InvalidInputError(
            f"a favourite's state needs at least a seed, got {str(state)[:200]!r}"
        )
    unknown = sorted(state.keys() - _FAVOURITE_0_1_STATE.keys())
    if unknown:
        raise InvalidInputError(
            f"the favourite has fields this gan_kit does not know ({', '.join(unknown)}): "
            "it was saved by a newer gan_kit; upgrade gan_kit"
        )
    check_fields(state, _FAVOURITE_0_1_STATE, "the favourite")
    classes = state.get("classes")
    recipe = {
        "model": saved.get("model"),
        "kind": saved["kind"],
        "layout": "grid",
        "seeds": [state["seed"]],
        "psi": [state.get("psi", 1.0)],
        "classes": None if classes is None else [classes],
        "cutoff": state.get("cutoff"),
        "noise_mode": state.get("noise_mode", "const"),
        "layers": state.get("mix_layers") or None,
        "mix_seed": state.get("mix_seed"),
        "mix_class": state.get("mix_classes"),
        "labels": False,
        "gan_kit_version": "0.1.0",
    }
    return Recipe.from_dict(recipe, "the favourite")
