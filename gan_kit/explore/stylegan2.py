"""StyleGAN2 behind the common interface: NVIDIA's seeds, truncation toward w_avg, w slots."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch

from gan_kit.explore.base import Explorer, Latents, NoiseMode
from gan_kit.generators.stylegan2 import NOISE_MODES, StyleGAN2Generator
from gan_kit.latents.classes import ClassSpec
from gan_kit.latents.seeds import z_from_seeds
from gan_kit.latents.slots import SlotLayout, resolution_group


def w_index_resolution(index: int) -> int:
    """The resolution of the first layer w[index] modulates: w0, w1 at 4 px, w2, w3 at 8 px..."""
    return 4 * 2 ** (index // 2)


class StyleGAN2Explorer(Explorer):
    """Slots `w0`..`w{num_ws-1}`, one per w index; groups coarse (4-8 px), middle (16-32 px),
    fine (64 px and up; e.g. w0-3 / w4-7 / w8-15 at 512 px), and all. Style codes are ws
    [B, num_ws, w_dim]."""

    kind = StyleGAN2Generator.kind
    spaces = ("z", "w")
    truncation_name = "psi"
    noise_modes = NOISE_MODES
    direction_groups = ("all",)
    ganspace_reads_layers = False  # GANSpace: PCA of w itself
    generator: StyleGAN2Generator

    @property
    def max_cutoff(self) -> int:
        """Every w can be truncated: cutoff 0 to num_ws."""
        return self.generator.num_ws

    def _slot_layout(self) -> SlotLayout:
        names = [f"w{index}" for index in range(self.generator.num_ws)]
        groups: dict[str, tuple[str, ...]] = {}
        for index, name in enumerate(names):
            group = resolution_group(w_index_resolution(index))
            groups[group] = (*groups.get(group, ()), name)
        groups["all"] = tuple(names)
        return SlotLayout(
            shape=(self.generator.num_ws, self.generator.w_dim),
            regions={name: (index,) for index, name in enumerate(names)},
            groups=groups,
        )

    def latents(
        self,
        seeds: int | Iterable[int],
        classes: ClassSpec | Sequence[ClassSpec] | None = None,
    ) -> Latents:
        """z of `seeds` with NVIDIA's convention (`gan_kit.latents.z_from_seeds`); `classes`
        must be None (the model is unconditional)."""
        self.class_choices(classes)  # refuses classes: the model is unconditional
        return Latents(z_from_seeds(seeds, self.generator.z_dim))

    def styles(
        self, latents: Latents, psi: float | Sequence[float] = 1.0, cutoff: int | None = None
    ) -> torch.Tensor:
        """ws [B, num_ws, w_dim] of `latents`, truncated toward w_avg: `w_avg + psi (w -
        w_avg)` on the first `cutoff` ws (all by default), as `G.mapping` truncates."""
        with torch.no_grad():
            return self.generator.mapping(latents.z.to(self.device), psi=psi, cutoff=cutoff)

    def _synthesize(self, styles: torch.Tensor, noise_mode: NoiseMode) -> torch.Tensor:
        return self.generator.synthesis(styles, noise_mode=noise_mode).add_(1).mul_(0.5)

    @property
    def direction_dim(self) -> int:
        """Directions live in w: w_dim."""
        return self.generator.w_dim

    def reading_weights(self, slot: str) -> list[torch.Tensor]:
        """The style affine weights [channels, w_dim] of every modulated layer that w
        `slot` drives (its convolutions and toRGB)."""
        (index,) = self.layout.regions[self.direction_slots(slot)[0]]
        readers = []
        first = 0
        for block in self.generator.synthesis.blocks:
            convs = [block.conv1] if block.conv0 is None else [block.conv0, block.conv1]
            layers = {first + offset: conv for offset, conv in enumerate(convs)}
            if first <= index < first + len(convs):
                readers.append(layers[index].affine.weight)
            if index == first + block.num_ws - 1:
                readers.append(block.to_rgb.affine.weight)
            first += block.num_ws - 1
        return readers

    def sample_codes(
        self, n: int, seed: int = 0, slots: tuple[str, ...] | None = None
    ) -> torch.Tensor:
        """Untruncated w [n, w_dim] of z drawn from numpy's RandomState(seed) (the same
        for all `slots`)."""
        z = np.random.RandomState(seed).randn(n, self.generator.z_dim).astype(np.float32)
        with torch.no_grad():
            ws = self.generator.mapping(torch.from_numpy(z).to(self.device), psi=1.0)
        return ws[:, 0].cpu()
