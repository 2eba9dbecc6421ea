"""Read TensorFlow tensor-bundle checkpoints (`.index` + `.data-*`) without TensorFlow.

A TF1/TF2 checkpoint `PREFIX` is `PREFIX.index`, an SSTable (the LevelDB table format)
whose values are `BundleEntryProto` messages, plus shards `PREFIX.data-0000i-of-0000N`
holding the raw little-endian tensor bytes. Each tensor and each table block carries a
masked CRC-32C (`gan_kit.loading.crc32c`), verified here. Protobuf fields are decoded by
hand (no protobuf dependency); only what tensors need is read: dtype, shape, shard,
offset, size, crc.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_kit.errors import CorruptCheckpointError, UnsupportedCheckpointError
from gan_kit.loading.crc32c import masked_crc32c
from gan_kit.loading.limits import shown

__all__ = ["BundleEntry", "TensorBundle", "find_prefix"]

_MAX_RANK = 8

# --- Protobuf wire format, decoded by hand ------------------------------------------------


def _read_varint(buffer: bytes, position: int) -> tuple[int, int]:
    """Decode the varint starting at `position`; return (value, next position)."""
    value = shift = 0
    while True:
        if position >= len(buffer) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = buffer[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def _proto_fields(message: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Yield (field number, value) of a protobuf message: ints for varint and fixed fields,
    bytes for length-delimited ones."""
    position = 0
    while position < len(message):
        key, position = _read_varint(message, position)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _read_varint(message, position)
        elif wire_type in (1, 5):
            width = 8 if wire_type == 1 else 4
            if position + width > len(message):
                raise ValueError("truncated fixed-width field")
            value = int.from_bytes(message[position : position + width], "little")
            position += width
        elif wire_type == 2:
            length, position = _read_varint(message, position)
            if position + length > len(message):
                raise ValueError("truncated length-delimited field")
            value = message[position : position + length]
            position += length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        yield field, value


def _signed64(value: int) -> int:
    """Reinterpret a decoded varint as a two's-complement int64 (shapes use -1)."""
    return value - (1 << 64) if value >= 1 << 63 else value


# TF DataType enum values -> numpy dtypes (the ones a generator checkpoint can hold).
_NUMPY_DTYPES = {
    1: np.dtype("<f4"),
    2: np.dtype("<f8"),
    3: np.dtype("<i4"),
    4: np.dtype("u1"),
    5: np.dtype("<i2"),
    6: np.dtype("i1"),
    9: np.dtype("<i8"),
    10: np.dtype("?"),
    17: np.dtype("<u2"),
    19: np.dtype("<f2"),
    22: np.dtype("<u4"),
    23: np.dtype("<u8"),
}


@dataclass(frozen=True)
class BundleEntry:
    """Where one tensor lives: its dtype (TF enum), shape and byte range in a data shard."""

    name: str
    dtype_enum: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    masked_crc: int
    is_sliced: bool

    @classmethod
    def parse(cls, name: str, message: bytes) -> BundleEntry:
        """Decode a serialized `BundleEntryProto`."""
        fields = {"dtype": 0, "shard_id": 0, "offset": 0, "size": 0, "crc": 0}
        shape: list[int] = []
        is_sliced = False
        for field, value in _proto_fields(message):
            if field == 1:
                fields["dtype"] = value
            elif field == 2:
                for shape_field, dim in _proto_fields(value):
                    if shape_field == 2:
                        size = dict(_proto_fields(dim)).get(1, 0)
                        shape.append(_signed64(size))
            elif field in (3, 4, 5, 6):
                fields[("shard_id", "offset", "size", "crc")[field - 3]] = value
            elif field == 7:
                is_sliced = True
        return cls(
            name,
            fields["dtype"],
            tuple(shape),
            fields["shard_id"],
            fields["offset"],
            fields["size"],
            fields["crc"],
            is_sliced,
        )


# --- The SSTable (.index) -----------------------------------------------------------------

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_LENGTH = 48  # two block handles padded to 40 bytes, then the 8-byte magic
_BLOCK_TRAILER_LENGTH = 5  # compression type byte + masked crc32c


