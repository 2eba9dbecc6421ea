"""Directions and their names kept per model under `cache_dir()/directions/<fingerprint>/`
(GAN_KIT_CACHE): `<key>.safetensors` (the vectors and scales) and `names.json`.

Both files are read as hostile: sizes are checked before reading, safetensors holds only
tensors (no pickle), and every value is checked (shape, finiteness, orthonormality,
names' length); a file that fails is ignored with a warning and computed again. Writes
are atomic; a cache that cannot be written leaves the results in use, with a warning.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import torch

from gan_kit.directions.record import Directions, checked_name, max_orthonormality_error
from gan_kit.errors import ExportError, GanKitError
from gan_kit.files import atomic_path, make_folder
from gan_kit.values import is_whole_number
from gan_kit.zoo.download import cache_dir

MAX_DIM = 8192  # widest slot code a cached basis may claim
MAX_NAMES_BYTES = 1 << 20
ORTHONORMAL_TOLERANCE = 1e-5
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.+=-]{1,200}$")


def model_folder(fingerprint: str) -> Path:
    """The folder of one model's directions and names."""
    return cache_dir() / "directions" / fingerprint


def _checked_key(key: str) -> str:
    if not _SAFE_KEY.match(key):
        raise GanKitError(f"directions key {key!r} cannot name a cache file")
    return key


def load_basis(fingerprint: str, key: str, dim: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The cached (vectors [dim, dim], scales [dim]) of `key` on the model `fingerprint`,
    or None when absent or failing a check (then with a warning)."""
    path = model_folder(fingerprint) / f"{_checked_key(key)}.safetensors"
    if not path.is_file():
        return None
    from safetensors import safe_open

    if not 0 < dim <= MAX_DIM or path.stat().st_size > 4 * dim * (dim + 1) + 65536:
        return _ignored(path, "it is larger than its vectors can be")
    try:
        with safe_open(str(path), framework="pt") as file:
            metadata = file.metadata() or {}
            if set(file.keys()) != {"vectors", "scales"}:
                return _ignored(path, f"it holds {sorted(file.keys())}, not vectors and scales")
            vectors, scales = file.get_tensor("vectors"), file.get_tensor("scales")
    except Exception as error:  # a damaged cache is recomputed, never fatal
        return _ignored(path, str(error))
    if metadata.get("fingerprint") != fingerprint or metadata.get("key") != key:
        return _ignored(path, "it was written for other directions")
    if vectors.dtype != torch.float32 or tuple(vectors.shape) != (dim, dim):
        return _ignored(path, f"its vectors are {vectors.dtype} {list(vectors.shape)}")
    if scales.dtype != torch.float32 or tuple(scales.shape) != (dim,):
        return _ignored(path, f"its scales are {scales.dtype} {list(scales.shape)}")
    if not (torch.isfinite(vectors).all() and torch.isfinite(scales).all() and (scales > 0).all()):
        return _ignored(path, "it holds non-finite or non-positive values")
    if max_orthonormality_error(vectors) > ORTHONORMAL_TOLERANCE:
        return _ignored(path, "its vectors are not orthonormal")
    return vectors, scales


def save_basis(fingerprint: str, key: str, vectors: torch.Tensor, scales: torch.Tensor) -> None:
    """Keep (vectors, scales) of `key` on the model `fingerprint` (atomically); a warning
    where the cache cannot be written."""
    from safetensors.torch import save_file

    path = model_folder(fingerprint) / f"{_checked_key(key)}.safetensors"
    try:
        make_folder(path.parent)
        with atomic_path(path, overwrite=True) as temporary:
            save_file(
                {"vectors": vectors.contiguous(), "scales": scales.contiguous()},
                str(temporary),
                metadata={"fingerprint": fingerprint, "key": key},
            )
    except (OSError, ExportError) as error:
        warnings.warn(
            f"the directions are in use but could not be cached at {path} ({error}); set "
            "GAN_KIT_CACHE to a writable folder to keep them",
            stacklevel=3,
        )


def load_names(fingerprint: str, key: str, count: int) -> tuple[str | None, ...] | None:
    """The saved names of the first `count` directions of `key`, or None (no names, or a
    names file that fails its checks: then with a warning)."""
    names = _read_names_file(model_folder(fingerprint) / "names.json").get(key, {})
    chosen = [names.get(index) for index in range(count)]
    return tuple(chosen) if any(chosen) else None


def save_names(directions: Directions) -> Path:
    """Save the names of `directions` for their model (beside the cache, atomically),
    replacing the names saved for the same directions; returns the file's path. Later
    `sefa` / `ganspace` calls on the model come back with these names."""
    path = model_folder(directions.fingerprint) / "names.json"
    saved = _read_names_file(path)
    current = dict(saved.get(directions.key, {}))
    for index, name in enumerate(directions.names or [None] * len(directions)):
        current.pop(index, None)
        if name is not None:
            current[index] = name
    saved[directions.key] = current
    text = json.dumps(
        {key: {str(i): name for i, name in sorted(names.items())} for key, names in saved.items()},
        indent=1,
        sort_keys=True,
    )
    make_folder(path.parent)
    with atomic_path(path, overwrite=True) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def _read_names_file(path: Path) -> dict[str, dict[int, str]]:
    """{key: {index: name}} from `path`; {} when absent or failing a check."""
    if not path.is_file():
        return {}
    if path.stat().st_size > MAX_NAMES_BYTES:
        _ignored(path, f"it is larger than {MAX_NAMES_BYTES} bytes")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("it is not a JSON object")
        result: dict[str, dict[int, str]] = {}
        for key, names in data.items():
            _checked_key(key)
            if not isinstance(names, dict):
                raise ValueError(f"the names of {key!r} are not a JSON object")
            result[key] = {}
            for index, name in names.items():
                if not index.isdigit() or not is_whole_number(int(index)) or int(index) >= MAX_DIM:
                    raise ValueError(f"{index!r} is not a direction index")
                result[key][int(index)] = checked_name(name)
        return result
    except (ValueError, GanKitError, UnicodeDecodeError) as error:
        _ignored(path, str(error))
        return {}


def _ignored(path: Path, why: str) -> None:
    warnings.warn(f"ignoring the cached file {path}: {why}", stacklevel=4)
    return None
