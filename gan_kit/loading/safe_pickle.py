"""An unpickler that builds only allow-listed globals, so loading a pickle runs nothing.

Ordinary `pickle.load` imports and calls whatever the file names (`os.system`, `exec`...).
Here every global the stream asks for must be in an explicit table; anything else stops
the load with an `UnsafePickleError` that names it, before it is imported.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from gan_kit.errors import CorruptCheckpointError, UnsafePickleError

try:  # numpy >= 2 moved the implementation to numpy._core
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray

# Kinds of array data a checkpoint may hold: booleans and numbers, never Python objects.
_PLAIN_DTYPE_KINDS = frozenset("biufc")


def _plain_dtype(*args: Any) -> np.dtype:
    """numpy.dtype, refusing object and structured dtypes that could carry objects."""
    dtype = np.dtype(*args)
    if dtype.kind not in _PLAIN_DTYPE_KINDS:
        raise UnsafePickleError(
            f"the pickle holds an array of dtype {dtype!r}; only numeric arrays are allowed"
        )
    return dtype


def _numpy_globals() -> dict[tuple[str, str], Any]:
    table: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): _plain_dtype,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = _multiarray._reconstruct
        table[(module, "scalar")] = _multiarray.scalar
    return table


NUMPY_GLOBALS: Mapping[tuple[str, str], Any] = _numpy_globals()
"""numpy's array, dtype and scalar reconstruction under both its old and new module paths."""


class RestrictedUnpickler(pickle.Unpickler):
    """A pickle.Unpickler whose `find_class` answers only from an allow-list table."""

    def __init__(self, file: BinaryIO, allowed: Mapping[tuple[str, str], Any], **kwargs: Any):
        super().__init__(file, **kwargs)
        self._allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"the pickle asks for the global {module}.{name}, which gan_kit does not "
                "allow (it could run code); nothing from the file was executed. Only load "
                "checkpoints from sources you trust, in the formats gan_kit documents"
            ) from None


def restricted_load(
    path: Path, allowed: Mapping[tuple[str, str], Any], *, encoding: str = "ASCII"
) -> Any:
    """Unpickle `path` with only the `allowed` globals; damaged streams raise a gan_kit error."""
    try:
        with path.open("rb") as file:
            return RestrictedUnpickler(file, allowed, encoding=encoding).load()
    except UnsafePickleError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        UnicodeDecodeError,
        MemoryError,
    ) as exc:
        raise CorruptCheckpointError(
            f"{path} could not be unpickled ({type(exc).__name__}: {exc}); the file is "
            "probably truncated or damaged: download it again"
        ) from exc
