"""Small helpers for looking at checkpoint files before parsing them."""

from __future__ import annotations

from pathlib import Path


def read_head(path: Path, size: int = 256) -> bytes:
    """The first `size` bytes of `path`, or b"" when it is not a readable regular file."""
    try:
        with path.open("rb") as file:
            return file.read(size)
    except (IsADirectoryError, FileNotFoundError, PermissionError, NotADirectoryError):
        return b""