def _read_block(index: bytes, handle: bytes, index_path: Path) -> bytes:
    """The contents of the table block that the encoded BlockHandle `handle` points to."""
    try:
        offset, position = _read_varint(handle, 0)
        size, _ = _read_varint(handle, position)
    except ValueError as exc:
        raise CorruptCheckpointError(f"{index_path}: damaged block handle ({exc})") from exc
    end = offset + size + _BLOCK_TRAILER_LENGTH
    if end > len(index):
        raise CorruptCheckpointError(
            f"{index_path} is truncated: a table block ends at byte {end} but the file has "
            f"{len(index)} bytes; copy the checkpoint again"
        )
    contents = index[offset : offset + size]
    compression = index[offset + size]
    stored_crc = int.from_bytes(index[offset + size + 1 : end], "little")
    if masked_crc32c(index[offset : offset + size + 1]) != stored_crc:
        raise CorruptCheckpointError(
            f"{index_path}: checksum mismatch in the table block at byte {offset}; the index "
            "file is damaged, copy the checkpoint again"
        )
    if compression != 0:
        raise UnsupportedCheckpointError(
            f"{index_path}: compressed table blocks (type {compression}) are not supported"
        )
    return contents


def _block_items(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield (key, value) of a table block (prefix-compressed keys, restart array at end)."""
    if len(block) < 4:
        raise ValueError("block too short")
    restart_count = int.from_bytes(block[-4:], "little")
    entries_end = len(block) - 4 * (restart_count + 1)
    if entries_end < 0:
        raise ValueError("restart array larger than the block")
    key = b""
    position = 0
    while position < entries_end:
        shared, position = _read_varint(block, position)
        unshared, position = _read_varint(block, position)
        value_length, position = _read_varint(block, position)
        if shared > len(key) or position + unshared + value_length > entries_end:
            raise ValueError("entry overruns its block")
        key = key[:shared] + block[position : position + unshared]
        position += unshared
        yield key, block[position : position + value_length]
        position += value_length


def _table_items(index_path: Path) -> Iterator[tuple[bytes, bytes]]:
    """Yield every (key, value) of the SSTable at `index_path`, verifying block checksums."""
    index = index_path.read_bytes()
    if len(index) < _FOOTER_LENGTH or (int.from_bytes(index[-8:], "little") != _TABLE_MAGIC):
        raise CorruptCheckpointError(
            f"{index_path} is truncated or not a TensorFlow checkpoint index (no table footer "
            "magic at its end); copy the checkpoint again"
        )
    footer = index[-_FOOTER_LENGTH:]
    try:
        _, position = _read_varint(footer, 0)
        _, position = _read_varint(footer, position)  # skip the metaindex handle
    except ValueError as exc:
        raise CorruptCheckpointError(f"{index_path}: damaged table footer") from exc
    index_block = _read_block(index, footer[position:], index_path)
    try:
        for _, data_handle in _block_items(index_block):
            yield from _block_items(_read_block(index, data_handle, index_path))
    except ValueError as exc:
        raise CorruptCheckpointError(f"{index_path}: damaged table block ({exc})") from exc


# --- Checkpoint paths and the bundle --------------------------------------------------------

_DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")


def _prefix_from_checkpoint_file(folder: Path) -> Path | None:
    """The prefix named by `folder/checkpoint` (TF's text-proto pointer), if it exists."""
    pointer = folder / "checkpoint"
    if not pointer.is_file():
        return None
    match = re.search(
        r'^model_checkpoint_path:\s*"(.*)"', pointer.read_text(errors="replace"), re.M
    )
    if not match:
        return None
    named = Path(match.group(1))
    # The pointer may hold an absolute path from the machine that trained the model.
    for candidate in (folder / named, folder / named.name):
        if Path(f"{candidate}.index").is_file():
            return candidate
    return None


def find_prefix(path: Path) -> Path | None:
    """The checkpoint prefix that `path` designates, or None if it designates none.

    `path` may be the prefix itself (`.../model.ckpt-607250`), its `.index` or a `.data-*`
    file, or a folder (the prefix named by its `checkpoint` file, else its only `*.index`).
    """
    path = Path(path)
    if path.is_dir():
        named = _prefix_from_checkpoint_file(path)
        if named is not None:
            return named
        indexes = sorted(path.glob("*.index"))
        return indexes[0].with_suffix("") if len(indexes) == 1 else None
    if path.suffix == ".index" and path.is_file():
        return path.with_suffix("")
    if _DATA_SUFFIX.search(path.name):
        path = path.with_name(_DATA_SUFFIX.sub("", path.name))
    return path if Path(f"{path}.index").is_file() else None


class TensorBundle:
    """The tensors of one TF checkpoint, read lazily and checksum-verified on each read."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = Path(prefix)
        self.index_path = Path(f"{self.prefix}.index")
        self.entries: dict[str, BundleEntry] = {}
        shard_count = 1
        for key, value in _table_items(self.index_path):
            try:
                if key == b"":  # the BundleHeaderProto
                    header = dict(_proto_fields(value))
                    shard_count = header.get(1, 1)
                    if header.get(2, 0) != 0:
                        raise UnsupportedCheckpointError(
                            f"{self.index_path}: big-endian checkpoints are not supported"
                        )
                else:
                    name = key.decode("utf-8")
                    self.entries[name] = BundleEntry.parse(name, value)
            except (ValueError, UnicodeDecodeError) as exc:
                raise CorruptCheckpointError(
                    f"{self.index_path}: damaged entry {key[:80]!r} ({exc})"
                ) from exc
        self.shard_count = shard_count

    def shard_path(self, shard_id: int) -> Path:
        """The data file holding shard `shard_id`."""
        return Path(f"{self.prefix}.data-{shard_id:05d}-of-{self.shard_count:05d}")

    def read(self, name: str) -> np.ndarray:
        """The tensor `name` as a numpy array, after checking its size and CRC-32C."""
        entry = self.entries[name]
        dtype = _NUMPY_DTYPES.get(entry.dtype_enum)
        if dtype is None or entry.is_sliced:
            kind = "a partitioned tensor" if entry.is_sliced else f"dtype {entry.dtype_enum}"
            raise UnsupportedCheckpointError(f"{self.prefix}: tensor {name!r} is {kind}")
        if len(entry.shape) > _MAX_RANK or any(dim < 0 for dim in entry.shape):
            raise CorruptCheckpointError(
                f"{self.index_path}: tensor {name!r} has the shape {shown(list(entry.shape))}; "
                "the index is damaged"
            )
        element_count = math.prod(entry.shape)  # Python ints: a product cannot wrap
        if element_count * dtype.itemsize != entry.size:
            raise CorruptCheckpointError(
                f"{self.index_path}: tensor {name!r} has shape {list(entry.shape)} but "
                f"{entry.size} bytes; the index is damaged"
            )
        shard = self.shard_path(entry.shard_id)
        if not shard.is_file():
            raise CorruptCheckpointError(
                f"{shard} is missing: it holds tensor {name!r}; copy the whole checkpoint "
                "(the .index and every .data-* file)"
            )
        shard_size = shard.stat().st_size
        raw = b""
        if entry.offset + entry.size <= shard_size:  # read only bytes the shard holds
            with shard.open("rb") as stream:
                stream.seek(entry.offset)
                raw = stream.read(entry.size)
        if len(raw) != entry.size:
            raise CorruptCheckpointError(
                f"{shard} is truncated: tensor {name!r} needs bytes {entry.offset} to "
                f"{entry.offset + entry.size} but the file has {shard_size}; "
                "copy the checkpoint again"
            )
        if masked_crc32c(raw) != entry.masked_crc:
            raise CorruptCheckpointError(
                f"{shard}: checksum mismatch in tensor {name!r}; the data file is damaged, "
                "copy the checkpoint again"
            )
        return np.frombuffer(raw, dtype=dtype).reshape(entry.shape).copy()
