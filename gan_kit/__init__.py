"""gan_kit: load and explore pretrained anime GANs in pure PyTorch.

The errors and the version are imported at once; everything else (which needs torch)
when first used, so that `import gan_kit.cli` and `gan-kit --help` stay fast.
"""

from __future__ import annotations

import importlib

from gan_kit.errors import (
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    DownloadError,
    ExportError,
    GanKitError,
    InvalidInputError,
    MissingDependencyError,
    OutputExistsError,
    OutputTooLargeError,
    UnknownModelError,
    UnsafePickleError,
    UnsupportedCheckpointError,
)
from gan_kit.version import __version__

# Public name -> the module it comes from, imported on first use.
_LAZY = {
    "Directions": "gan_kit.directions",
    "Edit": "gan_kit.directions",
    "ganspace": "gan_kit.directions",
    "sefa": "gan_kit.directions",
    "Explorer": "gan_kit.explore",
    "Projection": "gan_kit.explore",
    "ProjectionLoss": "gan_kit.explore",
    "best_seeds": "gan_kit.explore",
    "project": "gan_kit.explore",
    "Grid": "gan_kit.explore",
    "animation_clip": "gan_kit.explore",
    "direction_strip": "gan_kit.explore",
    "explorer": "gan_kit.explore",
    "mixing_matrix": "gan_kit.explore",
    "psi_sweep": "gan_kit.explore",
    "render_recipe": "gan_kit.explore",
    "sample_grid": "gan_kit.explore",
    "save_animation": "gan_kit.explore",
    "Recipe": "gan_kit.recipes",
    "recipe_from_png": "gan_kit.recipes",
    "convert": "gan_kit.zoo",
    "load": "gan_kit.zoo",
    "models": "gan_kit.zoo",
    "load_discriminator": "gan_kit.zoo.discriminator",
}


def __getattr__(name: str) -> object:
    """The lazily imported public names (see _LAZY); kept in the module once imported."""
    if name not in _LAZY:
        raise AttributeError(f"module 'gan_kit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "CheckpointMismatchError",
    "CheckpointNotFoundError",
    "CorruptCheckpointError",
    "Directions",
    "DownloadError",
    "Edit",
    "Explorer",
    "ExportError",
    "GanKitError",
    "Grid",
    "InvalidInputError",
    "MissingDependencyError",
    "OutputExistsError",
    "OutputTooLargeError",
    "Projection",
    "ProjectionLoss",
    "Recipe",
    "UnknownModelError",
    "UnsafePickleError",
    "UnsupportedCheckpointError",
    "__version__",
    "animation_clip",
    "best_seeds",
    "convert",
    "direction_strip",
    "explorer",
    "ganspace",
    "load",
    "load_discriminator",
    "mixing_matrix",
    "models",
    "project",
    "psi_sweep",
    "recipe_from_png",
    "render_recipe",
    "sample_grid",
    "save_animation",
    "sefa",
]
