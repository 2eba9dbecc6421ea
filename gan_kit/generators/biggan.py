"""The anime BigGAN "run39" generator (Tensorfork's compare_gan BigGAN, 256 px) in PyTorch.

Semantics follow compare_gan's `resnet_biggan` generator as trained for run39:
z is cut into equal chunks (7 x 20 at 256 px): chunk 0 feeds a dense layer to a 4x4
map, chunk i conditions block i together with a bias-free class embedding
(`cat([z_i, embed(y)])`). Each block is cBN -> ReLU -> 2x zero-insertion unpool ->
3x3 conv -> cBN -> ReLU -> 3x3 conv, plus an unpool + 1x1 conv shortcut; the conditional
BN has no "+1" on gamma. Self-attention follows one block (B5), then BN -> ReLU -> 3x3
conv -> (tanh + 1) / 2.

The weights held here are final: the spectral norm was divided out once at load time
(see `gan_kit.loading.biggan_highcwu`), so a forward pass is plain convolutions.
Zero-insertion unpool + 3x3 conv runs as one stride-2 transposed conv (4x fewer
multiply-adds), and the 1x1 shortcut runs before the unpool (again 4x fewer).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_kit.errors import InvalidInputError
from gan_kit.latents.seeds import truncated_normal_from_seeds
from gan_kit.latents.truncation import redraw_outside, truncate
from gan_kit.values import is_whole_number

__all__ = [
    "CHANNEL_MULTIPLIERS",
    "BigGANConfig",
    "BigGANGenerator",
    "StandingStats",
    "StatisticsCache",
    "truncated_z",
]

# compare_gan's resnet_biggan channel multipliers (of `ch`) per output resolution:
# entry k is the input width of block k+1, the last entry the width before the output.
CHANNEL_MULTIPLIERS: dict[int, tuple[int, ...]] = {
    64: (16, 16, 8, 4, 2),
    128: (16, 16, 8, 4, 2, 1),
    256: (16, 16, 8, 8, 4, 2, 1),
    512: (16, 16, 8, 8, 4, 2, 1, 1),
}
BN_EPSILON = 1e-5
TRUNCATION_BOUND = 2.0
StandingStats = dict[str, dict[str, Tensor]]  # BN module name -> {"mean": ..., "var": ...}


class StatisticsCache(Protocol):
    """Where `recompute_standing_stats` looks up and keeps standing statistics, by key: a
    dict works; `gan_kit.zoo.StandingStatisticsCache` keeps them as files."""

    def get(self, key: str) -> StandingStats | None:
        """The statistics kept for `key`, or None."""

    def __setitem__(self, key: str, stats: StandingStats) -> None:
        """Keep `stats` for `key`."""


def truncated_z(
    batch_size: int,
    truncation: float = 1.0,
    seed: int | torch.Generator | None = None,
    z_dim: int = 140,
) -> Tensor:
    """Latents [batch_size, z_dim] `truncation * truncnorm(-2, 2)` on the CPU, as the
    Tensorfork scripts sample: standard normal values outside [-2, 2] are redrawn
    (rejection sampling), then the whole vector is scaled by `truncation`
    (`gan_kit.latents.truncation.truncate` toward 0).

    `seed` an int: row i is drawn from seed + i with gan_kit's BigGAN seed convention
    (`gan_kit.latents.seeds.truncated_normal_from_seeds`), so `truncated_z(n, t, seed=s)`
    is the z of `gan_kit.explorer(G).latents(range(s, s + n))` scaled by t, on any
    machine. A torch.Generator: drawn from its stream. None: drawn at random.
    """
    if isinstance(seed, torch.Generator) or seed is None:
        generator = torch.Generator() if seed is None else seed
        if seed is None:
            generator.seed()
        z = torch.randn(batch_size, z_dim, generator=generator)
        redraw_outside(z, TRUNCATION_BOUND, lambda n: torch.randn(n, generator=generator))
    else:
        seeds = range(seed, seed + batch_size) if is_whole_number(seed) else [seed]
        z = truncated_normal_from_seeds(seeds, z_dim, TRUNCATION_BOUND)
    return truncate(z, 0.0, truncation)


class StandingStatistics(nn.Module):
    """Batch-norm statistics: fixed buffers, or, while collecting, the batch's own moments.

    In collecting mode (compare_gan's "standing statistics") each forward normalises with
    the batch mean and biased variance and adds both to running sums; the averages over
    all collected batches become the new `mean` and `var`.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("var", torch.ones(channels))
        self._sums: list[Tensor] | None = None  # [sum of means, sum of variances, count]

    def statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The (mean, var) to normalise `x` [B, C, H, W] with."""
        if self._sums is None:
            return self.mean, self.var
        var, mean = torch.var_mean(x, dim=(0, 2, 3), correction=0)
        self._sums[0] += mean
        self._sums[1] += var
        self._sums[2] += 1
        return mean, var

    def start_collecting(self) -> None:
        """Normalise with batch moments from now on and accumulate them."""
        zeros = torch.zeros_like(self.mean)
        self._sums = [zeros, zeros.clone(), torch.zeros((), device=zeros.device)]

    def stop_collecting(self) -> tuple[Tensor, Tensor] | None:
        """Leave collecting mode; return the averaged (mean, var), None if nothing ran."""
        sums, self._sums = self._sums, None
        if sums is None or sums[2] == 0:
            return None
        return sums[0] / sums[2], sums[1] / sums[2]


class ConditionalBatchNorm(StandingStatistics):
    """BN without affine whose per-sample gamma and beta are linear in the condition."""

    def __init__(self, channels: int, condition_dim: int) -> None:
        super().__init__(channels)
        self.gamma = nn.Linear(condition_dim, channels, bias=False)
        self.beta = nn.Linear(condition_dim, channels, bias=False)

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        mean, var = self.statistics(x)
        scale = self.gamma(condition) * torch.rsqrt(var + BN_EPSILON)
        shift = self.beta(condition) - mean * scale
        return torch.addcmul(shift[:, :, None, None], x, scale[:, :, None, None])


class BatchNorm(StandingStatistics):
    """Unconditional BN with learned per-channel `weight` (gamma) and `bias` (beta)."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        mean, var = self.statistics(x)
        scale = self.weight * torch.rsqrt(var + BN_EPSILON)
        shift = self.bias - mean * scale
        return torch.addcmul(shift[:, None, None], x, scale[:, None, None])


class UpsampleBlock(nn.Module):
    """One generator block: doubles the resolution, conditioned on z chunk + class.

    `up_conv` holds the checkpoint's 3x3 conv (applied after zero-insertion unpooling) as
    the equivalent stride-2 transposed conv: weight [in, out, 3, 3], spatially flipped.
    `shortcut` is the 1x1 conv; unpool-then-1x1 equals 1x1 on even pixels plus the bias
    everywhere, which is how it is computed.
    """

    def __init__(self, in_channels: int, out_channels: int, condition_dim: int) -> None:
        super().__init__()
        self.norm1 = ConditionalBatchNorm(in_channels, condition_dim)
        self.up_conv = nn.ConvTranspose2d(
            in_channels, out_channels, 3, stride=2, padding=1, output_padding=1
        )
        self.norm2 = ConditionalBatchNorm(out_channels, condition_dim)
        self.conv = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        hidden = F.relu(self.norm1(x, condition), inplace=True)
        hidden = F.relu(self.norm2(self.up_conv(hidden), condition), inplace=True)
        out = F.conv2d(hidden, self.conv.weight, self.conv.bias + self.shortcut.bias, padding=1)
        out[:, :, ::2, ::2] += F.conv2d(x, self.shortcut.weight)
        return out


class SelfAttention(nn.Module):
    """SAGAN attention (compare_gan's non_local_block): keys and values max-pooled 2x2,
    no 1/sqrt(d) scaling, residual `x + sigma * out(attention)`.

    Runs through `scaled_dot_product_attention`, which never builds the HW x HW/4 matrix
    on backends with a fused kernel. Queries and keys are zero-padded to the value width
    (dot products unchanged) because the fused CPU and flash kernels need one head size.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.key_channels = channels // 8
        self.value_channels = channels // 2
        self.theta = nn.Conv2d(channels, self.key_channels, 1, bias=False)
        self.phi = nn.Conv2d(channels, self.key_channels, 1, bias=False)
        self.g = nn.Conv2d(channels, self.value_channels, 1, bias=False)
        self.out = nn.Conv2d(self.value_channels, channels, 1, bias=False)
        self.sigma = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        batch, _, height, width = x.shape
        projections = F.conv2d(x, torch.cat([self.theta.weight, self.phi.weight, self.g.weight]))
        query, pooled = projections.split(
            [self.key_channels, self.key_channels + self.value_channels], dim=1
        )
        key, value = F.max_pool2d(pooled, 2).split([self.key_channels, self.value_channels], 1)
        head_dim = max(self.key_channels, self.value_channels)

        def as_sequence(t: Tensor) -> Tensor:  # [B, C, H, W] -> [B, 1, H*W, head_dim]
            return F.pad(t.flatten(2).transpose(1, 2), (0, head_dim - t.shape[1]))[:, None]

        attended = F.scaled_dot_product_attention(
            as_sequence(query), as_sequence(key), as_sequence(value), scale=1.0
        )
        attended = attended[:, 0, :, : self.value_channels].transpose(1, 2)
        attended = attended.reshape(batch, self.value_channels, height, width)
        return F.conv2d(attended, self.out.weight * self.sigma).add_(x)


@dataclass(frozen=True)
class BigGANConfig:
    """Everything needed to build the generator; JSON-serialisable via `to_dict`.

    `ch` is the channel unit (96 for run39: widths `ch * CHANNEL_MULTIPLIERS[resolution]`),
    `n_class` the number of classes, `chunk_size` the z width per block (z has
    `num_blocks + 1` chunks), `embed_dim` the class embedding's width and
    `attention_block` the block (1-based) self-attention follows, or None.
    """

    ch: int = 96
    resolution: int = 256
    n_class: int = 1000
    chunk_size: int = 20
    embed_dim: int = 128
    attention_block: int | None = 5

    def __post_init__(self) -> None:
        if self.resolution not in CHANNEL_MULTIPLIERS:
            raise InvalidInputError(
                f"resolution {self.resolution} is not one BigGAN is defined for; "
                f"use one of {sorted(CHANNEL_MULTIPLIERS)}"
            )
        block = self.attention_block
        if block is not None and not 1 <= block <= self.num_blocks:
            raise InvalidInputError(f"attention_block must be in 1..{self.num_blocks} or None")

    @property
    def num_blocks(self) -> int:
        """Upsampling blocks: one per doubling from 4 px."""
        return len(CHANNEL_MULTIPLIERS[self.resolution]) - 1

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-serialisable dict (what converted files store)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BigGANConfig:
        """The config of `data`, written by `to_dict` (e.g. read back from JSON)."""
        return cls(**data)


# One re-entrant lock per generator (kept outside it: modules are deep-copied and pickled).
_STATISTICS_LOCKS: weakref.WeakKeyDictionary[nn.Module, threading.RLock] = (
    weakref.WeakKeyDictionary()
)
_LOCKS_LOCK = threading.Lock()


def statistics_lock(generator: nn.Module) -> threading.RLock:
    """The lock that a forward pass of `generator` and any change of its batch-norm
    statistics (collecting, setting) hold, so that a render in one thread never sees
    another thread's collecting mode or half-copied statistics."""
    with _LOCKS_LOCK:
        lock = _STATISTICS_LOCKS.get(generator)
        if lock is None:
            lock = _STATISTICS_LOCKS[generator] = threading.RLock()
        return lock


class BigGANGenerator(nn.Module):
    """The run39 generator of the size `config` gives: `G(z, y)` -> images [B, 3, R, R]
    in [0, 1].

    Arguments of a call:
    - `z` [B, z_dim]: `num_chunks` chunks of `chunk_size`; chunk 0 feeds the initial
      dense layer, chunk i (1..num_blocks) conditions block i. Per-layer mixing of two
      samples is therefore just building z from chunks of both.
    - `y`, the class of each sample, one of:
      - int indices [B];
      - one-hot or soft mixtures [B, n_class] (any weights; rows need not sum to 1);
      - per block: int indices [B, num_blocks] or vectors [B, num_blocks, n_class], or a
        list of `num_blocks` tensors or arrays, each [B] indices or [B, n_class] vectors
        (a list of Python numbers is one tensor: indices [B]).
      Entry k of a per-block class conditions block k+1 (the first is used by B1).
      A batch of 1 in y is broadcast over the batch of z.

    BN statistics are buffers (`mean`, `var` of every `StandingStatistics` module);
    `recompute_standing_stats` re-estimates them from samples. Forward passes and
    changes of the statistics hold `statistics_lock(G)`: renders of one generator from
    several threads run one at a time, and never during a recomputation.
    """

    kind: ClassVar[str] = "biggan"  # its name in converted files, recipes and the registry

    def __init__(self, config: BigGANConfig) -> None:
        super().__init__()
        self.config = config
        ch, n_class, chunk_size = config.ch, config.n_class, config.chunk_size
        attention_block = config.attention_block
        channels = [ch * m for m in CHANNEL_MULTIPLIERS[config.resolution]]

        condition_dim = chunk_size + config.embed_dim
        self.class_embedding = nn.Linear(n_class, config.embed_dim, bias=False)
        self.noise_fc = nn.Linear(chunk_size, 4 * 4 * channels[0])  # output in NCHW order
        self.blocks = nn.ModuleList(
            UpsampleBlock(c_in, c_out, condition_dim)
            for c_in, c_out in itertools.pairwise(channels)
        )
        self.attention = (
            SelfAttention(channels[attention_block]) if attention_block is not None else None
        )
        self.final_norm = BatchNorm(channels[-1])
        self.final_conv = nn.Conv2d(channels[-1], 3, 3, padding=1)
        # Activations run channels-last (faster oneDNN convolutions); kernels in the same
        # layout spare a reorder of every weight on every call (~25% at batch 1 on a CPU).
        self.to(memory_format=torch.channels_last)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BigGANGenerator:
        """The generator of a config read back from JSON (`config.to_dict()`)."""
        return cls(BigGANConfig.from_dict(config))

    @property
    def ch(self) -> int:
        """The channel unit (widths are multiples of it)."""
        return self.config.ch

    @property
    def resolution(self) -> int:
        """The images' width and height, in pixels."""
        return self.config.resolution

    @property
    def n_class(self) -> int:
        """How many classes the model is conditioned on."""
        return self.config.n_class

    @property
    def chunk_size(self) -> int:
        """The width of each z chunk."""
        return self.config.chunk_size

    @property
    def embed_dim(self) -> int:
        """The width of the class embedding."""
        return self.config.embed_dim

    @property
    def attention_block(self) -> int | None:
        """The block (1-based) self-attention follows, or None."""
        return self.config.attention_block

    @property
    def num_blocks(self) -> int:
        """Upsampling blocks: one per doubling from 4 px."""
        return self.config.num_blocks

    @property
    def num_chunks(self) -> int:
        """z chunks: one for the dense layer, one per block."""
        return self.config.num_blocks + 1

    @property
    def z_dim(self) -> int:
        """The width of z: num_chunks * chunk_size."""
        return self.config.chunk_size * self.num_chunks

    @property
    def channels(self) -> list[int]:
        """Feature widths: the 4x4 input of B1, then the output of each block."""
        return [self.blocks[0].up_conv.in_channels] + [b.conv.out_channels for b in self.blocks]

    def forward(self, z: Tensor, y: Tensor | Sequence[Tensor]) -> Tensor:
        """Images [B, 3, R, R] in [0, 1] for latents `z` and classes `y` (see class doc)."""
        with statistics_lock(self):
            return self._forward(z, y)

    def _forward(self, z: Tensor, y: Tensor | Sequence[Tensor]) -> Tensor:
        z = self._checked_z(z)
        batch = z.shape[0]
        chunks = z.split(self.chunk_size, dim=1)
        embeddings = self.class_embeddings(y, batch)
        x = self.noise_fc(chunks[0]).view(batch, -1, 4, 4)
        x = x.contiguous(memory_format=torch.channels_last)
        for index, (block, chunk) in enumerate(zip(self.blocks, chunks[1:], strict=True)):
            embedding = embeddings[:, min(index, embeddings.shape[1] - 1)]
            x = block(x, torch.cat([chunk, embedding], dim=1))
            if index + 1 == self.attention_block:
                x = self.attention(x)
        x = self.final_conv(F.relu(self.final_norm(x), inplace=True))
        return torch.tanh(x).add(1).mul_(0.5).contiguous()  # tanh keeps its output for autograd

    def _checked_z(self, z: Tensor) -> Tensor:
        """`z` on the generator's device and dtype, after checking its shape."""
        z = torch.as_tensor(z)
        shape = list(z.shape)
        if z.dim() != 2:
            raise InvalidInputError(
                f"z must be [batch, {self.z_dim}], got {z.dim()} dimensions {shape}: pass one "
                f"row of {self.z_dim} values per image"
            )
        if z.shape[1] != self.z_dim:
            raise InvalidInputError(
                f"z must be [batch, {self.z_dim}], got {shape}: its second dimension must be "
                f"{self.z_dim}, this model's z_dim"
            )
        if not z.is_floating_point():
            raise InvalidInputError(f"z must be a float tensor, got {z.dtype}: pass z.float()")
        weight = self.noise_fc.weight
        return z.to(device=weight.device, dtype=weight.dtype)

    def class_embeddings(self, y: Tensor | Sequence[Tensor], batch: int) -> Tensor:
        """Embedded classes [batch, 1 or num_blocks, embed_dim] for any accepted form of y."""
        if _is_per_block_list(y):
            if len(y) != self.num_blocks:
                raise InvalidInputError(
                    f"a per-block class list needs {self.num_blocks} items (one per block), "
                    f"got {len(y)}"
                )
            items = [self._embed(item, per_block_axis=False) for item in y]
            if len({item.shape[0] for item in items}) > 1:
                raise InvalidInputError("the items of a per-block class list differ in batch")
            embeddings = torch.cat(items, dim=1)
        else:
            y = torch.as_tensor(y)
            per_block = y.dim() == (2 if _is_index(y) else 3)
            embeddings = self._embed(y, per_block_axis=per_block)
        if embeddings.shape[0] not in (1, batch):
            raise InvalidInputError(f"y has batch {embeddings.shape[0]} but z has batch {batch}")
        return embeddings.expand(batch, -1, -1)

    def _embed(self, labels: Tensor, per_block_axis: bool) -> Tensor:
        """Embed indices [B(, K)] or class vectors [B(, K), n_class] to [B, K or 1, E]."""
        labels = torch.as_tensor(labels, device=self.class_embedding.weight.device)
        expected_dim = (2 if per_block_axis else 1) + (0 if _is_index(labels) else 1)
        shape_ok = labels.dim() == expected_dim and (
            _is_index(labels) or labels.shape[-1] == self.n_class
        )
        if per_block_axis:
            shape_ok = shape_ok and labels.shape[1] == self.num_blocks
        if not shape_ok:
            raise InvalidInputError(
                f"y must be class indices [B] or [B, {self.num_blocks}], or class vectors "
                f"[B, {self.n_class}] or [B, {self.num_blocks}, {self.n_class}] "
                f"(or a list of {self.num_blocks} per-block ones); got {labels.dtype} "
                f"{list(labels.shape)}"
            )
        weight = self.class_embedding.weight  # [E, n_class]
        if _is_index(labels):
            if labels.numel() and (labels.min() < 0 or labels.max() >= self.n_class):
                raise InvalidInputError(f"class indices must be in 0..{self.n_class - 1}")
            embedded = weight.T[labels]
        elif labels.is_floating_point():
            embedded = F.linear(labels.to(weight.dtype), weight)
        else:
            raise InvalidInputError(
                f"y must be integer indices or float vectors, not {labels.dtype}"
            )
        return embedded if per_block_axis else embedded[:, None]

    # --- standing statistics ------------------------------------------------------------

    def standing_statistics_modules(self) -> dict[str, StandingStatistics]:
        """Every batch norm of the network, by module name."""
        return {n: m for n, m in self.named_modules() if isinstance(m, StandingStatistics)}

    @contextmanager
    def collecting_statistics(self) -> Iterator[dict[str, tuple[Tensor, Tensor]]]:
        """Within the block, batch norms use and accumulate batch moments; on exit the
        yielded dict is filled with each module's averaged (mean, var). Other threads'
        forward passes wait until the block ends."""
        modules = self.standing_statistics_modules()
        with statistics_lock(self):
            for module in modules.values():
                module.start_collecting()
            collected: dict[str, tuple[Tensor, Tensor]] = {}
            try:
                yield collected
            finally:
                for name, module in modules.items():
                    result = module.stop_collecting()
                    if result is not None:
                        collected[name] = result

    def recompute_standing_stats(
        self,
        n_samples: int = 4096,
        truncation: float = 1.0,
        batch_size: int = 32,
        seed: int = 0,
        progress: bool = True,
        cache: StatisticsCache | None = None,
    ) -> None:
        """Re-estimate every BN mean/var from `n_samples` random samples and use them.

        Samples are `truncated_z(truncation)` latents with uniform random classes, drawn
        from `seed`, in batches of `batch_size` (the estimate is the average of the batch
        moments, as compare_gan's standing statistics). The published statistics came from
        only 64 untruncated samples: statistics from the distribution you sample with are
        better. Costs about `n_samples` forward passes (`progress` shows a bar), unless
        `cache` (e.g. `gan_kit.zoo.StandingStatisticsCache()`, under GAN_KIT_CACHE) holds
        them already under `standing_statistics_key(...)`; what is computed is put there.
        """
        key = self.standing_statistics_key(n_samples, truncation, batch_size, seed)
        stats = None if cache is None else cache.get(key)
        if stats is None or not self._fits(stats):
            stats = self.collect_standing_statistics(
                n_samples, truncation, batch_size, seed, progress
            )
            if cache is not None:
                cache[key] = stats
        self.set_standing_statistics(stats)

    def standing_statistics_key(
        self, n_samples: int, truncation: float, batch_size: int, seed: int
    ) -> str:
        """What identifies the statistics of these settings (`n_samples`, `truncation`,
        `batch_size`, `seed`, as `recompute_standing_stats`) for these weights: a short
        hash of a few weights (so they are never applied to another model) and the
        settings."""
        digest = hashlib.sha1()
        for tensor in (self.noise_fc.bias, self.final_conv.weight, self.final_conv.bias):
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        settings = f"n{n_samples}-t{float(truncation):g}-b{batch_size}-seed{seed}"
        return f"{digest.hexdigest()[:16]}-{settings}"

    def collect_standing_statistics(
        self, n_samples: int, truncation: float, batch_size: int, seed: int, progress: bool
    ) -> StandingStats:
        """Run `n_samples` samples in collecting mode, drawn as `recompute_standing_stats`
        says from `truncation`, `batch_size` and `seed` (`progress`: a bar); return
        {module name: {"mean", "var"}} on the CPU, leaving the buffers as they were."""
        from tqdm.auto import tqdm

        if n_samples <= 0 or batch_size <= 0 or n_samples % batch_size:
            raise InvalidInputError(
                f"n_samples ({n_samples}) must be a positive multiple of batch_size ({batch_size})"
            )
        device = self.noise_fc.weight.device
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad(), self.collecting_statistics() as collected:
            for _ in tqdm(
                range(n_samples // batch_size),
                desc="standing BN statistics",
                unit="batch",
                disable=not progress,
            ):
                z = truncated_z(batch_size, truncation, generator, self.z_dim)
                classes = torch.randint(self.n_class, (batch_size,), generator=generator)
                self(z.to(device), classes.to(device))
        return {n: {"mean": m.cpu(), "var": v.cpu()} for n, (m, v) in collected.items()}

    def set_standing_statistics(self, stats: StandingStats) -> None:
        """Copy `stats` ({module name: {"mean", "var"}}, as collected) into the BN buffers."""
        if not self._fits(stats):
            raise InvalidInputError(
                "these standing statistics are of another BigGAN (other batch norms or widths)"
            )
        with torch.no_grad(), statistics_lock(self):
            for name, module in self.standing_statistics_modules().items():
                module.mean.copy_(stats[name]["mean"])
                module.var.copy_(stats[name]["var"])

    def _fits(self, stats: object) -> bool:
        """Whether `stats` name every batch norm of this network, with its widths."""
        modules = self.standing_statistics_modules()
        return (
            isinstance(stats, dict)
            and set(stats) == set(modules)
            and all(
                isinstance(stats[n], dict)
                and all(
                    isinstance(stats[n].get(key), Tensor)
                    and stats[n][key].shape == getattr(m, key).shape
                    for key in ("mean", "var")
                )
                for n, m in modules.items()
            )
        )


def _is_per_block_list(y: object) -> bool:
    """Whether `y` is a list of per-block labels (tensors or arrays), not a list of numbers."""
    return isinstance(y, (list, tuple)) and all(isinstance(i, (Tensor, np.ndarray)) for i in y)


def _is_index(labels: Tensor) -> bool:
    """Whether `labels` holds class indices (an integer dtype) rather than class vectors."""
    return not labels.is_floating_point() and labels.dtype != torch.bool
