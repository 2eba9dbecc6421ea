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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from gan_kit.errors import CorruptCheckpointError, ExportError, UnsupportedCheckpointError
from gan_kit.files import atomic_path, make_folder, read_head
from gan_kit.generators.biggan import BigGANGenerator
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator

METADATA_KEY = "gan_kit"
FORMAT_VERSION = 1
SUFFIX = ".safetensors"
_BIGGAN_CONFIG_FIELDS = (
    "ch",
    "resolution",
    "n_class",
    "chunk_size",
    "embed_dim",
    "attention_block",
)
_MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit


def _stylegan2_config(generator: StyleGAN2Generator) -> dict[str, Any]:
    return generator.config.to_dict()


def _stylegan2_from_config(config: dict[str, Any]) -> StyleGAN2Generator:
    fields = {key: tuple(v) if isinstance(v, list) else v for key, v in config.items()}
    return StyleGAN2Generator(StyleGAN2Config(**fields))


def _biggan_config(generator: BigGANGenerator) -> dict[str, Any]:
    return {name: getattr(generator, name) for name in _BIGGAN_CONFIG_FIELDS}


def _biggan_from_config(config: dict[str, Any]) -> BigGANGenerator:
    return BigGANGenerator(**config)


# kind -> (generator class, config of an instance, instance from a config)
_KINDS: dict[str, tuple[type[nn.Module], Callable[[Any], dict], Callable[[dict], nn.Module]]] = {
    "stylegan2": (StyleGAN2Generator, _stylegan2_config, _stylegan2_from_config),
    "biggan": (BigGANGenerator, _biggan_config, _biggan_from_config),
}


def kind_of(generator: nn.Module) -> str:
    """The registry kind of a gan_kit generator ('stylegan2' or 'biggan')."""
    for kind, (cls, _, _) in _KINDS.items():
        if isinstance(generator, cls):
            return kind
    raise UnsupportedCheckpointError(
        f"gan_kit cannot convert a {type(generator).__name__}; it converts "
        "StyleGAN2Generator and BigGANGenerator"
    )


def write_converted(
    generator: nn.Module, path: Path, *, source_sha256: str | None = None, source: str = ""
) -> Path:
    """Write `generator` to `path` in the converted format, atomically (temp file + rename)."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    from gan_kit import __version__

    kind = kind_of(generator)
    header = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "config": _KINDS[kind][1](generator),
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
    if not 2 <= length <= _MAX_HEADER_BYTES:
        return None
    try:
        with path.open("rb") as file:
            file.seek(8)
            metadata = json.loads(file.read(length)).get("__metadata__") or {}
        header = json.loads(metadata[METADATA_KEY])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
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
    known_kind = isinstance(kind, str) and kind in _KINDS
    if header.get("format_version") != FORMAT_VERSION or not known_kind:
        raise UnsupportedCheckpointError(
            f"{path} is a gan_kit converted file of version {header.get('format_version')} "
            f"and kind {header.get('kind')!r}, which this gan_kit "
            "does not read: convert the original checkpoint again with gan_kit.convert"
        )
    try:
        if not isinstance(header.get("config"), dict):
            raise ValueError("its header has no config")
        generator = _KINDS[kind][2](header["config"])
        state = load_file(path, device="cpu")
        generator.load_state_dict(state, strict=True)
    except (SafetensorError, RuntimeError, TypeError, ValueError, KeyError, OSError) as exc:
        raise CorruptCheckpointError(
            f"{path} could not be read as a gan_kit converted file ({exc}); delete it and "
            "convert again"
        ) from exc
    if hasattr(generator, "checkpoint_path"):
        generator.checkpoint_path = Path(path)
    return generator
