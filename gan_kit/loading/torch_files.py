"""Reading files written by `torch.save` (zip and legacy layouts) with gan_kit's own
unpickler, so that every size in them is checked before anything is built.

`torch.load(weights_only=True)` runs no code, but it trusts the pickle's sizes: a legacy
file allocates the storage size its pickle claims before reading it, and a tensor may
view its storage with stride 0 or overlapping strides, so a 2 KB file yields tensors of
gigabytes that gan_kit then converts. Here a storage is built only from bytes the file
holds (its claimed size must match them), a tensor only as a non-overlapping view inside
its storage, and all tensors of a file together hold at most `element_allowance` numbers.
Only state-dict globals are allowed (tensors, parameters, OrderedDict, storage types).
"""

from __future__ import annotations

import collections
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import torch

from gan_kit.errors import CorruptCheckpointError, UnsafePickleError, UnsupportedCheckpointError
from gan_kit.loading.limits import ElementBudget, shown
from gan_kit.loading.safe_pickle import plain_set, unpickle

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_MAX_RANK = 8

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class _StorageType:
    """Stands in for `torch.FloatStorage` & co. in persistent ids: only its dtype counts."""

    def __init__(self, dtype: torch.dtype):
        self.dtype = dtype

    def __call__(self, *args: Any) -> None:
        raise UnsupportedCheckpointError("the pickle calls a torch storage type directly")


class _Storage:
    """A storage rebuilt from the file's bytes: `data`, a flat tensor of its dtype."""

    def __init__(self, data: torch.Tensor):
        self.data = data


def _storage_from(raw: bytes, dtype: torch.dtype) -> _Storage:
    if not raw:
        return _Storage(torch.empty(0, dtype=dtype))
    return _Storage(torch.frombuffer(bytearray(raw), dtype=dtype))


class TensorBuilder:
    """The stand-ins that rebuild tensors, counting their numbers against `budget`."""

    def __init__(self, budget: ElementBudget):
        self.budget = budget

    def rebuild(
        self,
        storage: Any,
        offset: Any,
        size: Any,
        stride: Any,
        requires_grad: Any = False,
        backward_hooks: Any = None,
        metadata: Any = None,
    ) -> torch.Tensor:
        """`torch._utils._rebuild_tensor_v2`, once the view is known to lie in its storage."""
        if not isinstance(storage, _Storage):
            raise CorruptCheckpointError(f"a tensor in the file views {shown(storage)}")
        if backward_hooks or metadata:
            raise UnsupportedCheckpointError(
                "a tensor in the file carries hooks or metadata, which gan_kit does not read"
            )
        size, stride = _dims(size), _dims(stride)
        if size is None or stride is None or len(size) != len(stride) or not _is_index(offset):
            raise CorruptCheckpointError(
                f"a tensor in the file has the size {shown(size)}, stride {shown(stride)} and "
                f"offset {shown(offset)}"
            )
        elements = math.prod(size)
        if elements:
            _check_view(size, stride, offset, storage.data.numel())
        self.budget.spend(elements)
        return storage.data.as_strided(size, stride, offset)

    @staticmethod
    def parameter(data: Any, requires_grad: Any = False, backward_hooks: Any = None) -> Any:
        """`torch._utils._rebuild_parameter`: the tensor, without gradients or hooks."""
        if not isinstance(data, torch.Tensor) or backward_hooks:
            raise CorruptCheckpointError("a parameter in the file is not a plain tensor")
        return data

    def globals(self) -> dict[tuple[str, str], Any]:
        """The allow-list of a torch state-dict file."""
        table: dict[tuple[str, str], Any] = {
            ("torch._utils", "_rebuild_tensor_v2"): self.rebuild,
            ("torch._utils", "_rebuild_parameter"): self.parameter,
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("builtins", "set"): plain_set,
        }
        for name, dtype in _STORAGE_DTYPES.items():
            table[("torch", name)] = _StorageType(dtype)
        return table


def _is_index(value: Any) -> bool:
    return type(value) is int and 0 <= value < 1 << 62


def _dims(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, (tuple, list)) and len(value) <= _MAX_RANK and all(map(_is_index, value)):
        return tuple(value)
    return None


def _check_view(size: tuple, stride: tuple, offset: int, storage_elements: int) -> None:
    """Refuse a view that overlaps itself (stride 0 included) or leaves its storage."""
    dims = sorted((st, n) for n, st in zip(size, stride, strict=True) if n > 1)
    reach = 1
    for st, n in dims:
        if st < reach:
            raise CorruptCheckpointError(
                f"a tensor in the file of size {list(size)} has strides {list(stride)}, which "
                "make its elements overlap"
            )
        reach = st * n
    last = offset + sum((n - 1) * st for n, st in zip(size, stride, strict=True))
    if last >= storage_elements:
        raise CorruptCheckpointError(
            f"a tensor in the file of size {list(size)} reaches element {last} of a storage "
            f"of {storage_elements}"
        )


def _storage_claim(saved_id: Any) -> tuple[str, torch.dtype, int]:
    """(key, dtype, element count) of a persistent id ('storage', type, key, location, n, ...)."""
    if not (
        isinstance(saved_id, tuple)
        and len(saved_id) in (5, 6)
        and saved_id[0] == "storage"
        and isinstance(saved_id[1], _StorageType)
        and isinstance(saved_id[2], str)
        and _is_index(saved_id[4])
        and (len(saved_id) == 5 or saved_id[5] is None)
    ):
        raise CorruptCheckpointError(f"the file refers to the storage {shown(saved_id)}")
    return saved_id[2], saved_id[1].dtype, saved_id[4]


