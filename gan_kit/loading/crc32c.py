"""CRC-32C (Castagnoli, as in iSCSI, LevelDB and TensorFlow), vectorised with numpy, and the
"masked" form that LevelDB tables and TF tensor bundles store.

The CRC register update is linear over GF(2). Advancing a register `s` over four bytes
`w` is `Z4(s ^ w)`, where `Z4` ("advance over four zero bytes") is a 32x32 bit matrix; it
is applied as two 65536-entry lookup tables (low and high 16 bits). The message is cut
into up to 2**16 equal lanes that are advanced side by side (one numpy op per step covers
every lane), then the lane registers are merged pairwise: crc(A + B) = Z_len(B)(crc(A)) ^
crc(B). About 0.3 to 0.5 s per 100 MB on one core, against minutes for a Python loop.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["crc32c", "masked_crc32c"]

_CASTAGNOLI_REFLECTED = 0x82F63B78
_MAX_LANES = 1 << 16
_BYTES_PER_STEP = 4
_STEPS_PER_SLAB = 256  # lane columns transposed at a time (bounds the extra memory)


def _one_zero_byte_columns() -> np.ndarray:
    """The 32 columns (images of the bits 1 << i) of "advance the register one zero byte"."""
    register = np.left_shift(np.uint32(1), np.arange(32, dtype=np.uint32))
    for _ in range(8):
        register = np.where(
            register & 1, (register >> 1) ^ np.uint32(_CASTAGNOLI_REFLECTED), register >> 1
        ).astype(np.uint32)
    return register


def _apply(columns: np.ndarray, registers: np.ndarray) -> np.ndarray:
    """Apply the bit matrix given by its 32 `columns` to every value in `registers`."""
    result = np.zeros_like(registers)
    for bit in range(32):
        result ^= np.where((registers >> np.uint32(bit)) & 1, columns[bit], np.uint32(0))
    return result


@cache
def _zero_advance_columns(n_bytes: int) -> np.ndarray:
    """Columns of "advance the register over `n_bytes` zero bytes" (by repeated squaring)."""
    if n_bytes == 1:
        return _one_zero_byte_columns()
    half = _zero_advance_columns(n_bytes // 2)
    squared = _apply(half, half)
    return _apply(_one_zero_byte_columns(), squared) if n_bytes % 2 else squared


@cache
def _zero_advance_tables(n_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables for the low and high 16 register bits of `_zero_advance_columns`."""
    columns = _zero_advance_columns(n_bytes)
    tables = []
    for first_bit in (0, 16):
        table = np.zeros(1, dtype=np.uint32)
        for bit in range(16):
            table = np.concatenate([table, table ^ columns[first_bit + bit]])
        tables.append(table)
    return tables[0], tables[1]


def _zero_advance(registers: np.ndarray, n_bytes: int) -> np.ndarray:
    """Advance every register in `registers` over `n_bytes` zero bytes."""
    low, high = _zero_advance_tables(n_bytes)
    return low[registers & np.uint32(0xFFFF)] ^ high[registers >> np.uint32(16)]


def _raw_crc(words: np.ndarray) -> int:
    """CRC register (initial value 0, no final xor) after the little-endian uint32 `words`."""
    lanes = min(_MAX_LANES, 1 << max(0, (len(words) // 64).bit_length() - 1))
    steps = -(-len(words) // lanes)
    # Leading zero words leave a zero register unchanged, so the front padding is free.
    padded = np.zeros(lanes * steps, dtype=np.uint32)
    padded[len(padded) - len(words) :] = words
    per_lane = padded.reshape(lanes, steps)
    low, high = _zero_advance_tables(_BYTES_PER_STEP)
    registers = np.zeros(lanes, dtype=np.uint32)
    scratch = np.empty(lanes, dtype=np.uint32)
    for slab_start in range(0, steps, _STEPS_PER_SLAB):
        slab = np.ascontiguousarray(per_lane[:, slab_start : slab_start + _STEPS_PER_SLAB].T)
        for column in slab:
            registers ^= column
            np.right_shift(registers, 16, out=scratch)
            high.take(scratch, out=scratch)
            registers &= np.uint32(0xFFFF)
            low.take(registers, out=registers)
            registers ^= scratch
    lane_bytes = steps * _BYTES_PER_STEP
    while len(registers) > 1:
        registers = _zero_advance(registers[0::2], lane_bytes) ^ registers[1::2]
        lane_bytes *= 2
    return int(registers[0])


def crc32c(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """CRC-32C (Castagnoli, as in iSCSI, LevelDB and TensorFlow) of `data`."""
    buffer = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    buffer = buffer.reshape(-1).view(np.uint8)
    head = len(buffer) % _BYTES_PER_STEP  # bytes before the first whole word
    register = 0xFFFFFFFF
    table_low, _ = _zero_advance_tables(1)
    for byte in buffer[:head].tolist():
        register = int(table_low[(register ^ byte) & 0xFF]) ^ (register >> 8)
    if len(buffer) > head:
        words = buffer[head:].view("<u4")
        advanced_initial = int(_zero_advance(np.array([register], np.uint32), len(words) * 4)[0])
        register = advanced_initial ^ _raw_crc(words)
    return register ^ 0xFFFFFFFF


def masked_crc32c(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """The "masked" CRC-32C that LevelDB tables and TF bundles store (rotated plus a delta)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
