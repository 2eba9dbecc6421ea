"""gan_kit's own converted format: one safetensors file, its JSON config in the header.

A converted file loads fast (memory-mapped tensors) and without any pickle. The
safetensors header metadata holds, under `gan_kit`, a JSON object: the format version,
the generator kind and its constructor config, the gan_kit version that wrote it, and the
sha256 of the checkpoint it was converted from. The tensors are the generator's state
dict, so loading one gives bit-identical images.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

from torch import nn

from gan_kit.errors import CorruptCheckpointError, ExportError, UnsupportedCheckpointError
from gan_kit.files import atomic_path, make_folder, read_head
from gan_kit.generators.biggan import BigGANConfig, BigGANGenerator
from gan_kit.generators.kinds import GENERATORS, kind_of
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from gan_kit.loading.limits import check_fits, generator_weights, shown
from gan_kit.version import __version__

METADATA_KEY = "gan_kit"
FORMAT_VERSION = 1
SUFFIX = ".safetensors"
_MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit
_CONFIGS = {StyleGAN2Generator.kind: StyleGAN2Config, BigGANGenerator.kind: BigGANConfig}


def write_converted(
    generator: nn.Module, path: Path, *, source_sha256: str | None = None, source: str = ""
) -> Path:
    """Write `generator` to `path` in the converted format, atomically (temp file + rename)."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    header = {
        "format_version": FORMAT_VERSION,
        "kind": kind_of(generator),
        "config": generator.config.to_dict(),
        "gan_kit_version": __version__,
        "source": source,
        "source_sha256": source_sha256,
    }
    tensors = {
        name: tensor.detach().to("cpu", copy=True).contiguous()
        for name, tensor in generator.state_dict().items()
    }
    path = Path(path)
    make_folder(path.parent)
    with atomic_path(path, overwrite=True) as temporary:
        try:
            save_file(tensors, str(temporary), metadata={METADATA_KEY: json.dumps(header)})
        except (SafetensorError, OSError) as error:  # e.g. a full disk
            raise ExportError(
                f"cannot write {path} ({type(error).__name__}: {error}); free some disk space "
                "or choose another folder (GAN_KIT_CACHE for the cache)"
            ) from error
        _apply_umask(temporary)
    return path


def _apply_umask(path: Path) -> None:
    """Give `path` the usual permissions (safetensors writes its files 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)


def read_header(path: Path) -> dict[str, Any] | None:
    """The gan_kit JSON config of a converted file, or None when `path` is not one."""
    head = read_head(path, 8)
    if len(head) < 8:
        return None
    (length,) = struct.unpack("<Q", head)
    try:
        if not 2 <= length <= min(_MAX_HEADER_BYTES, path.stat().st_size - 8):
            return None
        with path.open("rb") as file:
            file.seek(8)
            metadata = json.loads(file.read(length)).get("__metadata__") or {}
        header = json.loads(metadata[METADATA_KEY])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None  # deep nesting makes json raise RecursionError: not a file of ours
    return header if isinstance(header, dict) else None


def recognises(path: Path) -> bool:
    """Whether `path` is a safetensors file written by `write_converted`."""
    return read_header(path) is not None


def build(path: Path) -> nn.Module:
    """The generator stored in a converted file (no pickle involved)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    header = read_header(path)
    if header is None:
        raise UnsupportedCheckpointError(f"{path} is not a gan_kit converted file")
    kind = header.get("kind")
    known_kind = isinstance(kind, str) and kind in GENERATORS
    if header.get("format_version") != FORMAT_VERSION or not known_kind:
        raise UnsupportedCheckpointError(
            f"{path} is a gan_kit converted file of version {shown(header.get('format_version'))} "
            f"and kind {shown(header.get('kind'))}, which this gan_kit "
            "does not read: convert the original checkpoint again with gan_kit.convert"
        )
    try:
        if not isinstance(header.get("config"), dict):
            raise ValueError("its header has no config")
        config = _CONFIGS[kind].from_dict(header["config"])
        check_fits(generator_weights(config, str(path)), path.stat().st_size // 2, str(path))
        generator = GENERATORS[kind](config)
        state = load_file(path, device="cpu")
        generator.load_state_dict(state, strict=True)
    except (
        SafetensorError,
        RuntimeError,
        TypeError,
        ValueError,
        KeyError,
        OSError,
        OverflowError,
    ) as exc:
        raise CorruptCheckpointError(
            f"{path} could not be read as a gan_kit converted file ({shown(str(exc), 200)}); "
            "delete it and "
            "convert again"
        ) from exc
    return generator
