"""An unpickler that builds only allow-listed globals, so loading a pickle runs nothing, and
that builds numpy arrays itself, so a pickle cannot hand numpy malformed state either.

Ordinary `pickle.load` imports and calls whatever the file names (`os.system`, `exec`...).
Here every global the stream asks for must be in an explicit table; anything else stops
the load with an `UnsafePickleError` that names it, before it is imported. numpy's own
reconstruction (`_reconstruct` + its `__setstate__`, `dtype.__setstate__`) trusts the
state it is given: a dtype with fields, flags or a subarray, or an array with wild strides,
makes numpy read out of bounds later. The table maps those globals to stand-ins that accept
only plain bool/int/uint/float dtypes and C-ordered data of exactly the bytes the shape
needs, and copy it with `np.frombuffer`.

The stream itself is bounded: no read beyond the file's own size, a cap on nesting and on
memo entries, state (BUILD) only for the stand-ins and the records gan_kit defines, dict
and set keys only plain scalars (a tuple DAG as a key would take exponential time to hash).
"""

from __future__ import annotations

import collections
import io
import math
import os
import pickle
import re
import struct
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np

from gan_kit.errors import CorruptCheckpointError, GanKitError, UnsafePickleError
from gan_kit.loading.limits import shown

MAX_NESTING = 100
"""MARKs open at once: checkpoints nest a few levels; a deeper stream is an attack."""
MAX_MEMO = 1_000_000
"""Memo entries: a network pickle has thousands; each entry is a Python object in memory."""
MAX_LINE = 4096
"""Longest text line an opcode may read (a module or class name, a protocol-0 number)."""

_PLAIN_DTYPE = re.compile(r"(b1|[iu][1248]|f[248])")
_BYTE_ORDERS = frozenset("<>|=")


class _Bounded(io.RawIOBase):
    """A read-only view of a file that refuses any read longer than what is left of it, so
    a length field in the stream can never make Python allocate more than the file holds."""

    def __init__(self, file: BinaryIO):
        super().__init__()
        self._file = file
        start = file.tell()
        self._left = file.seek(0, os.SEEK_END) - start
        file.seek(start)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._left
        if size > self._left:
            raise CorruptCheckpointError(
                f"the pickle stream asks for {size} bytes but only {self._left} are left in "
                "the file: it is truncated or damaged"
            )
        data = self._file.read(size)
        self._left -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        line = self._file.readline(min(MAX_LINE, self._left))
        self._left -= len(line)
        if len(line) >= MAX_LINE and not line.endswith(b"\n"):
            raise CorruptCheckpointError("the pickle stream holds an over-long text line")
        return line

    def readable(self) -> bool:
        return True


def _refuse(what: str) -> UnsafePickleError:
    return UnsafePickleError(
        f"the pickle {what}, which gan_kit does not allow; nothing from the file was "
        "executed. Only load checkpoints from sources you trust, in the formats gan_kit "
        "documents"
    )


# --- numpy stand-ins ----------------------------------------------------------------------


class _StandIn:
    """Something the stream creates and must then give state (BUILD) exactly once; what
    that state builds is kept in `built`, for later references through the memo."""

    built: Any = None

    def build(self, state: Any) -> Any:  # pragma: no cover - every stand-in overrides it
        raise NotImplementedError


def _plain_dtype(spec: Any, byte_order: str = "=") -> np.dtype:
    """The plain dtype `spec` in `byte_order`, or an UnsafePickleError naming what it is."""
    if not isinstance(spec, str) or not _PLAIN_DTYPE.fullmatch(spec):
        raise _refuse(
            f"holds an array of dtype {shown(spec)}; only plain bool, int, uint and "
            "float dtypes are allowed"
        )
    dtype = np.dtype(spec)
    return dtype if byte_order in "|=" else dtype.newbyteorder(byte_order)


class _DTypeStandIn(_StandIn):
    """`numpy.dtype(spec, align, copy)`; becomes a real dtype once given numpy's plain state."""

    def __init__(self, spec: Any, align: Any = False, copy: Any = True, *rest: Any):
        if rest or align is not False or copy is not True:
            raise _refuse(f"builds numpy.dtype({shown(spec)}) with unusual arguments")
        _plain_dtype(spec)
        self.spec = spec

    def build(self, state: Any) -> np.dtype:
        # numpy's plain-dtype state: (3, byte order, subarray, names, fields, elsize,
        # alignment, flags); anything else (fields, subarrays, flags, metadata) is refused.
        if not (
            isinstance(state, tuple)
            and len(state) == 8
            and state[0] == 3
            and state[1] in _BYTE_ORDERS
            and state[2:5] == (None, None, None)
            and state[5:] == (-1, -1, 0)
        ):
            raise _refuse(
                f"gives numpy.dtype({self.spec!r}) the state {shown(state)}, "
                "which only structured or object dtypes have"
            )
        return _plain_dtype(self.spec, state[1])


