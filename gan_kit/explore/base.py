"""The model-neutral exploration interface: seeds -> latents -> styles -> images.

Every model kind goes through the same three steps, so notebooks, widgets and the CLI
never ask which kind they hold:

1. `latents(seeds, classes)`: seed-level codes (`Latents`: z, and class vectors for a
   conditional model), reproducible on any machine;
2. `styles(latents, psi, cutoff)`: the truncated per-slot style code [B, *layout.shape]
   whose named slots (`slots`, `slot_groups`) can be swapped (`mix`) or animated
   (`interpolate(..., layers=...)`);
3. `render(styles)`: images, as float tensors in [0, 1], uint8 arrays or PIL images, in
   batches that fit the device.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import torch
from PIL import Image
from torch import nn

from gan_kit.directions.fingerprint import weights_fingerprint
from gan_kit.directions.record import Directions, Edit
from gan_kit.errors import InvalidInputError, OutputTooLargeError
from gan_kit.explore.images import to_pil, to_uint8
from gan_kit.explore.memory import CPU_BATCH_SIZE, check_host_memory, gpu_batch_size
from gan_kit.generators.stylegan2 import NoiseMode, checked_noise_mode
from gan_kit.latents.classes import ClassChoice, ClassSpec, class_choices
from gan_kit.latents.interpolation import Easing, Method, interpolate
from gan_kit.latents.slots import Layers, SlotLayout
from gan_kit.names import DEFAULT_PSI
from gan_kit.values import is_whole_number
from gan_kit.zoo.registry import ModelEntry

Space = Literal["z", "w"]
DEFAULT_PSI_RANGE = (0.5, 1.0)


@dataclass(frozen=True)
class Latents:
    """Seed-level codes of a batch: `z` [B, z_dim], and `classes`, the class vectors
    [B, n_class] of conditional models (None for unconditional ones)."""

    z: torch.Tensor
    classes: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.z.shape[0]

    def __getitem__(self, index: int | slice | Sequence[int] | torch.Tensor) -> Latents:
        """The samples at `index` (an int keeps the batch dimension)."""
        if isinstance(index, numbers.Integral):
            index = slice(index, index + 1 if index != -1 else None)
        return Latents(self.z[index], None if self.classes is None else self.classes[index])


class Explorer(ABC):
    """One generator behind the common interface; see the module doc for the steps."""

    kind: ClassVar[str]  # the generator's kind (gan_kit.generators.kinds)
    spaces: ClassVar[tuple[str, ...]]  # the latent spaces `interpolate` can work in
    truncation_name: ClassVar[str]  # what the model's papers call psi: "psi", "truncation"
    noise_modes: ClassVar[tuple[str, ...]]  # the noise modes that change its images
    # the groups of slots that directions can move (one group per Directions); the first
    # is the default
    direction_groups: ClassVar[tuple[str, ...]]
    # GANSpace: PCA of the slot codes themselves (False), or of the layers reading them
    ganspace_reads_layers: ClassVar[bool]

    def __init__(
        self, generator: nn.Module, model: str | None = None, entry: ModelEntry | None = None
    ) -> None:
        """`generator` behind the interface; `model` is the reference it was loaded from
        (a path, zoo name or URL: recipes record it), `entry` its registry entry (None for
        a model the registry does not know, such as a local file)."""
        self.generator = generator
        self.model = model
        self.entry = entry
        self.layout = self._slot_layout()

    # --- what the model offers ----------------------------------------------------------

    @property
    def device(self) -> torch.device:
        """The device the generator's weights are on (where it renders)."""
        return next(self.generator.parameters()).device

    @property
    def resolution(self) -> int:
        """The images' width and height, in pixels."""
        return self.generator.resolution

    @property
    def slots(self) -> tuple[str, ...]:
        """The swappable slots, in the order the generator uses them."""
        return self.layout.names

    @property
    def slot_groups(self) -> dict[str, tuple[str, ...]]:
        """Named sets of slots (e.g. coarse / middle / fine)."""
        return dict(self.layout.groups)

    @property
    def n_class(self) -> int:
        """How many classes the model is conditioned on; 0 for an unconditional model."""
        return getattr(self.generator, "n_class", 0)

    @property
    def max_cutoff(self) -> int | None:
        """The largest `cutoff` `styles` takes (truncating that many leading slots), None
        for a model whose truncation has no per-layer cutoff."""
        return None

    @property
    def psi_default(self) -> float:
        """The truncation psi to start from: the registry's for the model, else 0.7."""
        return DEFAULT_PSI if self.entry is None else self.entry.psi_default

    @property
    def psi_range(self) -> tuple[float, float]:
        """The psi worth exploring: the registry's for the model, else 0.5 to 1.0."""
        return DEFAULT_PSI_RANGE if self.entry is None else self.entry.psi_range

    def default_class(self, seed: int) -> int | None:
        """The class of `seed` when none is given: seed % n_class (None: unconditional)."""
        return seed % self.n_class if self.n_class else None

    @property
    def fingerprint(self) -> str:
        """A short fingerprint of the generator's weights (what directions, archetypes and
        their caches are tied to)."""
        return weights_fingerprint(self.generator)

    @abstractmethod
    def _slot_layout(self) -> SlotLayout: ...

    def class_choices(
        self, classes: ClassSpec | Sequence[ClassSpec] | None
    ) -> tuple[ClassChoice, ...] | None:
        """Normalised `classes` (one spec, or a sequence of specs): one choice per item (one
        for a single spec); None stays None; unconditional models refuse any."""
        if classes is None:
            return None
        if not self.n_class:
            raise InvalidInputError(f"{self.kind} models are unconditional: they take no classes")
        return tuple(class_choices(classes, self.n_class))

    # --- latents and styles -------------------------------------------------------------

    @abstractmethod
    def latents(
        self,
        seeds: int | Iterable[int],
        classes: ClassSpec | Sequence[ClassSpec | None] | None = None,
    ) -> Latents:
        """The seed-level codes of `seeds`: `classes` (conditional models) is one class spec
        for all samples, or one each, where None is the seed's `default_class`."""

    @abstractmethod
    def styles(
        self, latents: Latents, psi: float | Sequence[float] = 1.0, cutoff: int | None = None
    ) -> torch.Tensor:
        """The truncated style codes [B, *layout.shape] of `latents`: psi is one value or one
        per sample, `cutoff` (see `max_cutoff`) truncates only the first slots."""

    @abstractmethod
    def _synthesize(self, styles: torch.Tensor, noise_mode: NoiseMode) -> torch.Tensor:
        """Images [B, 3, R, R] in [0, 1] (unclipped) of styles already on the device."""

    def seed_styles(
        self,
        seeds: int | Iterable[int],
        *,
        psi: float | Sequence[float] = 1.0,
        cutoff: int | None = None,
        classes: ClassSpec | Sequence[ClassSpec | None] | None = None,
    ) -> torch.Tensor:
        """`styles(latents(seeds, classes), psi, cutoff)` in one call."""
        return self.styles(self.latents(seeds, classes), psi=psi, cutoff=cutoff)

    def mix(self, a: torch.Tensor, b: torch.Tensor, layers: Layers) -> torch.Tensor:
        """Style codes `a` with the slots named by `layers` (slots or groups) taken from `b`."""
        return self.layout.mix(a, b, layers)

    def interpolate(
        self,
        keyframes: Latents,
        frames_per_segment: int,
        *,
        loop: bool = False,
        method: Method | None = None,
        space: Space = "z",
        easing: Easing = "linear",
        psi: float = 1.0,
        cutoff: int | None = None,
        layers: Layers | None = None,
    ) -> torch.Tensor:
        """Style codes [N, *layout.shape] of a path through the `keyframes`' latents, with
        `frames_per_segment` frames from each keyframe to the next (and with `loop`, back
        to the first), spaced by `easing` (see `gan_kit.latents.interpolation`); `psi` and
        `cutoff` truncate as `styles`.

        `space` "z" interpolates the latents (`method` slerp by default, lerp for class
        vectors) and truncates each frame; "w" (StyleGAN2) interpolates the truncated ws
        (lerp only).
        With `layers`, only those slots move; the others keep the first keyframe's values.
        See `gan_kit.latents.interpolation` for frame counts and loops.
        """
        if space not in self.spaces:
            raise InvalidInputError(
                f"{self.kind} models interpolate in {' or '.join(self.spaces)}, not {space!r}"
            )
        path = dict(frames_per_segment=frames_per_segment, loop=loop, easing=easing)
        if space == "w":
            if method not in (None, "lerp"):
                raise InvalidInputError(f"w is interpolated with lerp only, not {method!r}")
            frames = interpolate(self.styles(keyframes, psi, cutoff), method="lerp", **path)
        else:
            z = interpolate(keyframes.z, method=method or "slerp", **path)
            classes = None
            if keyframes.classes is not None:
                classes = interpolate(keyframes.classes, method="lerp", **path)
            frames = self.styles(Latents(z, classes), psi, cutoff)
        if layers is None:
            return frames
        return self.mix(self.styles(keyframes[0], psi, cutoff), frames, layers)

    # --- directions -----------------------------------------------------------------------

    def direction_slots(self, slots: Layers | None) -> tuple[str, ...]:
        """The slots `slots` (slot and group names; None: the first of
        `direction_groups`) names, refusing a choice that is not inside one of those
        groups (BigGAN: z chunks or class vectors, not both)."""
        default = self.layout.groups[self.direction_groups[0]]
        chosen = self.layout.resolve(default if slots is None else slots)
        for group in self.direction_groups:
            if set(chosen) <= set(self.layout.groups[group]):
                return chosen
        groups = "; ".join(
            f"{group} = {' '.join(self.layout.groups[group])}" for group in self.direction_groups
        )
        raise InvalidInputError(
            f"directions move slots of one of the groups {groups}; {' '.join(chosen)} is not "
            "inside one: choose slots of one group"
        )

    def slot_width(self, slot: str) -> int:
        """The width of `slot`'s code (the dimension of directions that move it)."""
        return torch.zeros(self.layout.shape, device="meta")[self.layout.regions[slot]].shape[-1]

    @property
    @abstractmethod
    def direction_dim(self) -> int:
        """The width of one slot's code in the first of `direction_groups`: the
        dimension of this model's default directions."""

    @abstractmethod
    def reading_weights(self, slot: str) -> list[torch.Tensor]:
        """The weights [out, dim] of the layers that read `slot`'s code (SeFa's A)."""

    @abstractmethod
    def sample_codes(
        self, n: int, seed: int = 0, slots: tuple[str, ...] | None = None
    ) -> torch.Tensor:
        """`n` untruncated codes [n, dim] of one of `slots` (None: the default
        direction group's), drawn from numpy's RandomState(seed) (identical on any
        machine): what strengths are measured in."""

    def edit(
        self,
        styles: torch.Tensor,
        directions: Directions,
        index: int,
        strength: float,
        *,
        keep: Iterable[tuple[Directions, int]] = (),
    ) -> torch.Tensor:
        """`styles` moved `strength` standard deviations along direction `index` of
        `directions`, in its slots only (call again to compose edits). With `keep`,
        (directions, index) pairs, the direction is first projected off those, so the
        edit does not move the codes along them (InterFaceGAN's conditional edit)."""
        if not isinstance(directions, Directions):
            raise InvalidInputError(f"directions must be a Directions, got {directions!r}")
        return self.apply_edits(styles, [directions.edit(index, strength, keep=keep)])

    def apply_edits(self, styles: torch.Tensor, edits: Iterable[Edit]) -> torch.Tensor:
        """`styles` [B, *layout.shape] with each of `edits` (`Edit` records, e.g. from
        `Directions.edit` or a recipe) added, in order, to its slots (a new tensor; the
        other slots are left exactly as they were)."""
        if tuple(styles.shape[1:]) != self.layout.shape:
            raise InvalidInputError(
                f"style codes must have shape [batch, {', '.join(map(str, self.layout.shape))}]"
                f", got {list(styles.shape)}"
            )
        result = styles.clone()
        for edit in edits:
            if not isinstance(edit, Edit):
                raise InvalidInputError(f"edits must be Edit records, got {edit!r}")
            widths = {
                self.slot_width(self.layout.groups[group][0]) for group in self.direction_groups
            }
            if len(edit.vector) not in widths:
                raise InvalidInputError(
                    f"the edit {edit.label!r} has {len(edit.vector)} dimensions, this model's "
                    f"slots {' or '.join(map(str, sorted(widths)))}: it is from another model"
                )
            if edit.fingerprint != self.fingerprint:
                raise InvalidInputError(
                    f"the edit {edit.label!r} is from the model with fingerprint "
                    f"{edit.fingerprint}, not this one ({self.fingerprint}): compute the "
                    "direction on this model"
                )
            slots = self.direction_slots(edit.slots)
            if len(edit.vector) != self.slot_width(slots[0]):
                raise InvalidInputError(
                    f"the edit {edit.label!r} has {len(edit.vector)} dimensions, its slots "
                    f"{' '.join(slots)} {self.slot_width(slots[0])}"
                )
            step = torch.tensor(edit.vector, dtype=result.dtype, device=result.device)
            step = step * edit.strength
            for slot in slots:
                result[(slice(None), *self.layout.regions[slot])] += step
        return result

    # --- rendering ----------------------------------------------------------------------

    def iter_render(
        self,
        styles: torch.Tensor,
        *,
        noise_mode: NoiseMode = "const",
        batch_size: int | None = None,
        progress: bool = False,
    ) -> Iterator[torch.Tensor]:
        """Render `styles` batch by batch, yielding float images [b, 3, R, R] on the CPU;
        `noise_mode` (one of `noise_modes`) for models with noise inputs, `progress` shows
        a bar.

        Without `batch_size`: one image at a time on the CPU (see CPU_BATCH_SIZE); on a
        GPU, one image first to measure its peak memory, then as many as fit in the free
        memory (GPU pixels may then vary by a rounding step with the batch size). A batch
        that runs out of GPU memory is retried at half the size; if even one image does
        not fit, OutputTooLargeError.
        """
        checked_noise_mode(noise_mode)
        if batch_size is not None and (not is_whole_number(batch_size) or batch_size < 1):
            raise InvalidInputError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        if len(styles) == 0:
            raise InvalidInputError("no style codes to render: give at least one")
        if tuple(styles.shape[1:]) != self.layout.shape:
            raise InvalidInputError(
                f"style codes must have shape [batch, {', '.join(map(str, self.layout.shape))}]"
                f", got {list(styles.shape)}"
            )
        from tqdm.auto import tqdm

        device = self.device
        on_gpu = device.type == "cuda"
        probing = on_gpu and batch_size is None
        size = batch_size or (1 if on_gpu else CPU_BATCH_SIZE)
        start = 0
        with tqdm(total=len(styles), unit="image", disable=not progress) as bar:
            while start < len(styles):
                if probing:
                    torch.cuda.reset_peak_memory_stats(device)
                    baseline = torch.cuda.memory_allocated(device)
                try:
                    with torch.no_grad():
                        chunk = styles[start : start + size].to(device)
                        images = self._synthesize(chunk, noise_mode).cpu()
                except torch.cuda.OutOfMemoryError:
                    if size == 1:
                        raise OutputTooLargeError(
                            f"one {self.resolution} px image does not fit in the free memory "
                            f"of {device}: free memory there, or use device='cpu'"
                        ) from None
                    size, probing = size // 2, False
                    torch.cuda.empty_cache()
                    continue
                if probing:
                    peak = torch.cuda.max_memory_allocated(device) - baseline
                    size, probing = gpu_batch_size(peak, device), False
                start += len(images)
                bar.update(len(images))
                yield images

    def render(self, styles: torch.Tensor, **options) -> torch.Tensor:
        """Images [N, 3, R, R] of `styles`, float32 in [0, 1] (StyleGAN2's [-1, 1] mapped
        affinely and not clipped), on the CPU. Options as `iter_render`."""
        check_host_memory(len(styles) * 3 * self.resolution**2 * 4, f"{len(styles)} images")
        return torch.cat(list(self.iter_render(styles, **options)))

    def render_uint8(self, styles: torch.Tensor, **options) -> np.ndarray:
        """Images of `styles` as uint8 [N, R, R, 3] (rounded, clipped). Options as
        `iter_render`."""
        check_host_memory(len(styles) * 3 * self.resolution**2, f"{len(styles)} images")
        return np.concatenate([to_uint8(batch) for batch in self.iter_render(styles, **options)])

    def render_pil(self, styles: torch.Tensor, **options) -> list[Image.Image]:
        """Images of `styles` as RGB PIL images. Options as `iter_render`."""
        return [to_pil(image) for image in self.render_uint8(styles, **options)]
