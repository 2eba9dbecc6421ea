"""Breeding: children as mutations of a parent's style code, crossbreeds of two parents with
one mix weight per layer group, and an undo history; the model-neutral core of
`gan_kit.widgets.BreedingStudio`, usable from plain Python.

    import gan_kit
    from gan_kit.explore.breeding import Genome, crossbreed, mutate
    ex = gan_kit.explorer("demo-stylegan2")
    parent = Genome.from_seed(ex, 3, psi=0.7)
    children = mutate(ex, parent, 8, radius=0.4, layers="fine", seed=1)
    child = crossbreed(ex, children[0], Genome.from_seed(ex, 9), {"coarse": 1.0})
    ex.render_pil(child.batch())[0]

A mutation moves the chosen slots of the parent a fraction `radius` of the way toward a
fresh random sample of the model (the explorer's own sample of a seed drawn from `seed`,
truncated at `psi`): radius 0 is a clone, 1 takes those slots from the random sample.
Staying between the parent and a real sample keeps children in the model's range. On a
BigGAN, the `class` group mutates the class vectors the same way: the child becomes a
blend of the parent's class and the sample's (`seed % n_class`). A crossbreed takes each
layer group a weight w of the way from the first parent to the second (0: the first's,
1: the second's). "Genes" are semantic directions (`gan_kit.sefa`, `gan_kit.ganspace`):
`express_genes` moves a genome along them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from gan_kit.errors import InvalidInputError
from gan_kit.explore.base import Explorer
from gan_kit.explore.favourites import ImageState
from gan_kit.explore.grids import _cell_styles
from gan_kit.latents.classes import ClassSpec, format_class
from gan_kit.latents.seeds import MAX_SEED, checked_seeds
from gan_kit.latents.slots import Layers
from gan_kit.latents.truncation import checked_psi
from gan_kit.values import is_finite_number, is_whole_number

if TYPE_CHECKING:
    from gan_kit.directions import Directions

MAX_CHILDREN = 64
MAX_LINEAGE = 64  # steps a genome remembers; older ones are summed up in one line
MAX_STEP_TEXT = 200  # characters of one lineage step


@dataclass(frozen=True, eq=False)
class Genome:
    """One image as a style code `styles` [*layout.shape] (float32, on the CPU) and its
    `lineage`: how it came to be, one line per step, oldest first. Genomes compare by
    identity (each step makes a new one)."""

    styles: torch.Tensor
    lineage: tuple[str, ...]

    @classmethod
    def from_seed(
        cls,
        explorer: Explorer,
        seed: int,
        *,
        psi: float | None = None,
        classes: ClassSpec | None = None,
    ) -> Genome:
        """The sample of `seed` on `explorer`, at truncation `psi` (default: the model's),
        of class `classes` (conditional models; default: the seed's)."""
        psi = explorer.psi_default if psi is None else psi
        return cls.from_state(explorer, ImageState(seed=seed, psi=psi, classes=classes))

    @classmethod
    def from_state(cls, explorer: Explorer, state: ImageState) -> Genome:
        """The image of `state` (an `ImageState`: an explorer favourite) on `explorer`,
        mixed slots included."""
        checked_seeds(state.seed)
        cell = {"seed": state.seed, "psi": checked_psi(state.psi), "class": state.classes}
        styles = _cell_styles(explorer, state.recipe(explorer), [cell])[0]
        step = f"seed {state.seed} · psi {state.psi:g}"
        if state.classes is not None:
            step += f" · class {format_class(explorer.class_choices(state.classes)[0])}"
        if state.mix_layers:
            step += f" · {' '.join(state.mix_layers)} from seed {state.mix_seed}"
        return cls(styles.detach().float().cpu(), (step,))

    def batch(self) -> torch.Tensor:
        """The style code as a batch of one [1, *layout.shape], for `Explorer.render`."""
        return self.styles[None]

    def child(self, styles: torch.Tensor, step: str) -> Genome:
        """A new genome of `styles`, this one's lineage followed by `step`."""
        lineage = (*self.lineage, step[:MAX_STEP_TEXT])
        if len(lineage) > MAX_LINEAGE:
            dropped = len(lineage) - MAX_LINEAGE + 1
            if lineage[0].startswith("… "):
                dropped += int(lineage[0].split()[1]) - 1
            lineage = (f"… {dropped} earlier steps", *lineage[-(MAX_LINEAGE - 1) :])
        return Genome(styles.detach().float().cpu(), lineage)


def checked_genome(explorer: Explorer, genome: Genome, what: str = "the genome") -> Genome:
    """`genome` if its style code fits `explorer`'s model, else a clear error."""
    if not isinstance(genome, Genome):
        raise InvalidInputError(f"{what} must be a Genome, got {type(genome).__name__}")
    if tuple(genome.styles.shape) != explorer.layout.shape:
        raise InvalidInputError(
            f"{what} has a style code of shape {list(genome.styles.shape)}, but this "
            f"{explorer.kind} model's is {list(explorer.layout.shape)}: it comes from another model"
        )
    return genome


def _checked_fraction(value: float, name: str, high: float = 1.0) -> float:
    if not is_finite_number(value) or not 0 <= value <= high:
        raise InvalidInputError(f"{name} must be a number from 0 to {high:g}, got {value!r}")
    return float(value)


def mutation_seeds(seed: int, count: int) -> list[int]:
    """The seeds of the random samples that `count` children of mutation `seed` move
    toward (numpy's legacy RandomState: the same on every machine)."""
    (seed,) = checked_seeds([seed])
    if not is_whole_number(count) or not 1 <= count <= MAX_CHILDREN:
        raise InvalidInputError(
            f"count must be a whole number from 1 to {MAX_CHILDREN}, got {count!r}"
        )
    draws = np.random.RandomState(seed).randint(0, MAX_SEED + 1, size=count, dtype=np.int64)
    return [int(draw) for draw in draws]


def mutate(
    explorer: Explorer,
    parent: Genome,
    count: int = 8,
    *,
    radius: float = 0.5,
    layers: Layers = "all",
    seed: int = 0,
    psi: float | None = None,
) -> list[Genome]:
    """`count` children of `parent` on `explorer` (see the module doc): each moves the
    slots `layers` names (slots or groups) `radius` (0 to 1) of the way toward the sample
    of one of `mutation_seeds(seed, count)` at truncation `psi` (default: the model's). The same
    arguments give the same children."""
    checked_genome(explorer, parent, "the parent")
    radius = _checked_fraction(radius, "radius")
    psi = explorer.psi_default if psi is None else checked_psi(psi)
    slots = explorer.layout.resolve(layers)
    seeds = mutation_seeds(seed, count)
    targets = explorer.seed_styles(seeds, psi=psi).detach().float().cpu()
    mask = explorer.layout.mask(slots)
    moved = torch.where(mask, torch.lerp(parent.styles[None], targets, radius), parent.styles)
    where = " ".join(_named(explorer, slots))
    return [
        parent.child(styles, f"mutated {where} by {radius:g} toward seed {target} (psi {psi:g})")
        for styles, target in zip(moved, seeds, strict=True)
    ]


def express_genes(
    explorer: Explorer, genome: Genome, directions: Directions, strengths: Sequence[float]
) -> Genome:
    """`genome` moved along its "genes": direction i of `directions` (e.g.
    `gan_kit.sefa(explorer)`) by `strengths[i]` standard deviations, in the directions'
    slots only (see `Explorer.edit`); with every strength 0, `genome` itself."""
    checked_genome(explorer, genome)
    if len(strengths) > len(directions):
        raise InvalidInputError(
            f"{len(strengths)} gene strengths for {len(directions)} directions: give at "
            "most one each"
        )
    edits = [directions.edit(index, s) for index, s in enumerate(strengths) if s != 0]
    if not edits:
        return genome
    styles = explorer.apply_edits(genome.batch(), edits)[0]
    return genome.child(styles, f"genes · {', '.join(edit.label for edit in edits)}")


def breeding_groups(explorer: Explorer) -> dict[str, tuple[str, ...]]:
    """The layer groups that split the slots of `explorer`'s model into parts that do not
    overlap (the crossbreed sliders): the model's groups less those that join others
    ("all", BigGAN's "z"), plus any slot left in none, by its own name."""
    groups = {name: set(slots) for name, slots in explorer.slot_groups.items()}
    parts = {
        name: slots
        for name, slots in groups.items()
        if not any(other != name and other_slots < slots for other, other_slots in groups.items())
    }
    covered = set().union(*parts.values()) if parts else set()
    chosen = {name: explorer.layout.resolve(slots) for name, slots in parts.items()}
    chosen.update({slot: (slot,) for slot in explorer.slots if slot not in covered})
    return chosen


def crossbreed(
    explorer: Explorer, first: Genome, second: Genome, weights: Mapping[str, float]
) -> Genome:
    """A child of `first` and `second` (genomes of `explorer`'s model): each slot named
    in `weights` (slot or group name -> weight from 0 to 1) moves that weight of the way
    from `first` to `second`; other slots stay `first`'s. A slot named twice with
    different weights is an error."""
    checked_genome(explorer, first, "the first parent")
    checked_genome(explorer, second, "the second parent")
    per_slot: dict[str, float] = {}
    for name, weight in weights.items():
        weight = _checked_fraction(weight, f"the weight of {name!r}")
        for slot in explorer.layout.resolve(name):
            if per_slot.setdefault(slot, weight) != weight:
                raise InvalidInputError(
                    f"the slot {slot} is named twice with different weights; name each once"
                )
    styles = first.styles.clone()
    for slot, weight in per_slot.items():
        region = explorer.layout.regions[slot]
        styles[region] = torch.lerp(first.styles[region], second.styles[region], weight)
    shares = ", ".join(f"{name} {weight:g}" for name, weight in weights.items()) or "nothing"
    return first.child(styles, f"crossbreed · with {second.lineage[-1]} · {shares}")


def _named(explorer: Explorer, slots: Sequence[str]) -> list[str]:
    """`slots` as group names where whole groups are chosen (for lineage lines)."""
    for name, group in explorer.slot_groups.items():
        if set(group) == set(slots):
            return [name]
    return list(slots)


class History:
    """The parents shown so far, for undo: `current` is the newest; `push` a new one,
    `undo` goes back one (the first can never be undone). At most `limit` are kept."""

    def __init__(self, first: Genome, limit: int = 100) -> None:
        if not is_whole_number(limit) or limit < 1:
            raise InvalidInputError(f"limit must be a whole number >= 1, got {limit!r}")
        self._genomes = [first]
        self._limit = limit

    @property
    def current(self) -> Genome:
        """The newest parent."""
        return self._genomes[-1]

    @property
    def can_undo(self) -> bool:
        """Whether there is an earlier parent to go back to."""
        return len(self._genomes) > 1

    def __len__(self) -> int:
        return len(self._genomes)

    def push(self, genome: Genome) -> None:
        """Make `genome` the current parent (the oldest is forgotten past `limit`)."""
        self._genomes.append(genome)
        del self._genomes[: -self._limit]

    def undo(self) -> Genome:
        """Go back to the previous parent and return it; an error where there is none."""
        if not self.can_undo:
            raise InvalidInputError("nothing to undo: this is the first parent")
        self._genomes.pop()
        return self.current