class _NdarrayClass:
    """Stands in for `numpy.ndarray`: only ever an argument of `_reconstruct`, never called."""

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise _refuse("calls numpy.ndarray directly (it could view arbitrary memory)")


_NDARRAY = _NdarrayClass()


class _ArrayStandIn(_StandIn):
    """`numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')`; its state gives the data."""

    def build(self, state: Any) -> np.ndarray:
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1):
            raise _refuse(f"gives an array the state {shown(state)}")
        _, shape, dtype, is_fortran, data = state
        if not isinstance(dtype, np.dtype) or not _PLAIN_DTYPE.fullmatch(dtype.str[1:]):
            raise _refuse(
                f"holds an array of dtype {shown(dtype)}; only plain bool, int, "
                "uint and float dtypes are allowed"
            )
        if not (
            isinstance(shape, tuple)
            and len(shape) <= 32
            and all(type(n) is int and n >= 0 for n in shape)
        ):
            raise CorruptCheckpointError(f"an array in the pickle has the shape {shown(shape)}")
        if is_fortran is not False:
            raise _refuse("holds an array in Fortran order (only C order is read)")
        if isinstance(data, str):  # a Python 2 pickle's str, decoded as latin-1
            data = data.encode("latin-1")
        needed = math.prod(shape) * dtype.itemsize
        if not isinstance(data, bytes) or len(data) != needed:
            size = len(data) if isinstance(data, (bytes, str)) else shown(data)
            raise CorruptCheckpointError(
                f"an array in the pickle has shape {list(shape)} of {dtype} ({needed} bytes) "
                f"but {size} bytes of data: the file is damaged"
            )
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> _ArrayStandIn:
    if cls is not _NDARRAY or shape != (0,) or typecode not in (b"b", "b"):
        raise _refuse("reconstructs an array other than a plain numpy.ndarray")
    return _ArrayStandIn()


def _scalar(dtype: Any, data: Any = None) -> Any:
    """`numpy.core.multiarray.scalar(dtype, bytes)`: one number of a plain dtype."""
    if not isinstance(dtype, np.dtype) or not _PLAIN_DTYPE.fullmatch(dtype.str[1:]):
        raise _refuse(f"holds a numpy scalar of dtype {shown(dtype)}")
    if isinstance(data, str):
        data = data.encode("latin-1")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise CorruptCheckpointError("a numpy scalar in the pickle has the wrong number of bytes")
    return np.frombuffer(data, dtype=dtype)[0]


def _numpy_globals() -> dict[tuple[str, str], Any]:
    table: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _DTypeStandIn,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = _reconstruct
        table[(module, "scalar")] = _scalar
    return table


NUMPY_GLOBALS: Mapping[tuple[str, str], Any] = _numpy_globals()
"""numpy's array, dtype and scalar reconstruction (both module paths), as checked stand-ins."""


def plain_set(items: Any = ()) -> set:
    """`builtins.set(items)` for pickles: only plain keys (see `is_plain_key`)."""
    items = list(items) if isinstance(items, (list, tuple)) else None
    if items is None or not all(map(is_plain_key, items)):
        raise _refuse("builds a set of something other than plain values")
    return set(items)


def is_plain_key(key: Any) -> bool:
    """Whether `key` may be a dict key or set member from a file: cheap to hash and compare."""
    if type(key) in (str, bytes, int, float, bool, type(None)):
        return not isinstance(key, (str, bytes)) or len(key) <= 10_000
    return (
        type(key) is tuple
        and len(key) <= 16
        and all(type(k) in (str, int, float, bool, type(None)) for k in key)
    )


# --- the unpickler ------------------------------------------------------------------------


def _opcode(op: bytes) -> int:
    return op[0]


