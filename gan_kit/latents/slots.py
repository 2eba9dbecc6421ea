"""Named slots of a style code: the parts of a latent that can be swapped between samples.

A model's style code is a tensor [B, *shape]; each slot is a region of a sample's code
(a StyleGAN2 w index, a BigGAN z chunk or per-block class vector). Groups name sets of
slots ("coarse", "fine", ...). Mixing two codes takes the named slots from the second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch

from gan_kit.errors import InvalidInputError

Region = tuple[slice | int, ...]
Layers = str | Iterable[str]


def resolution_group(resolution: int) -> str:
    """'coarse' (<= 8 px), 'middle' (16-32 px) or 'fine' (>= 64 px), the StyleGAN paper's
    split by the resolution of the first layer a slot modulates."""
    if resolution <= 8:
        return "coarse"
    return "middle" if resolution <= 32 else "fine"


@dataclass(frozen=True)
class SlotLayout:
    """Where each named slot lives in one sample's style code (`shape`): `regions` maps each
    slot name to its index, in model order; `groups` maps a group name to slot names."""

    shape: tuple[int, ...]
    regions: Mapping[str, Region]  # slot name -> index into a [*shape] tensor, in model order
    groups: Mapping[str, tuple[str, ...]]  # group name -> slot names

    @property
    def names(self) -> tuple[str, ...]:
        """The slot names, in model order."""
        return tuple(self.regions)

    def describe(self) -> str:
        """The valid layer names, for messages and --help."""
        groups = "; ".join(f"{name} = {' '.join(slots)}" for name, slots in self.groups.items())
        return f"slots: {' '.join(self.names)}; groups: {groups}"

    def resolve(self, layers: Layers) -> tuple[str, ...]:
        """The slot names that `layers` (slot and group names) stands for, in model order."""
        requested = [layers] if isinstance(layers, str) else list(layers)
        chosen: set[str] = set()
        for name in requested:
            if name in self.regions:
                chosen.add(name)
            elif name in self.groups:
                chosen.update(self.groups[name])
            else:
                raise InvalidInputError(
                    f"unknown layer {name!r}; valid names are {self.describe()}"
                )
        if not chosen:
            raise InvalidInputError(f"choose at least one layer; {self.describe()}")
        return tuple(name for name in self.names if name in chosen)

    def mask(self, layers: Layers, device: torch.device | str = "cpu") -> torch.Tensor:
        """A bool tensor [*shape] on `device`, True inside the slots `layers` names."""
        mask = torch.zeros(self.shape, dtype=torch.bool, device=device)
        for name in self.resolve(layers):
            mask[self.regions[name]] = True
        return mask

    def mix(self, a: torch.Tensor, b: torch.Tensor, layers: Layers) -> torch.Tensor:
        """Codes a [B, *shape] with the slots `layers` names taken from b ([B or 1, *shape])."""
        for code in (a, b):
            if tuple(code.shape[1:]) != self.shape:
                raise InvalidInputError(
                    f"style codes must have shape [batch, {', '.join(map(str, self.shape))}], "
                    f"got {list(code.shape)}"
                )
        if b.shape[0] not in (1, a.shape[0]) and a.shape[0] != 1:
            raise InvalidInputError(
                f"cannot mix batches of {a.shape[0]} and {b.shape[0]} (give equal sizes or 1)"
            )
        return torch.where(self.mask(layers, a.device), b.to(a.device), a)