def _state_dict_metadata(instance: Any, state: Any) -> None:
    """The state torch pickles on a state dict (its `_metadata` of module versions) is
    dropped; any other attribute is refused, so none can shadow an OrderedDict method."""
    if not (isinstance(state, dict) and set(state) <= {"_metadata"}):
        raise UnsafePickleError(
            f"the pickle sets the attributes {shown(state)} of an OrderedDict, which gan_kit "
            "does not allow (they could shadow its methods); nothing from the file was executed"
        )


STATE_SETTERS = {collections.OrderedDict: _state_dict_metadata}


def _unpickle(file: BinaryIO, table: Mapping, source: str, refusal: str, **options: Any) -> Any:
    return unpickle(file, table, source, stateful=STATE_SETTERS, refusal=refusal, **options)


def read_zip(path: Path, refusal: str, budget: ElementBudget) -> Any:
    """The object a zip-layout torch file holds."""
    source = str(path)
    reader = torch._C.PyTorchFileReader(str(path))
    sizes = _member_sizes(path, reader)
    if reader.has_record("byteorder") and reader.get_record("byteorder") != b"little":
        raise UnsupportedCheckpointError(
            f"{path} was saved big-endian, which gan_kit does not read"
        )
    storages: dict[str, _Storage] = {}

    def storage(saved_id: Any) -> _Storage:
        key, dtype, count = _storage_claim(saved_id)
        if key not in storages:
            name = f"data/{key}"
            nbytes = count * torch.empty(0, dtype=dtype).element_size()
            if sizes.get(name) != nbytes:
                raise CorruptCheckpointError(
                    f"{path}: storage {shown(key)} claims {nbytes} bytes but the file holds "
                    f"{sizes.get(name, 'no such record')}"
                )
            storages[key] = _storage_from(reader.get_record(name), dtype)
        return storages[key]

    table = TensorBuilder(budget).globals()
    return _unpickle(
        io.BytesIO(reader.get_record("data.pkl")), table, source, refusal, persistent_load=storage
    )


def _member_sizes(path: Path, reader: Any) -> dict[str, int]:
    """Record name -> inflated size, once the records together inflate to no more than the
    file's own size (torch stores them uncompressed)."""
    sizes = {name: reader.get_record_size(name) for name in reader.get_all_records()}
    if sum(sizes.values()) > path.stat().st_size:
        raise CorruptCheckpointError(
            f"{path}: its zip members claim to inflate beyond the file's own size; torch "
            "files are stored uncompressed"
        )
    return sizes


def read_legacy(file: BinaryIO, source: str, refusal: str, budget: ElementBudget) -> Any:
    """The object a legacy-layout torch stream holds (`torch.save(...,
    _use_new_zipfile_serialization=False)`, also what a storage pickles as). Its storages
    follow the pickle, so it is read twice: once for their claims, then to build it."""
    header = [_unpickle(file, {}, source, refusal) for _ in range(3)]
    magic, protocol, system = header
    if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL or not isinstance(system, dict):
        raise CorruptCheckpointError(f"{source} is not a torch file (no legacy header)")
    if system.get("little_endian") is not True:
        raise UnsupportedCheckpointError(
            f"{source} was saved big-endian, which gan_kit does not read"
        )
    start = file.tell()
    claims: dict[str, tuple[torch.dtype, int]] = {}

    def claim(saved_id: Any) -> _Storage:
        key, dtype, count = _storage_claim(saved_id)
        claims.setdefault(key, (dtype, count))
        return _Storage(torch.empty(0))

    survey = TensorBuilder(ElementBudget(0, source))
    survey.rebuild = lambda *args, **kwargs: None  # type: ignore[method-assign]
    _unpickle(file, survey.globals(), source, refusal, persistent_load=claim)
    keys = _unpickle(file, {}, source, refusal)
    if (
        not isinstance(keys, list)
        or not all(isinstance(k, str) for k in keys)
        or set(keys) != set(claims)
        or len(keys) != len(claims)
    ):
        raise CorruptCheckpointError(f"{source}: its storage list does not match its pickle")
    storages = {}
    for key in keys:
        dtype, count = claims[key]
        stored = int.from_bytes(_read_exactly(file, 8, source), "little", signed=True)
        if stored != count:
            raise CorruptCheckpointError(
                f"{source}: storage {shown(key)} claims {count} elements but stores {stored}"
            )
        nbytes = count * torch.empty(0, dtype=dtype).element_size()
        storages[key] = _storage_from(_read_exactly(file, nbytes, source), dtype)
    end = file.tell()
    file.seek(start)
    table = TensorBuilder(budget).globals()
    result = _unpickle(
        file,
        table,
        source,
        refusal,
        persistent_load=lambda saved_id: storages[_storage_claim(saved_id)[0]],
    )
    file.seek(end)
    return result


def _read_exactly(file: BinaryIO, size: int, source: str) -> bytes:
    start = file.tell()
    left = file.seek(0, io.SEEK_END) - start
    file.seek(start)
    if size > left:
        raise CorruptCheckpointError(
            f"{source} is truncated: a storage needs {size} bytes but {left} are left"
        )
    return file.read(size)


def read_torch(path: Path, refusal: str) -> Any:
    """The object the torch file `path` holds, read with checked sizes; a global outside a
    state dict's is refused with `refusal`."""
    budget = ElementBudget(path.stat().st_size, str(path))
    with path.open("rb") as file:
        if file.read(4) == b"PK\x03\x04":
            return read_zip(path, refusal, budget)
        file.seek(0)
        return read_legacy(file, str(path), refusal, budget)