class RestrictedUnpickler(pickle._Unpickler):  # the Python unpickler lets us check each opcode
    """A pickle unpickler that answers globals only from `allowed`, gives state only to the
    stand-ins and to instances of the classes in `stateful` (through its checked setter for
    that class: (instance, state) -> None), and bounds
    reads, nesting and memo. `refusal` starts the message of a refused global."""

    dispatch: ClassVar[dict[int, Callable]] = dict(pickle._Unpickler.dispatch)

    def __init__(
        self,
        file: BinaryIO,
        allowed: Mapping[tuple[str, str], Any],
        *,
        stateful: Mapping[type, Callable[[Any, Any], None]] | None = None,
        refusal: str = "",
        encoding: str = "ASCII",
        persistent_load: Callable[[Any], Any] | None = None,
    ):
        super().__init__(_Bounded(file), encoding=encoding)
        self._allowed = allowed
        self._stateful = stateful or {}
        self._refusal = refusal
        self._unbuilt: set[int] = set()
        if persistent_load is not None:
            self.persistent_load = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except (KeyError, TypeError):
            global_name = shown(f"{module}.{name}", 120).strip("'\"")
            if self._refusal:
                raise UnsafePickleError(
                    f"{self._refusal} (the pickle asks for the global {global_name})"
                ) from None
            raise _refuse(f"asks for the global {global_name} (it could run code)") from None

    def _created(self, value: Any) -> Any:
        if isinstance(value, _StandIn):
            self._unbuilt.add(id(value))
        return value

    # Objects: calls of allow-listed functions, classes created empty, state by the rules.
    def load_reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack[-1]
        if not isinstance(args, tuple):
            raise CorruptCheckpointError("a call in the pickle has no argument tuple")
        if isinstance(func, type) and not issubclass(func, _StandIn) and args:
            raise _refuse(f"calls {func.__name__} with arguments {shown(args)}")
        self.stack[-1] = self._created(func(*args))

    dispatch[_opcode(pickle.REDUCE)] = load_reduce

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        if not isinstance(cls, type) or issubclass(cls, _StandIn) or args != ():
            raise _refuse(f"creates {shown(cls)} with arguments {shown(args)}")
        self.append(cls.__new__(cls))

    dispatch[_opcode(pickle.NEWOBJ)] = load_newobj

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, _StandIn):
            if id(inst) not in self._unbuilt:
                raise _refuse("gives an array or dtype its state twice")
            self._unbuilt.discard(id(inst))
            inst.built = inst.build(state)
            self.stack[-1] = inst.built
        elif type(inst) in self._stateful:  # exact type: never a class, never a subclass
            self._stateful[type(inst)](inst, state)
        else:
            what = f"the class {inst.__name__}" if isinstance(inst, type) else type(inst).__name__
            raise _refuse(f"sets attributes of {what} (BUILD)")

    dispatch[_opcode(pickle.BUILD)] = load_build

    def _fetched(self, value: Any) -> Any:
        if isinstance(value, _StandIn):
            if id(value) in self._unbuilt:
                raise _refuse("refers to an array or dtype before giving it its state")
            return value.built
        return value

    def load_get(self) -> None:
        super().load_get()
        self.stack[-1] = self._fetched(self.stack[-1])

    def load_binget(self) -> None:
        super().load_binget()
        self.stack[-1] = self._fetched(self.stack[-1])

    def load_long_binget(self) -> None:
        super().load_long_binget()
        self.stack[-1] = self._fetched(self.stack[-1])

    dispatch[_opcode(pickle.GET)] = load_get
    dispatch[_opcode(pickle.BINGET)] = load_binget
    dispatch[_opcode(pickle.LONG_BINGET)] = load_long_binget

    def _refused_opcode(self) -> None:
        raise _refuse(
            "uses an opcode that network checkpoints never use (DUP, INST, OBJ, "
            "NEWOBJ_EX or an extension code)"
        )

    for _op in (
        pickle.DUP,
        pickle.INST,
        pickle.OBJ,
        pickle.NEWOBJ_EX,
        pickle.EXT1,
        pickle.EXT2,
        pickle.EXT4,
    ):
        dispatch[_opcode(_op)] = _refused_opcode
    del _op

    # Bounds: nesting and memo.
    def load_mark(self) -> None:
        if len(self.metastack) >= MAX_NESTING:
            raise CorruptCheckpointError(
                f"the pickle nests deeper than {MAX_NESTING} levels: it is not a checkpoint"
            )
        super().load_mark()

    dispatch[_opcode(pickle.MARK)] = load_mark

    def _check_memo(self) -> None:
        if len(self.memo) > MAX_MEMO:
            raise CorruptCheckpointError(
                f"the pickle memoizes more than {MAX_MEMO} objects: it is not a checkpoint"
            )

    def load_put(self) -> None:
        super().load_put()
        self._check_memo()

    def load_binput(self) -> None:
        super().load_binput()
        self._check_memo()

    def load_long_binput(self) -> None:
        super().load_long_binput()
        self._check_memo()

    def load_memoize(self) -> None:
        super().load_memoize()
        self._check_memo()

    dispatch[_opcode(pickle.PUT)] = load_put
    dispatch[_opcode(pickle.BINPUT)] = load_binput
    dispatch[_opcode(pickle.LONG_BINPUT)] = load_long_binput
    dispatch[_opcode(pickle.MEMOIZE)] = load_memoize

    # Containers: dict items only into dicts, set items only into sets, plain keys only.
    def _check_keys(self, keys: list[Any]) -> None:
        for key in keys:
            if not is_plain_key(key):
                raise _refuse(f"uses {shown(key)} as a dict key or set member")

    def load_setitem(self) -> None:
        self._check_target(dict)
        self._check_keys([self.stack[-2]])
        super().load_setitem()

    def load_setitems(self) -> None:
        self._check_target(dict, below_mark=True)
        self._check_keys(self.stack[0::2])
        super().load_setitems()

    def load_additems(self) -> None:
        self._check_target(set, below_mark=True)
        self._check_keys(self.stack)
        super().load_additems()

    def load_frozenset(self) -> None:
        self._check_keys(self.stack)
        super().load_frozenset()

    def load_dict(self) -> None:
        self._check_keys(self.stack[0::2])
        super().load_dict()

    def load_append(self) -> None:
        self._check_target(list, depth=2)
        super().load_append()

    def load_appends(self) -> None:
        self._check_target(list, below_mark=True)
        super().load_appends()

    def _check_target(self, kind: type, *, below_mark: bool = False, depth: int = 3) -> None:
        stack = self.metastack[-1] if below_mark and self.metastack else self.stack
        index = -1 if below_mark else -depth
        if len(stack) < -index or not isinstance(stack[index], kind):
            raise CorruptCheckpointError(
                f"the pickle adds items to something that is not a {kind.__name__}"
            )

    dispatch[_opcode(pickle.SETITEM)] = load_setitem
    dispatch[_opcode(pickle.SETITEMS)] = load_setitems
    dispatch[_opcode(pickle.ADDITEMS)] = load_additems
    dispatch[_opcode(pickle.FROZENSET)] = load_frozenset
    dispatch[_opcode(pickle.DICT)] = load_dict
    dispatch[_opcode(pickle.APPEND)] = load_append
    dispatch[_opcode(pickle.APPENDS)] = load_appends

    def load(self) -> Any:
        result = super().load()
        if self._unbuilt:
            raise _refuse("creates an array or dtype and never gives it its state")
        return result


