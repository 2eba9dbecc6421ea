"""gan_kit: load and explore pretrained anime GANs in pure PyTorch."""

from gan_kit.errors import (
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    GanKitError,
    UnsafePickleError,
    UnsupportedCheckpointError,
)
from gan_kit.loading import load

__version__ = "0.1.0"

__all__ = [
    "CheckpointMismatchError",
    "CheckpointNotFoundError",
    "CorruptCheckpointError",
    "GanKitError",
    "UnsafePickleError",
    "UnsupportedCheckpointError",
    "__version__",
    "load",
]
