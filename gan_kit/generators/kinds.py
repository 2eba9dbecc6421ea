"""The kinds table: every generator class gan_kit has, by the kind name it carries.

Converted files, recipes, the registry and the explorers name a model family by its kind
("stylegan2", "biggan"); this is the one place that lists them. A generator class carries
its `kind`, its config dataclass (`generator.config`, with `to_dict`) and `from_config`.
"""

from __future__ import annotations

from torch import nn

from gan_kit.errors import UnsupportedCheckpointError
from gan_kit.generators.biggan import BigGANGenerator
from gan_kit.generators.stylegan2 import StyleGAN2Generator

Generator = StyleGAN2Generator | BigGANGenerator

GENERATORS: dict[str, type[Generator]] = {
    generator_type.kind: generator_type for generator_type in (StyleGAN2Generator, BigGANGenerator)
}
KINDS: tuple[str, ...] = tuple(GENERATORS)


def kind_of(generator: nn.Module) -> str:
    """The kind of a gan_kit generator, e.g. 'stylegan2'; other modules are refused."""
    for kind, generator_type in GENERATORS.items():
        if isinstance(generator, generator_type):
            return kind
    raise UnsupportedCheckpointError(
        f"a {type(generator).__name__} is not a gan_kit generator; gan_kit works with "
        + ", ".join(generator_type.__name__ for generator_type in GENERATORS.values())
    )