_DAMAGE = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    UnicodeDecodeError,
    MemoryError,
    OverflowError,
    RecursionError,
    struct.error,
)
"""What a damaged stream raises inside the unpickler (and the callables it calls)."""


def unpickle(
    file: BinaryIO,
    allowed: Mapping[tuple[str, str], Any],
    source: str,
    **options: Any,
) -> Any:
    """Unpickle one pickle from `file` (see `RestrictedUnpickler` for `options`); a damaged
    stream raises `CorruptCheckpointError` naming `source`, gan_kit's own errors pass."""
    try:
        return RestrictedUnpickler(file, allowed, **options).load()
    except GanKitError:
        raise
    except _DAMAGE as exc:
        raise CorruptCheckpointError(
            f"{source} could not be unpickled ({type(exc).__name__}: {shown(str(exc), 200)}); "
            "the file is probably truncated or damaged: download it again"
        ) from exc


def restricted_load(
    path: Path,
    allowed: Mapping[tuple[str, str], Any],
    *,
    encoding: str = "ASCII",
    stateful: Mapping[type, Callable[[Any, Any], None]] | None = None,
) -> Any:
    """Unpickle `path` with only the `allowed` globals (state only for `stateful` classes);
    damaged streams raise a gan_kit error."""
    with path.open("rb") as file:
        return unpickle(file, allowed, str(path), encoding=encoding, stateful=stateful)


ORDERED_DICT = {("collections", "OrderedDict"): collections.OrderedDict}
"""`collections.OrderedDict`, which torch state dicts are (created empty, filled by items)."""
