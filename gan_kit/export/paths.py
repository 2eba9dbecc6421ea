"""Atomic output files: a finished file or nothing, and no silent overwrites."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gan_kit.errors import ExportError, InvalidInputError, OutputExistsError


def checked_output_path(path: str | os.PathLike[str], suffix: str, *, overwrite: bool) -> Path:
    """The path as a Path, once its extension, folder and overwrite rule are known to be fine.

    Called before any rendering or encoding, so that a bad path fails in milliseconds.
    """
    target = Path(path)
    if target.suffix.lower() != suffix:
        raise InvalidInputError(f"{target} should end in {suffix} (got {target.suffix or 'none'})")
    check_writable_target(target, overwrite=overwrite)
    return target


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
        check_writable_target(target, overwrite=overwrite)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
