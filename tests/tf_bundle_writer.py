"""Test helpers: write TF tensor-bundle checkpoints (single shard) without TensorFlow.

Independent of gan_kit's reader except for the CRC: the table is the simplest valid
LevelDB layout (one data block, no key prefix compression, one restart point).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_kit.loading.crc32c import masked_crc32c

_TF_DTYPES = {np.dtype("float32"): 1, np.dtype("int32"): 3, np.dtype("int64"): 9}
_TABLE_MAGIC = 0xDB4775248B80FB57


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: int | bytes) -> bytes:
    if isinstance(payload, bytes):
        return _varint(number << 3 | 2) + _varint(len(payload)) + payload
    return _varint(number << 3) + _varint(payload)


def _entry_proto(
    array: np.ndarray, offset: int, data: bytes, shape: tuple[int, ...] | None = None
) -> bytes:
    shape = array.shape if shape is None else shape
    dims = b"".join(_field(2, _field(1, size % (1 << 64))) for size in shape)
    crc = masked_crc32c(data).to_bytes(4, "little")
    return (
        _field(1, _TF_DTYPES[array.dtype])
        + _field(2, dims)
        + _field(4, offset)
        + _field(5, len(data))
        + _varint(6 << 3 | 5)
        + crc
    )


def _block(items: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(
        _varint(0) + _varint(len(key)) + _varint(len(value)) + key + value for key, value in items
    )
    return body + (0).to_bytes(4, "little") + (1).to_bytes(4, "little")


def _with_trailer(block: bytes) -> bytes:
    return block + b"\x00" + masked_crc32c(block + b"\x00").to_bytes(4, "little")


def write_tensor_bundle(
    prefix: Path, arrays: dict[str, np.ndarray], claimed_shapes: dict | None = None
) -> None:
    """Write `arrays` as the checkpoint `prefix` (.index + .data-00000-of-00001); an entry
    of `claimed_shapes` makes the index state that shape for that array instead (a lie)."""
    data = bytearray()
    items = [(b"", _field(1, 1) + _field(3, _field(1, 1)))]  # header: 1 shard, little endian
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        claimed = (claimed_shapes or {}).get(name)
        items.append((name.encode(), _entry_proto(array, len(data), raw, claimed)))
        data += raw
    data_block = _block(items)
    meta_block = _block([])
    index = _with_trailer(data_block)
    meta_handle = _varint(len(index)) + _varint(len(meta_block))
    index += _with_trailer(meta_block)
    index_block = _block([(items[-1][0], _varint(0) + _varint(len(data_block)))])
    index_handle = _varint(len(index)) + _varint(len(index_block))
    index += _with_trailer(index_block)
    footer = (meta_handle + index_handle).ljust(40, b"\x00") + _TABLE_MAGIC.to_bytes(8, "little")
    Path(f"{prefix}.index").write_bytes(index + footer)
    Path(f"{prefix}.data-00000-of-00001").write_bytes(bytes(data))
