"""Labelled image grids: seeds x psi x classes, psi sweeps, and style-mixing matrices.

Every grid is rendered from its `Recipe`, so the recipe saved in a grid's PNG renders the
same pixels again (`render_recipe`). A grid's size is checked against the pixel budget
(`gan_kit.explore.memory.check_grid_size`) before anything is rendered.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from gan_kit.directions.record import Edit
from gan_kit.errors import InvalidInputError
from gan_kit.explore.base import Explorer, NoiseMode
from gan_kit.explore.factory import explorer as open_explorer
from gan_kit.explore.factory import model_reference
from gan_kit.explore.memory import check_cell_count, check_grid_size
from gan_kit.export import write_png
from gan_kit.latents.classes import ClassSpec, format_class
from gan_kit.latents.seeds import checked_seeds
from gan_kit.latents.slots import Layers
from gan_kit.latents.truncation import checked_psi
from gan_kit.recipes import Axis, Recipe
from gan_kit.zoo import registry_entry

if TYPE_CHECKING:
    from matplotlib.figure import Figure

AXES: tuple[Axis, ...] = ("seed", "psi", "class")
BACKGROUND = (255, 255, 255)
INK = (0, 0, 0)
SMALL_FONT_SIZE = 10  # pixels, for cells under 160 px
MIN_FONT_SIZE = 8
Labels = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # rows, columns, captions


@dataclass(frozen=True)
class Grid:
    """Rendered cells and their labels.

    `images` uint8 [rows, columns, H, W, 3]; `filled[r, c]` False marks a blank cell;
    `row_labels` / `column_labels` one per row / column or empty; `captions` one per cell
    (row-major) or empty; `recipe` renders the grid again.
    """

    images: np.ndarray = field(repr=False)
    filled: np.ndarray = field(repr=False)
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    captions: tuple[str, ...]
    recipe: Recipe

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.filled.shape

    def labels(self, show: bool | None = None) -> Labels:
        """(row labels, column labels, captions), all empty when not shown; `show`
        defaults to the recipe's choice."""
        show = self.recipe.labels if show is None else show
        return (self.row_labels, self.column_labels, self.captions) if show else ((), (), ())

    def to_pil(self, labels: bool | None = None) -> Image.Image:
        """The grid as one RGB image: row labels on the left, column labels on top,
        captions in each cell's lower-left corner; `labels` None follows the recipe."""
        row_labels, column_labels, captions = self.labels(labels)
        geometry = _Geometry.of(self.shape, self.images.shape[2], self.labels(labels))
        canvas = Image.new("RGB", geometry.size, BACKGROUND)
        draw = ImageDraw.Draw(canvas)
        cells = list(itertools.product(*map(range, self.shape)))
        for row, column in cells:
            if self.filled[row, column]:
                canvas.paste(
                    Image.fromarray(self.images[row, column]), geometry.corner(row, column)
                )
        half = geometry.cell_size // 2
        for row, label in enumerate(row_labels):
            anchor = (geometry.pad, geometry.corner(row, 0)[1] + half)
            draw.text(anchor, label, INK, geometry.font, anchor="lm")
        for column, label in enumerate(column_labels):
            left, top = geometry.corner(0, column)
            draw.text((left + half, top - geometry.pad), label, INK, geometry.font, anchor="md")
        for (row, column), caption in zip(cells, captions, strict=False):
            if caption:
                left, top = geometry.corner(row, column)
                anchor = (left + geometry.pad, top + geometry.cell_size - geometry.pad)
                draw.rectangle(draw.textbbox(anchor, caption, geometry.font, anchor="ld"), INK)
                draw.text(anchor, caption, BACKGROUND, geometry.font, anchor="ld")
        return canvas

    def figure(self, labels: bool | None = None, cell_inches: float = 2.0) -> Figure:
        """The grid as a matplotlib figure: one axes per cell (`cell_inches` wide), column
        labels as titles, row labels as y labels, captions as x labels; `labels` as
        `to_pil`."""
        from matplotlib.figure import Figure

        row_labels, column_labels, captions = self.labels(labels)
        rows, columns = self.shape
        figure = Figure(figsize=(columns * cell_inches, rows * cell_inches), layout="constrained")
        axes = figure.subplots(rows, columns, squeeze=False)
        for index, (row, column) in enumerate(itertools.product(range(rows), range(columns))):
            ax = axes[row, column]
            ax.set_xticks([])
            ax.set_yticks([])
            if self.filled[row, column]:
                ax.imshow(self.images[row, column])
            else:
                ax.set_frame_on(False)
            if index < len(captions):
                ax.set_xlabel(captions[index])
        for row, label in enumerate(row_labels):
            axes[row, 0].set_ylabel(label)
        for column, label in enumerate(column_labels):
            axes[0, column].set_title(label)
        return figure

    def save_png(
        self, path: str | Path, *, labels: bool | None = None, overwrite: bool = False
    ) -> Path:
        """Write the grid image to `path` with its recipe in the PNG text (atomically);
        `labels` overrides the recipe's choice, `overwrite` replaces an existing file.
        Returns the path."""
        recipe = self.recipe if labels is None else replace(self.recipe, labels=labels)
        image = self.to_pil(recipe.labels)
        return write_png(image, path, text=recipe.png_text(), overwrite=overwrite)


