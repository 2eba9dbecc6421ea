"""`BreedingStudio`: a parent image and a grid of its children (mutations, see
`gan_kit.explore.breeding`); clicking a child makes it the parent, undo goes back, "gene"
sliders move the parent along the model's top semantic directions (named where users
named them), any parent can be kept as a favourite (a PNG carrying its genome), and two
favourites can be crossbred with one slider per layer group. Thin over the core: every
image is a `Genome` rendered by the explorer, on the frame loop of `Preview` (no
threads)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch

from gan_kit.directions import Directions, sefa
from gan_kit.errors import GanKitError, InvalidInputError
from gan_kit.explore import Explorer
from gan_kit.explore.breeding import (
    MAX_CHILDREN,
    Genome,
    History,
    breeding_groups,
    crossbreed,
    express_genes,
    mutate,
)
from gan_kit.explore.favourites import load_favourite
from gan_kit.explore.genome_png import load_genome, save_genome
from gan_kit.explore.tiles import tile, tile_at
from gan_kit.latents.seeds import MAX_SEED
from gan_kit.widgets.controls import float_slider, psi_slider
from gan_kit.widgets.preview import Preview

MAX_SHEET_WIDTH = 768  # CSS pixels of the children grid
GENE_RANGE = 5.0  # the gene sliders' reach, in standard deviations


@dataclass(frozen=True)
class Brood:
    """What the children pane shows: `count` children of `parent` (see `mutate`)."""

    parent: Genome
    count: int
    radius: float
    layers: tuple[str, ...]
    seed: int
    psi: float


class BreedingStudio:
    """The breeding studio of `explorer`; display it (or `.widget`) in a notebook.

    Args:
        explorer: the model (`gan_kit.explorer(...)`), StyleGAN2 or BigGAN.
        seed: the seed of the first parent.
        psi: the truncation of the first parent and of the samples children move toward
            (default: the model's, `explorer.psi_default`).
        children: how many children the grid shows (1 to 64).
        columns: the grid's width in children.
        radius: the first mutation radius (0: clones, 1: the random samples' slots).
        favourites: the folder where "keep favourite" saves PNGs and whose bred PNGs
            the crossbreed menus offer.
        directions: the "genes", one slider each (`gan_kit.sefa(...)` or
            `gan_kit.ganspace(...)`, named with `with_names`); default: the model's top
            `genes` SeFa directions.
        genes: how many SeFa directions get sliders when `directions` is not given (0:
            none).
    """

    def __init__(
        self,
        explorer: Explorer,
        *,
        seed: int = 0,
        psi: float | None = None,
        children: int = 8,
        columns: int = 4,
        radius: float = 0.5,
        favourites: str | Path = "favourites",
        directions: Directions | None = None,
        genes: int = 6,
    ) -> None:
        if not isinstance(children, int) or not 1 <= children <= MAX_CHILDREN:
            raise InvalidInputError(f"children must be from 1 to {MAX_CHILDREN}, got {children!r}")
        if not isinstance(columns, int) or columns < 1:
            raise InvalidInputError(f"columns must be a whole number >= 1, got {columns!r}")
        self.explorer = explorer
        self.favourites = Path(favourites)
        self.count, self.columns = children, columns
        self.psi = psi_slider(explorer, psi)
        self.history = History(Genome.from_seed(explorer, seed, psi=self.psi.value))
        self.radius = float_slider("mutation", 0.0, 1.0, 0.0)
        self.radius.value = radius
        self.groups = breeding_groups(explorer)
        self.group_toggles = {
            name: widgets.ToggleButton(
                description=name, value=True, layout=widgets.Layout(width="auto")
            )
            for name in self.groups
        }
        self.mutation_seed = widgets.BoundedIntText(
            description="mutation seed",
            min=0,
            max=MAX_SEED,
            value=0,
            style={"description_width": "initial"},
        )
        self.new_children = widgets.Button(description="new children")
        self.new_children.on_click(lambda _: self._reseed())
        self.undo_button = widgets.Button(description="undo", disabled=True)
        self.undo_button.on_click(lambda _: self.undo())
        self.keep_button = widgets.Button(description="keep favourite")
        self.keep_button.on_click(lambda _: self.keep_favourite())
        self.status = widgets.Label(value="")
        if directions is None and genes:
            directions = sefa(explorer, top=min(genes, explorer.direction_dim))
        self.directions = directions
        self.gene_sliders = [
            float_slider(directions.label(index), -GENE_RANGE, GENE_RANGE, 0.0)
            for index in range(0 if directions is None else len(directions))
        ]
        self._expressed: tuple[tuple, Genome] | None = None
        self._quiet = False

        self.kept: dict[str, Genome] = {}
        self.favourite_list = widgets.Dropdown(description="favourites", options=[])
        self.load_button = widgets.Button(description="make parent")
        self.load_button.on_click(lambda _: self._load_selected())
        self.cross_a = widgets.Dropdown(description="parent A", options=[])
        self.cross_b = widgets.Dropdown(description="parent B", options=[])
        self.cross_weights = {name: float_slider(name, 0.0, 1.0, 0.0) for name in self.groups}
        self.cross_button = widgets.Button(description="make parent")
        self.cross_status = widgets.Label(value="")
        self.cross_button.on_click(lambda _: self.adopt_crossbreed())

        self._brood: Brood | None = None
        self._cross_key: tuple | None = None
        self._cross_genome: Genome | None = None
        self._children: list[Genome] = []
        self.parent_preview = Preview(
            self._render_genome,
            self._describe_parent,
            explorer.resolution,
            controls=self.gene_sliders,
        )
        sheet_width = min(explorer.resolution * min(columns, children), MAX_SHEET_WIDTH)
        self.children_preview = Preview(
            self._render_brood,
            self._describe_brood,
            sheet_width,
            controls=[self.radius, self.psi],
            on_click=self.click_child,
        )
        self.cross_preview = Preview(
            self._render_genome,
            self._describe_cross,
            explorer.resolution,
            controls=list(self.cross_weights.values()),
        )
        for control in [self.radius, self.psi, self.mutation_seed, *self.group_toggles.values()]:
            control.observe(lambda _: self._show_children(), "value")
        for slider in self.gene_sliders:
            slider.observe(lambda _: self._genes_changed(), "value")
        for control in [self.cross_a, self.cross_b, *self.cross_weights.values()]:
            control.observe(lambda _: self._show_cross(), "value")
        self._list_favourites()
        self._show_cross()

        breeding = widgets.VBox(
            [
                self.parent_preview.widget,
                widgets.HBox([self.undo_button, self.keep_button]),
                widgets.VBox(self.gene_sliders),
                self.radius,
                self.psi,
                widgets.HBox(list(self.group_toggles.values()), layout={"flex_flow": "row wrap"}),
                widgets.HBox([self.mutation_seed, self.new_children]),
            ]
        )
        cross = widgets.VBox(
            [
                widgets.HBox([self.favourite_list, self.load_button]),
                widgets.HBox([self.cross_a, self.cross_b, self.cross_status]),
                widgets.HBox(
                    [
                        widgets.VBox(list(self.cross_weights.values())),
                        self.cross_preview.widget,
                        self.cross_button,
                    ]
                ),
            ]
        )
        self.widget = widgets.VBox(
            [widgets.HBox([breeding, self.children_preview.widget]), self.status, cross]
        )
        self._show_parent()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # --- parent and children --------------------------------------------------------------

    @property
    def parent(self) -> Genome:
        """The current parent, its genes expressed (the history's, moved by the gene
        sliders): what is shown, bred from and kept."""
        strengths = tuple(round(slider.value, 4) for slider in self.gene_sliders)
        key = (self.history.current, strengths)
        if self._expressed is None or self._expressed[0] != key:
            genome = self.history.current
            if self.directions is not None:
                genome = express_genes(self.explorer, genome, self.directions, strengths)
            self._expressed = (key, genome)
        return self._expressed[1]

    def set_genes(self, strengths: dict[int, float]) -> None:
        """Move the gene sliders to `strengths`, {direction index: strength} (one redraw)."""
        with self._silenced():
            for index, strength in strengths.items():
                self.gene_sliders[index].value = strength
        self._show_parent()

    @contextmanager
    def _silenced(self) -> Iterator[None]:
        """Slider changes inside do not redraw (the caller redraws once)."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _genes_changed(self) -> None:
        if not self._quiet:
            self._show_parent()

    def _reset_genes(self) -> None:
        """A new parent starts with its genes as they are (every slider at 0)."""
        with self._silenced():
            for slider in self.gene_sliders:
                slider.value = 0.0

    def brood(self) -> Brood:
        """The children the controls describe."""
        layers = tuple(name for name, toggle in self.group_toggles.items() if toggle.value)
        return Brood(
            parent=self.parent,
            count=self.count,
            radius=round(self.radius.value, 4),
            layers=layers,
            seed=self.mutation_seed.value,
            psi=round(self.psi.value, 4),
        )

    def children(self, brood: Brood | None = None) -> list[Genome]:
        """The children of `brood` (default: the controls'), computed once per brood."""
        brood = brood or self.brood()
        if brood != self._brood:
            if not brood.layers:
                raise InvalidInputError("choose at least one layer group to mutate")
            slots = [slot for name in brood.layers for slot in self.groups[name]]
            self._children = mutate(
                self.explorer,
                brood.parent,
                brood.count,
                radius=brood.radius,
                layers=slots,
                seed=brood.seed,
                psi=brood.psi,
            )
            self._brood = brood
        return self._children

    def pick(self, index: int) -> Genome:
        """Make child `index` of the grid the parent (undo goes back)."""
        children = self.children()
        if not isinstance(index, int) or not 0 <= index < len(children):
            raise InvalidInputError(
                f"the grid has children 0 to {len(children) - 1}, not {index!r}"
            )
        self.history.push(children[index])
        self._reset_genes()
        self._show_parent()
        return self.parent

    def click_child(self, x: float, y: float) -> None:
        """A click on the children grid at (x, y) (0 to 1 across and down) picks the child
        drawn there."""
        index = tile_at(x, y, self.count, self.columns)
        if index is not None:
            try:
                self.pick(index)
            except GanKitError as error:  # shown, never lost in the kernel's log
                self.status.value = str(error)

    def undo(self) -> Genome:
        """Go back to the previous parent."""
        self.history.undo()
        self._reset_genes()
        self._show_parent()
        return self.parent

    def set_parent(self, genome: Genome) -> None:
        """Make `genome` the parent (undo goes back)."""
        self.history.push(genome)
        self._reset_genes()
        self._show_parent()

    def _reseed(self) -> None:
        """New children: the next mutation seed."""
        self.mutation_seed.value = (self.mutation_seed.value + 1) % (MAX_SEED + 1)

    def _show_parent(self) -> None:
        self.undo_button.disabled = not self.history.can_undo
        self.parent_preview.show(self.parent)
        self._show_children()

    def _show_children(self) -> None:
        self.children_preview.show(self.brood())

    def _render_genome(self, genome: Genome) -> np.ndarray:
        return self.explorer.render_uint8(genome.batch())[0]

    def _render_brood(self, brood: Brood) -> np.ndarray:
        images = self.explorer.render_uint8(torch.stack([c.styles for c in self.children(brood)]))
        return tile(images, self.columns)

    def _describe_parent(self, genome: Genome) -> str:
        return f"parent · {len(genome.lineage)} steps · {genome.lineage[-1]}"

    def _describe_brood(self, brood: Brood) -> str:
        return f"{brood.count} children · mutation {brood.radius:g} · {' '.join(brood.layers)}"

    # --- favourites and crossbreeding -----------------------------------------------------

    def keep_favourite(self) -> Path:
        """Save the parent as a PNG carrying its genome in the favourites folder; it joins
        the crossbreed menus."""
        genome = self.parent
        path = save_genome(
            self.explorer, genome, self.favourites, self.parent_preview.pixels_of(genome)
        )
        self.kept[path.name] = genome
        self._list_favourites()
        self.favourite_list.value = path.name
        self.status.value = f"kept {path}"
        return path

    def load_favourite(self, path: str | Path) -> Genome:
        """Make the favourite at `path` the parent: a bred PNG, or the explorer's (a
        one-image recipe)."""
        try:
            genome = load_genome(path, self.explorer)
        except GanKitError:
            genome = Genome.from_state(self.explorer, load_favourite(path, self.explorer))
        self.set_parent(genome)
        self.status.value = f"loaded {path}"
        return genome

    def _list_favourites(self) -> None:
        """The favourites folder's PNGs that hold this model's genomes, and those kept."""
        found = sorted(self.favourites.glob("*.png")) if self.favourites.is_dir() else []
        for path in found:
            if path.name not in self.kept:
                try:
                    self.kept[path.name] = load_genome(path, self.explorer)
                except GanKitError:
                    continue  # an explorer favourite or another model's: not offered
        names = sorted(self.kept)
        with self.cross_preview.hold():
            for menu, default in zip(
                (self.favourite_list, self.cross_a, self.cross_b), (0, 0, 1), strict=True
            ):
                chosen = menu.value
                menu.options = names
                if chosen in names:
                    menu.value = chosen
                elif names:
                    menu.value = names[min(default, len(names) - 1)]
            if self.cross_a.value == self.cross_b.value and len(names) > 1:
                self.cross_b.value = [name for name in names if name != self.cross_a.value][-1]

    def _load_selected(self) -> None:
        if self.favourite_list.value:
            self.set_parent(self.kept[self.favourite_list.value])

    def crossbred(self) -> Genome:
        """The crossbreed of the two chosen favourites at the sliders' weights."""
        if not (self.cross_a.value and self.cross_b.value):
            raise InvalidInputError("keep two favourites to crossbreed them")
        weights = {name: round(slider.value, 4) for name, slider in self.cross_weights.items()}
        first, second = self.kept[self.cross_a.value], self.kept[self.cross_b.value]
        return self._cross(first, second, tuple(weights.items()))

    def _cross(self, first: Genome, second: Genome, weights: tuple) -> Genome:
        """`crossbreed`, the same genome again for the same parents and weights (so the
        preview recognises a frame it drew)."""
        key = (first, second, weights)
        if self._cross_key != key:
            self._cross_key = key
            self._cross_genome = crossbreed(self.explorer, first, second, dict(weights))
        return self._cross_genome

    def _show_cross(self) -> None:
        """Show the crossbreed; until two favourites are kept, only the reason."""
        try:
            genome = self.crossbred()
        except GanKitError as error:
            self.cross_status.value = str(error)
            self.cross_preview.widget.layout.display = "none"
            return
        self.cross_status.value = ""
        self.cross_preview.widget.layout.display = None
        self.cross_preview.show(genome)

    def _describe_cross(self, genome: Genome) -> str:
        return genome.lineage[-1]

    def adopt_crossbreed(self) -> Genome:
        """Make the crossbreed the parent."""
        genome = self.crossbred()
        self.set_parent(genome)
        return genome
