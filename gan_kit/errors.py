"""The exceptions gan_kit raises: one base class, each message saying what to do."""

from __future__ import annotations


class GanKitError(Exception):
    """Base class of every error gan_kit raises on purpose."""


class CheckpointNotFoundError(GanKitError, FileNotFoundError):
    """The checkpoint path does not exist."""


class CorruptCheckpointError(GanKitError):
    """The file is truncated or damaged (bad pickle stream, failed checksum, ...)."""


class UnsupportedCheckpointError(GanKitError):
    """The file is readable but holds something gan_kit cannot build a generator from."""


class UnsafePickleError(UnsupportedCheckpointError):
    """A pickle asked for a global outside the allow-list; nothing from it was run."""


class CheckpointMismatchError(UnsupportedCheckpointError):
    """Tensors are missing, unexpected, or of the wrong shape for the architecture."""


class InvalidInputError(GanKitError, ValueError):
    """An argument is out of range or of the wrong shape."""


class OutputTooLargeError(InvalidInputError):
    """The requested output cannot be held in memory (or read back), even one image at a time."""


class UnknownModelError(CheckpointNotFoundError):
    """A name is neither a registered model, a local file, nor a URL."""


class DownloadError(GanKitError):
    """A download failed (network, HTTP status, size or checksum), or is impossible offline."""


class MissingDependencyError(GanKitError, ImportError):
    """An optional package that this feature needs is not installed; the message says which."""


class ExportError(GanKitError):
    """An image or animation file could not be written or read (folder, permissions, encoder)."""


class OutputExistsError(ExportError, FileExistsError):
    """The output file exists and overwriting was not asked for."""
