"""File helpers shared by loading and export: peeking at a file, and atomic writes.

An atomic write goes to a hidden temporary file beside the target and is moved onto it in
one step, so readers (and a crash) only ever see the old file or the complete new one.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
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


_FILE_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def not_a_regular_file(path: Path) -> str | None:
    """Why `path` cannot be read as a regular file ("a FIFO (named pipe)", "a folder",
    "unreadable (Input/output error)", "missing"), or None when it can. Never blocks:
    it reads the kind first and opens only regular files (and e.g. /proc/self/mem, a
    regular file that fails on reading, is caught by reading one byte)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    if not stat.S_ISREG(mode):
        return _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
    try:
        with open(path, "rb") as file:
            file.read(1)
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    return None


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


def process_is_alive(pid: int) -> bool:
    """Whether a process `pid` runs on this machine (True where that cannot be told)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's, or not a pid at all: leave it
    return True


def remove_stale_partials(folder: Path, pattern: re.Pattern[str], *, idle_s: float) -> None:
    """Delete the partial files in `folder` left by dead processes: names matching
    `pattern` (its first group the writer's pid), written by no live process here and
    unchanged for `idle_s` seconds (so that a writer on another machine sharing the folder,
    e.g. Colab's Drive, is left alone while it still writes)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or process_is_alive(int(match.group(1))):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat().st_mtime > idle_s:
                os.unlink(entry.path)
        except OSError:
            pass  # gone already, or not ours to remove


_TEMPORARY = re.compile(r"\..*\.(\d+)-[0-9a-f]{8}\.tmp(\.[^.]*)?")  # atomic_path's names
STALE_TEMPORARY_S = 60.0  # an encoder that wrote nothing for this long is not running


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success move it onto `path` in one step.

    The temporary file is hidden (a leading dot), keeps the extension (encoders such as
    ffmpeg pick the format from it) and is removed if the block raises, so readers only
    ever see the old file or the complete new one; the temporary files of killed
    processes (unchanged for a minute) are removed from the folder first. Raises
    `OutputExistsError` if `path` exists and not `overwrite`, checked again just before
    the move since encoding can be slow, and `ExportError` if the folder is missing or
    not writable.
    """
    target = Path(path)
    check_writable_target(target, overwrite=overwrite)
    remove_stale_partials(target.parent, _TEMPORARY, idle_s=STALE_TEMPORARY_S)
    name = f".{target.stem}.{os.getpid()}-{secrets.token_hex(4)}.tmp{target.suffix}"
    temporary = target.with_name(name)
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
