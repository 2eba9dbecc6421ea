"""BigGAN behind the common interface: truncated-normal seeds, classes and blends, and
slots for each z chunk and each block's class vector."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch

from gan_kit.errors import InvalidInputError
from gan_kit.explore.base import Explorer, Latents, NoiseMode
from gan_kit.generators.biggan import TRUNCATION_BOUND, BigGANGenerator
from gan_kit.latents.classes import ClassSpec, class_vector, per_sample_classes
from gan_kit.latents.seeds import checked_seeds, truncated_normal_from_seeds
from gan_kit.latents.slots import SlotLayout, resolution_group
from gan_kit.latents.truncation import redraw_outside, truncate


class BigGANExplorer(Explorer):
    """Slots: `fc` (z chunk 0, the 4x4 dense layer), `B1`..`B6` (the z chunk of each
    block) and `class_B1`..`class_B6` (the class vector each block is conditioned on).
    Groups: z (all chunks), class (all class vectors), coarse / middle / fine (the z
    chunks whose layers start at <= 8 px: fc, B1, B2; 16-32 px: B3, B4; >= 64 px: B5, B6),
    and all. Style codes are flat [B, z_dim + num_blocks * n_class]: the truncated z, then
    each block's class vector.

    Seeds: z = psi * truncnorm(-2, 2) drawn by `truncated_normal_from_seeds` (numpy's
    RandomState(seed), identical on any machine); the scaling is `torch.lerp(0, z, psi)`.
    Without classes, seed s uses its `default_class` (s % n_class). BigGAN has no noise
    inputs, so the noise mode changes nothing.
    """

    kind = BigGANGenerator.kind
    spaces = ("z",)
    truncation_name = "truncation"
    noise_modes = ()  # no noise inputs
    direction_groups = ("z", "class")  # z chunks, or the per-block class vectors
    ganspace_reads_layers = True  # GANSpace: PCA of the layers reading z, as the paper
    generator: BigGANGenerator

    def _slot_layout(self) -> SlotLayout:
        generator = self.generator
        chunk, n_class, z_dim = generator.chunk_size, generator.n_class, generator.z_dim
        blocks = [f"B{block}" for block in range(1, generator.num_blocks + 1)]
        chunk_names = ["fc", *blocks]
        regions = {
            name: (slice(index * chunk, (index + 1) * chunk),)
            for index, name in enumerate(chunk_names)
        }
        for index, block in enumerate(blocks):
            start = z_dim + index * n_class
            regions[f"class_{block}"] = (slice(start, start + n_class),)
        groups: dict[str, tuple[str, ...]] = {}
        for index, name in enumerate(chunk_names):  # fc and B1 start at 4 px, B2 at 8 px...
            group = resolution_group(4 * 2 ** max(index - 1, 0))
            groups[group] = (*groups.get(group, ()), name)
        groups["z"] = tuple(chunk_names)
        groups["class"] = tuple(f"class_{block}" for block in blocks)
        groups["all"] = tuple(regions)
        return SlotLayout(
            shape=(z_dim + generator.num_blocks * n_class,), regions=regions, groups=groups
        )

    def latents(
        self,
        seeds: int | Iterable[int],
        classes: ClassSpec | Sequence[ClassSpec | None] | None = None,
    ) -> Latents:
        """Truncated-normal z of `seeds`, and class vectors of `classes` (one spec for all,
        or one each; None: the seeds' `default_class`)."""
        seed_list = checked_seeds(seeds)
        n_class = self.generator.n_class
        if classes is None:
            classes = [None] * len(seed_list)
        if isinstance(classes, (list, tuple)) and len(classes) == len(seed_list):
            classes = [
                self.default_class(seed) if spec is None else spec
                for seed, spec in zip(seed_list, classes, strict=True)
            ]
        choices = per_sample_classes(classes, len(seed_list), n_class)
        return Latents(
            truncated_normal_from_seeds(seed_list, self.generator.z_dim, TRUNCATION_BOUND),
            torch.stack([class_vector(choice, n_class) for choice in choices]),
        )

    def styles(
        self, latents: Latents, psi: float | Sequence[float] = 1.0, cutoff: int | None = None
    ) -> torch.Tensor:
        """[psi * z, class vector repeated for every block] of `latents`; `cutoff` must be
        None (BigGAN's truncation scales all of z)."""
        if cutoff is not None:
            raise InvalidInputError(
                "cutoff is StyleGAN2's per-layer truncation; BigGAN's truncation scales all "
                "of z: leave cutoff unset (mix or animate chosen slots instead)"
            )
        if latents.classes is None:
            raise InvalidInputError("BigGAN latents need class vectors (Latents.classes)")
        z = truncate(latents.z.to(self.device), 0.0, psi)
        classes = latents.classes.to(self.device).repeat(1, self.generator.num_blocks)
        return torch.cat([z, classes], dim=1)

    def _synthesize(self, styles: torch.Tensor, noise_mode: NoiseMode) -> torch.Tensor:
        generator = self.generator
        z, classes = styles.split([generator.z_dim, styles.shape[1] - generator.z_dim], dim=1)
        return generator(z, classes.reshape(len(styles), generator.num_blocks, generator.n_class))

    @property
    def direction_dim(self) -> int:
        """Default directions live in one z chunk: chunk_size (class directions: n_class)."""
        return self.generator.chunk_size

    def reading_weights(self, slot: str) -> list[torch.Tensor]:
        """The weights reading z chunk `slot`: the first dense layer's for `fc`; for a
        block, the z columns of its conditional batch norms' gain and bias projections;
        for a block's class vector `class_B<i>`, those projections' embedding columns
        times the class embedding."""
        name = self.direction_slots(slot)[0]
        generator = self.generator
        if name == "fc":
            return [generator.noise_fc.weight]
        block = generator.blocks[int(name.removeprefix("class_")[1:]) - 1]
        norms = (block.norm1.gamma, block.norm1.beta, block.norm2.gamma, block.norm2.beta)
        chunk = generator.chunk_size
        if name.startswith("class_"):
            embedding = generator.class_embedding.weight  # [embed_dim, n_class]
            return [norm.weight[:, chunk:] @ embedding for norm in norms]
        return [norm.weight[:, :chunk] for norm in norms]

    def sample_codes(
        self, n: int, seed: int = 0, slots: tuple[str, ...] | None = None
    ) -> torch.Tensor:
        """Untruncated z chunks [n, chunk_size]: a normal truncated to [-2, 2] drawn from
        numpy's RandomState(seed), as seeds draw z; for class `slots`, one-hot class
        vectors [n, n_class] of classes drawn uniformly."""
        state = np.random.RandomState(seed)
        if slots is not None and set(slots) <= set(self.layout.groups["class"]):
            classes = torch.from_numpy(state.randint(self.generator.n_class, size=n))
            return torch.nn.functional.one_hot(classes, self.generator.n_class).float()
        codes = state.randn(n, self.generator.chunk_size)
        return torch.from_numpy(redraw_outside(codes, TRUNCATION_BOUND, state.randn)).float()
