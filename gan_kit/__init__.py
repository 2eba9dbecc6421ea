"""gan_kit: load and explore pretrained anime GANs in pure PyTorch."""

from gan_kit.directions import Directions, Edit, ganspace, sefa
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
from gan_kit.explore import (
    Explorer,
    Grid,
    animation_clip,
    direction_strip,
    explorer,
    mixing_matrix,
    psi_sweep,
    render_recipe,
    sample_grid,
    save_animation,
)
from gan_kit.recipes import Recipe, recipe_from_png
from gan_kit.version import __version__
from gan_kit.zoo import convert, load, models

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
    "Recipe",
    "UnknownModelError",
    "UnsafePickleError",
    "UnsupportedCheckpointError",
    "__version__",
    "animation_clip",
    "convert",
    "direction_strip",
    "explorer",
    "ganspace",
    "load",
    "mixing_matrix",
    "models",
    "psi_sweep",
    "recipe_from_png",
    "render_recipe",
    "sample_grid",
    "save_animation",
    "sefa",
]
