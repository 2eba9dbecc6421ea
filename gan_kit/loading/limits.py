"""What a checkpoint may make gan_kit spend, checked before it is spent.

A file's metadata (shapes, strides, sizes, a config) is a claim; the bytes behind it are
what the file really holds. gan_kit allocates only what the file holds, give or take a
small factor: tensors built from a file may hold at most `element_allowance(file bytes)`
numbers, and a generator is built only when its weights fit in the numbers its file
holds and its sizes are within the range of published models (`STYLEGAN2_LIMITS`,
`BIGGAN_LIMITS`). Values from files shown in messages go through `shown`, which bounds
the work and the length of their repr.
"""

from __future__ import annotations

import itertools
import reprlib
from typing import Any

from gan_kit.errors import CheckpointMismatchError, CorruptCheckpointError
from gan_kit.generators.biggan import CHANNEL_MULTIPLIERS, BigGANConfig
from gan_kit.generators.stylegan2 import StyleGAN2Config
from gan_kit.values import is_finite_number, is_whole_number

SLACK_ELEMENTS = 1 << 20
"""Numbers allowed beyond what the file's size accounts for (small files, tiny models)."""

# The largest published models: TADNE (StyleGAN2-ext, 512 px, z = w = 1024, channels up to
# 1024) and run39 (BigGAN, 256 px, ch 96, 1000 classes); the limits leave room for bigger.
STYLEGAN2_LIMITS = {"resolution": 4096, "latent": 8192, "channels": 8192, "mapping_layers": 32}
BIGGAN_LIMITS = {"ch": 1024, "n_class": 100_000, "chunk_size": 4096, "embed_dim": 8192}

_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxstring, _repr.maxother = 3, 80, 80


def shown(value: Any, limit: int = 120) -> str:
    """A repr of `value` (from a file) for messages: bounded in depth, items and length."""
    try:
        text = _repr.repr(value)
    except Exception:  # a hostile object's repr may fail in any way
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def element_allowance(file_bytes: int) -> int:
    """How many numbers the tensors built from a file of `file_bytes` may hold in all: two
    bytes a number (float16, the smallest weights published) plus `SLACK_ELEMENTS`."""
    return max(file_bytes, 0) // 2 + SLACK_ELEMENTS


class ElementBudget:
    """The numbers a file's tensors may still hold; `spend` refuses going over."""

    def __init__(self, file_bytes: int, source: str):
        self.left = element_allowance(file_bytes)
        self.source = source

    def spend(self, elements: int) -> None:
        """Count `elements` numbers against the budget; over it, the file is damaged."""
        self.left -= elements
        if self.left < 0:
            raise CorruptCheckpointError(
                f"{self.source}: its tensors claim more numbers than the file's size can hold "
                "(shared or overlapping storage)"
            )


def checked_size(source: str, name: str, value: Any, low: int, high: int) -> int:
    """`value` (a size read from a file) as an int, when it is a whole number in
    [`low`, `high`]; else a `CheckpointMismatchError` naming `name`."""
    if not (is_whole_number(value) and low <= value <= high):
        raise CheckpointMismatchError(
            f"{source}: {name} is {shown(value)}; generators gan_kit builds have {name} "
            f"from {low} to {high}: the checkpoint is damaged or of another architecture"
        )
    return int(value)


def stylegan2_weights(config: StyleGAN2Config, source: str) -> int:
    """How many numbers `config`'s StyleGAN2 generator holds (checking its sizes first)."""
    limits = STYLEGAN2_LIMITS
    checked_size(source, "resolution", config.resolution, 4, limits["resolution"])
    checked_size(source, "mapping layers", config.mapping_layers, 1, limits["mapping_layers"])
    checked_size(source, "image channels", config.img_channels, 1, 4)
    for width in config.mapping_features:
        checked_size(source, "a latent width", width, 1, limits["latent"])
    for width in config.channels:
        checked_size(source, "a channel count", width, 1, limits["channels"])
    taps = config.resample_filter
    if not (isinstance(taps, tuple) and 1 <= len(taps) <= 16 and all(map(is_finite_number, taps))):
        raise CheckpointMismatchError(
            f"{source}: the resample filter {shown(taps)} is not 1 to 16 finite numbers"
        )
    mapping = sum(a * b for a, b in itertools.pairwise(config.mapping_features))
    synthesis, previous = 0, config.channels[0]
    for k, width in enumerate(config.channels):
        resolution = 4 << k
        convs = 9 * width * (width + (previous if k else 0))
        styles = config.w_dim * (width + previous + width)
        synthesis += convs + styles + resolution * resolution * (2 if k else 1)
        previous = width
    return mapping + synthesis


def biggan_weights(config: BigGANConfig, source: str) -> int:
    """How many numbers `config`'s BigGAN generator holds (checking its sizes first)."""
    for name, high in BIGGAN_LIMITS.items():
        checked_size(source, name, getattr(config, name), 1, high)
    widths = [config.ch * m for m in CHANNEL_MULTIPLIERS[config.resolution]]
    condition = config.chunk_size + config.embed_dim
    blocks = sum(
        9 * (c_in * c_out + c_out * c_out) + c_in * c_out + 4 * (c_in + c_out) * condition
        for c_in, c_out in itertools.pairwise(widths)
    )
    embed = config.embed_dim * config.n_class
    return blocks + embed + 16 * widths[0] * config.chunk_size + 27 * widths[-1]


def generator_weights(config: StyleGAN2Config | BigGANConfig, source: str) -> int:
    """How many numbers the generator of `config` holds (its sizes checked first)."""
    if isinstance(config, BigGANConfig):
        return biggan_weights(config, source)
    return stylegan2_weights(config, source)


def check_fits(needed: int, held: int, source: str) -> None:
    """Refuse to build a generator of `needed` numbers from a file that holds `held`."""
    if needed > held + SLACK_ELEMENTS:
        raise CheckpointMismatchError(
            f"{source}: its sizes describe a generator of {needed:,} numbers but it holds "
            f"only {held:,}: the checkpoint is damaged or crafted"
        )