@dataclass(frozen=True)
class _Geometry:
    """Where cells and labels go on the canvas."""

    rows: int
    columns: int
    cell_size: int
    left: int  # width of the row-label margin
    top: int  # height of the column-label margin
    pad: int
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont

    @classmethod
    def of(cls, shape: tuple[int, int], cell_size: int, labels: Labels) -> _Geometry:
        """The layout for `labels` (rows, columns, captions): text 1/16 of a cell high (at
        least SMALL_FONT_SIZE), shrunk (down to MIN_FONT_SIZE) until column labels and
        captions fit in a cell's width."""
        row_labels, column_labels, captions = labels
        pad = max(2, cell_size // 64)
        measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))

        def extent(texts: Sequence[str], font: ImageFont.FreeTypeFont, axis: int) -> int:
            boxes = [measure.textbbox((0, 0), text, font) for text in texts if text]
            return max((box[2 + axis] - box[axis] + 2 * pad for box in boxes), default=0)

        size = max(SMALL_FONT_SIZE, cell_size // 16)
        font = ImageFont.load_default(size=size)
        widest = extent([*column_labels, *captions], font, 0)
        if widest > cell_size:
            size = max(MIN_FONT_SIZE, size * cell_size // widest)
            font = ImageFont.load_default(size=size)
        left, top = extent(row_labels, font, 0), extent(column_labels, font, 1)
        return cls(*shape, cell_size, left, top, pad, font)

    @property
    def size(self) -> tuple[int, int]:
        return self.left + self.columns * self.cell_size, self.top + self.rows * self.cell_size

    def corner(self, row: int, column: int) -> tuple[int, int]:
        """The top-left pixel of a cell."""
        return self.left + column * self.cell_size, self.top + row * self.cell_size


# --- building grids -------------------------------------------------------------------


def sample_grid(
    explorer: Explorer,
    seeds: int | Iterable[int],
    *,
    psi: float | Sequence[float] = 1.0,
    classes: ClassSpec | Sequence[ClassSpec] | None = None,
    rows: Axis = "seed",
    columns: Axis | None = None,
    num_columns: int | None = None,
    cutoff: int | None = None,
    noise_mode: NoiseMode = "const",
    labels: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
    edits: Sequence[Edit] | None = None,
) -> Grid:
    """A grid of samples of `explorer`'s model for `seeds` and `psi` (one value or
    several): the `rows` axis ("seed", "psi" or "class") down, the `columns` axis across;
    the third axis must have one value. Without `columns`, the row axis's values wrap into
    `num_columns` columns (default: about square), each cell captioned (`labels` False:
    no labels). `classes` (conditional models) is one spec or a sequence of specs (ints or
    {class: weight} blends); None uses the model's default for each seed. `cutoff`,
    `noise_mode`, `batch_size` and `progress` as `Explorer.styles` / `Explorer.render`;
    `edits` (`Edit` records, e.g. `directions.edit(0, 2.0)`) move every cell, and the
    recipe keeps them with their vectors."""
    recipe = Recipe(
        model=explorer.model,
        kind=explorer.kind,
        layout="grid",
        seeds=tuple(checked_seeds(seeds)),
        psi=_psi_values(psi),
        classes=explorer.class_choices(classes),
        rows=rows,
        columns=columns,
        num_columns=num_columns,
        cutoff=cutoff,
        noise_mode=noise_mode,
        labels=labels,
        edits=tuple(edits) if edits else None,
    )
    return render_recipe(recipe, explorer, batch_size=batch_size, progress=progress)


def psi_sweep(
    explorer: Explorer, seeds: int | Iterable[int], psis: Sequence[float], **options
) -> Grid:
    """`seeds` down, the truncation values `psis` across, of `explorer`'s model. Options
    as `sample_grid`."""
    return sample_grid(explorer, seeds, psi=psis, rows="seed", columns="psi", **options)


def mixing_matrix(
    explorer: Explorer,
    sources: Iterable[int],
    destinations: Iterable[int],
    layers: Layers,
    *,
    psi: float = 1.0,
    cutoff: int | None = None,
    noise_mode: NoiseMode = "const",
    labels: bool = True,
    batch_size: int | None = None,
    progress: bool = False,
) -> Grid:
    """The StyleGAN paper's style-mixing figure of `explorer`'s model: `destinations`
    seeds ("dst") across the top row, `sources` seeds ("src") down the first column, and
    in each cell the destination with the `layers` slots (or groups) taken from the
    source, all at `psi` and `cutoff`. `noise_mode`, `labels`, `batch_size` and
    `progress` as `sample_grid`."""
    explorer.layout.resolve(layers)  # unknown names fail before anything is rendered
    recipe = Recipe(
        model=explorer.model,
        kind=explorer.kind,
        layout="mixing-matrix",
        seeds=tuple(checked_seeds(destinations)),
        sources=tuple(checked_seeds(sources)),
        layers=(layers,) if isinstance(layers, str) else tuple(layers),
        psi=_psi_values(psi),
        cutoff=cutoff,
        noise_mode=noise_mode,
        labels=labels,
    )
    return render_recipe(recipe, explorer, batch_size=batch_size, progress=progress)


def _psi_values(psi: float | Sequence[float]) -> tuple[float, ...]:
    several = isinstance(psi, Iterable) and not isinstance(psi, str)
    values = tuple(psi) if several else (psi,)
    if not values:
        raise InvalidInputError("give at least one psi")
    return tuple(checked_psi(value) for value in values)


# --- rendering recipes ----------------------------------------------------------------


def render_recipe(
    recipe: Recipe,
    explorer: Explorer | None = None,
    *,
    model: str | Path | None = None,
    trust_model: bool = False,
    device: str | torch.device | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> Grid:
    """Render the grid `recipe` describes on `explorer`, else on `model` (a zoo name, URL
    or path, as `gan_kit.load`), else on the model the recipe names, loaded onto `device`;
    `batch_size` and `progress` as `Explorer.render`.

    A recipe read from a PNG names its model, and a PNG can come from anyone: a zoo model
    (the bundled demos included) is loaded as named, but a path or URL in the recipe only
    with `trust_model=True` (else pass the model you want as `model`).
    """
    if explorer is None:
        if model is not None:
            recipe = replace(recipe, model=model_reference(model))
        trusted = model is not None or trust_model
        explorer = open_explorer(_recipe_model(recipe, trusted=trusted), device)
    if explorer.kind != recipe.kind:
        raise InvalidInputError(f"the recipe is for a {recipe.kind} model, not {explorer.kind}")
    options = dict(noise_mode=recipe.noise_mode, batch_size=batch_size, progress=progress)
    if recipe.layout == "grid":
        return _render_grid(explorer, recipe, options)
    if recipe.layout == "mixing-matrix":
        return _render_mixing_matrix(explorer, recipe, options)
    if recipe.layout == "directions":
        from gan_kit.explore.strips import render_directions_strip

        return render_directions_strip(explorer, recipe, options)
    raise InvalidInputError(f"unknown recipe layout {recipe.layout!r}")


def _recipe_model(recipe: Recipe, *, trusted: bool) -> str:
    """The model a recipe names, if it may be loaded: a registered one, or any if
    `trusted` (the caller named it, or trusts the PNG)."""
    if recipe.model is None:
        raise InvalidInputError("the recipe names no model: pass model=... to render it")
    if not trusted and registry_entry(recipe.model) is None:
        named = recipe.model if len(recipe.model) <= 200 else f"{recipe.model[:195]}[...]"
        raise InvalidInputError(
            f"the recipe names the model {named!r}, a path or URL, which gan_kit loads only "
            "when asked (a PNG from elsewhere could point at any file): pass model=... with "
            "the model to use, or trust_model=True if you trust the PNG's source"
        )
    return recipe.model


def _render_grid(explorer: Explorer, recipe: Recipe, options: dict) -> Grid:
    values = {
        "seed": checked_seeds(recipe.seeds),
        "psi": [checked_psi(psi) for psi in recipe.psi],
        "class": [None] if recipe.classes is None else list(recipe.classes),
    }
    placed = [recipe.rows] if recipe.columns is None else [recipe.rows, recipe.columns]
    if not set(placed) <= set(AXES) or len(set(placed)) != len(placed):
        raise InvalidInputError(
            f"rows and columns must be two different axes of {', '.join(AXES)}, got {placed}"
        )
    if "class" in placed and recipe.classes is None:
        what = "give the classes to lay out" if explorer.n_class else "the model has no classes"
        raise InvalidInputError(f"the class axis needs classes: {what}")
    for axis in AXES:
        if axis not in placed and len(values[axis]) != 1:
            raise InvalidInputError(
                f"{len(values[axis])} {axis} values were given but {axis} is on neither the "
                "rows nor the columns: give one value or put it on an axis"
            )
    check_cell_count(math.prod(len(values[axis]) for axis in placed), explorer.resolution)
    fixed = {axis: values[axis][0] for axis in AXES if axis not in placed}
    cells = [
        {**fixed, **dict(zip(placed, combination, strict=True))}
        for combination in itertools.product(*(values[axis] for axis in placed))
    ]
    if recipe.columns is None:
        num_columns = recipe.num_columns
        if num_columns is None:
            num_columns = math.ceil(math.sqrt(len(cells)))
        if num_columns < 1:
            raise InvalidInputError(f"num_columns must be at least 1, got {num_columns}")
        shape = (math.ceil(len(cells) / num_columns), num_columns)
        row_labels, column_labels = (), ()
        captions = tuple(_label(recipe.rows, cell[recipe.rows]) for cell in cells)
    else:
        shape = (len(values[recipe.rows]), len(values[recipe.columns]))
        row_labels = tuple(_label(recipe.rows, value) for value in values[recipe.rows])
        column_labels = tuple(_label(recipe.columns, value) for value in values[recipe.columns])
        captions = ()
    _check_size(shape, explorer.resolution, (row_labels, column_labels, captions))
    images = list(explorer.render_uint8(_cell_styles(explorer, recipe, cells), **options))
    return _assemble(images, shape, row_labels, column_labels, captions, recipe)


def _cell_styles(explorer: Explorer, recipe: Recipe, cells: list[dict]) -> torch.Tensor:
    """The style code of each cell (seed, psi, class), with the recipe's `layers` taken
    from its `mix_seed` sample at the cell's psi (all in one batch)."""
    samples = [(cell["seed"], cell["psi"], cell["class"]) for cell in cells]
    if recipe.layers is not None:
        if recipe.mix_seed is None:
            raise InvalidInputError("a grid recipe with layers needs a mix_seed to take them from")
        samples += [(recipe.mix_seed, cell["psi"], recipe.mix_class) for cell in cells]
    seeds, psis, classes = zip(*samples, strict=True)
    if all(choice is None for choice in classes):
        classes = None  # every seed's default class (and none for unconditional models)
    styles = explorer.styles(explorer.latents(seeds, classes), psis, recipe.cutoff)
    if recipe.styles is not None:
        styles[: len(cells)] = _inline_styles(explorer, recipe, len(cells))
    if recipe.layers is not None:
        own, mixed_in = styles.split(len(cells))
        styles = explorer.mix(own, mixed_in, recipe.layers)
    return explorer.apply_edits(styles, recipe.edits or ())


def _inline_styles(explorer: Explorer, recipe: Recipe, count: int) -> torch.Tensor:
    """The recipe's inline style code (a projected picture), once per cell."""
    styles = torch.tensor(recipe.styles, dtype=torch.float32)
    if tuple(styles.shape) != explorer.layout.shape:
        raise InvalidInputError(
            f"the recipe's styles have shape {list(styles.shape)}, but {explorer.model} takes "
            f"{list(explorer.layout.shape)}: render it with the model it was projected into"
        )
    if len(recipe.seeds) != 1 or any(psi != 1 for psi in recipe.psi):
        raise InvalidInputError("a recipe with inline styles has one seed and psi 1")
    return styles.to(explorer.device).expand(count, *styles.shape)


def _render_mixing_matrix(explorer: Explorer, recipe: Recipe, options: dict) -> Grid:
    if recipe.sources is None or recipe.layers is None or len(recipe.psi) != 1:
        raise InvalidInputError("a mixing-matrix recipe needs sources, layers and one psi")
    sources, destinations = checked_seeds(recipe.sources), checked_seeds(recipe.seeds)
    shape = (len(sources) + 1, len(destinations) + 1)
    check_cell_count(shape[0] * shape[1], explorer.resolution)
    row_labels = ("", *(f"src {seed}" for seed in sources))
    column_labels = ("", *(f"dst {seed}" for seed in destinations))
    _check_size(shape, explorer.resolution, (row_labels, column_labels, ()))
    styles = explorer.seed_styles(
        [*destinations, *sources], psi=recipe.psi[0], cutoff=recipe.cutoff
    )
    destination_styles, source_styles = styles.split([len(destinations), len(sources)])
    mixed = [
        explorer.mix(destination_styles, source[None], recipe.layers) for source in source_styles
    ]
    images = iter(explorer.render_uint8(torch.cat([styles, *mixed]), **options))
    header = [None, *itertools.islice(images, len(destinations))]
    source_images = list(itertools.islice(images, len(sources)))
    body = [[image, *itertools.islice(images, len(destinations))] for image in source_images]
    cells = header + list(itertools.chain(*body))
    return _assemble(cells, shape, row_labels, column_labels, (), recipe)


def _label(axis: str, value: object) -> str:
    if axis == "class":
        return f"class {format_class(value)}"
    return f"psi {value:g}" if axis == "psi" else f"{axis} {value}"


def _check_size(shape: tuple[int, int], cell_size: int, labels: Labels) -> None:
    check_grid_size(*_Geometry.of(shape, cell_size, labels).size)


def _assemble(
    cells: list[np.ndarray | None],
    shape: tuple[int, int],
    row_labels: tuple[str, ...],
    column_labels: tuple[str, ...],
    captions: tuple[str, ...],
    recipe: Recipe,
) -> Grid:
    """A Grid from row-major cells (None or missing at the end: blank)."""
    rows, columns = shape
    cell_shape = next(cell for cell in cells if cell is not None).shape
    images = np.zeros((rows * columns, *cell_shape), dtype=np.uint8)
    filled = np.zeros(rows * columns, dtype=bool)
    for index, cell in enumerate(cells):
        if cell is not None:
            images[index], filled[index] = cell, True
    return Grid(
        images.reshape(rows, columns, *cell_shape),
        filled.reshape(rows, columns),
        row_labels,
        column_labels,
        captions,
        recipe,
    )
