"""Output paths checked before any work: extension, folder, and no silent overwrites."""

from __future__ import annotations

import os
from pathlib import Path

from gan_kit.errors import InvalidInputError
from gan_kit.files import check_writable_target


def checked_output_path(path: str | os.PathLike[str], suffix: str, *, overwrite: bool) -> Path:
    """The path as a Path, once its extension, folder and overwrite rule are known to be fine.

    Called before any rendering or encoding, so that a bad path fails in milliseconds.
    """
    target = Path(path)
    if target.suffix.lower() != suffix:
        raise InvalidInputError(f"{target} should end in {suffix} (got {target.suffix or 'none'})")
    check_writable_target(target, overwrite=overwrite)
    return target
