"""Reading checkpoint files, shared by the format modules: a damaged file becomes a
`CorruptCheckpointError` where it is read, never an error from inside torch or zipfile, and
torch files are read by gan_kit's own checked reader (`torch_files`), never `torch.load`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gan_kit.errors import CorruptCheckpointError, GanKitError
from gan_kit.files import read_head
from gan_kit.loading.torch_files import read_torch

_TORCH_KEYS_SCAN_BYTES = 1 << 22  # the keys of a legacy torch pickle come before its tensors


@contextmanager
def reading_checkpoint(path: Path) -> Iterator[None]:
    """Report an error raised while reading `path` as a damaged file; gan_kit's own pass as is."""
    try:
        yield
    except CorruptCheckpointError as exc:  # from a part of the file: name the file, advise
        if "download it again" in str(exc):
            raise
        where = "" if str(exc).startswith(str(path)) else f"{path}: "
        raise CorruptCheckpointError(
            f"{where}{exc}; the file is damaged: download it again"
        ) from exc
    except (GanKitError, MemoryError):  # ours say what to do; memory is not damage
        raise
    except Exception as exc:
        raise CorruptCheckpointError(
            f"{path} could not be read ({type(exc).__name__}: {exc}); the file is probably "
            "truncated or damaged: download it again"
        ) from exc


def torch_file_keys(path: Path) -> bytes:
    """The pickle part of a torch file (zip or legacy), where its key names are; b"" for
    other files. Nothing is unpickled; a damaged zip gives its first bytes, for the
    format's build to report."""
    head = read_head(path, 4)
    if head == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "data.pkl"]
                if not names:
                    return b""
                with archive.open(names[0]) as member:  # capped: it may claim any size
                    return member.read(_TORCH_KEYS_SCAN_BYTES)
        except Exception:  # any damage: zipfile raises many kinds
            return read_head(path, _TORCH_KEYS_SCAN_BYTES)
    return read_head(path, _TORCH_KEYS_SCAN_BYTES) if head[:1] == b"\x80" else b""


def read_torch_file(path: Path, advice: str) -> Any:
    """The tensors of the torch file `path` (sizes checked, nothing run). Pickled
    objects besides tensors are refused with `advice` on what to save instead; damage is a
    `CorruptCheckpointError`."""
    with reading_checkpoint(path):
        return read_torch(
            path,
            f"{path} holds pickled Python objects besides tensors, which gan_kit does not run; "
            + advice,
        )
