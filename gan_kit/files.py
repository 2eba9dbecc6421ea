"""File helpers shared by loading and export: peeking at a file, and atomic writes.

An atomic write goes to a hidden temporary file beside the target and is moved onto it in
one step, so readers (and a crash) only ever see the old file or the complete new one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gan_kit.errors import ExportError, OutputExistsError


def read_head(path: Path, size: int = 256) -> bytes:
    """The first `size` bytes of `path`, or b"" when it is not a readable regular file."""
    try:
        with path.open("rb") as file:
            return file.read(size)
    except (IsADirectoryError, FileNotFoundError, PermissionError, NotADirectoryError):
        return b""


def make_folder(folder: str | os.PathLike[str]) -> Path:
    """Create `folder` (and its parents) if needed; a clear error where that is impossible."""
    path = Path(folder).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(
            f"cannot create the folder {path}: {error.strerror or error}; choose another"
        ) from error
    return path


def check_writable_target(target: Path, *, overwrite: bool) -> None:
    """Raise a clear error if `target` cannot be created or replaced."""
    folder = target.parent
    if not folder.exists():
        raise ExportError(f"cannot write {target}: the folder {folder} does not exist; create it")
    if not folder.is_dir():
        raise ExportError(f"cannot write {target}: {folder} is a file, not a folder")
    if target.is_dir():
        raise ExportError(f"cannot write {target}: it is a folder")
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target} exists; pass overwrite=True to replace it")


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success move it onto `path` in one step.

    The temporary file is hidden (a leading dot), keeps the extension (encoders such as
    ffmpeg pick the format from it) and is removed if the block raises, so readers only
    ever see the old file or the complete new one. Raises `OutputExistsError` if `path`
    exists and not `overwrite`, checked again just before the move since encoding can be
    slow, and `ExportError` if the folder is missing or not writable.
    """
    target = Path(path)
    check_writable_target(target, overwrite=overwrite)
    temporary = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")
    try:
        # "x" creates the file with the usual umask permissions and never clobbers one.
        temporary.open("xb").close()
    except OSError as error:
        raise ExportError(
            f"cannot create a file in {target.parent}: {error.strerror or error}"
        ) from error
    try:
        yield temporary
        with temporary.open("rb+") as written:  # on disk before it takes the name
            os.fsync(written.fileno())
        check_writable_target(target, overwrite=overwrite)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
