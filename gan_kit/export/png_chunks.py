"""Reading a PNG's text chunks (tEXt, zTXt, iTXt) with bounds, without decoding pixels.

A recipe PNG may come from anywhere: its text is read by walking the chunk list (seeking
over image data), with caps on each text chunk, on all text together (compressed text
is inflated with a cap too) and on the number of chunks, and every chunk's CRC checked.
Pillow is not involved, so its decompression-bomb and "text chunk too large" errors
cannot occur; anything malformed is one `InvalidInputError`.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO

from gan_kit.errors import InvalidInputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK_BYTES = 2 << 20  # one text chunk, as stored or inflated (a recipe is < 1 MB)
MAX_TEXT_BYTES = 8 << 20  # all text of one file together
MAX_CHUNKS = 100_000  # a large grid has a few thousand image data chunks
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
_OTHER_FORMATS = {b"GIF8": "GIF", b"\xff\xd8\xff": "JPEG", b"BM": "BMP", b"RIFF": "WebP"}


def read_text_chunks(source: Path) -> dict[str, str]:
    """The text of the PNG file `source`, keyword -> text (of a repeated keyword, its last
    text, as Pillow reads it), read within the module's bounds."""
    with source.open("rb") as file:
        signature = file.read(len(PNG_SIGNATURE))
        if signature != PNG_SIGNATURE:
            raise InvalidInputError(_not_png(source, signature))
        return _walk(file, source)


def _not_png(source: Path, head: bytes) -> str:
    other = next((name for magic, name in _OTHER_FORMATS.items() if head.startswith(magic)), None)
    if other is not None:
        return f"{source} is a {other} file, not a PNG"
    return f"{source} is not a readable PNG file: it does not start with the PNG signature"


def _walk(file: BinaryIO, source: Path) -> dict[str, str]:
    text: dict[str, str] = {}
    total = 0
    for _ in range(MAX_CHUNKS):
        header = file.read(8)
        if len(header) < 8:
            raise InvalidInputError(f"{source} is not a readable PNG file: it is truncated")
        length, kind = struct.unpack(">I4s", header)
        if length > 2**31 - 1:
            raise InvalidInputError(
                f"{source} is not a readable PNG file: a chunk claims {length} bytes"
            )
        if kind == b"IEND":
            return text
        if kind not in _TEXT_CHUNKS:
            file.seek(length + 4, 1)  # the data and CRC, unread
            continue
        if length > MAX_TEXT_CHUNK_BYTES or total + length > MAX_TEXT_BYTES:
            raise InvalidInputError(_too_much(source))
        data = file.read(length)
        crc = file.read(4)
        if len(data) < length or len(crc) < 4:
            raise InvalidInputError(f"{source} is not a readable PNG file: it is truncated")
        if zlib.crc32(kind + data) != struct.unpack(">I", crc)[0]:
            raise InvalidInputError(f"{source} is damaged: a {kind.decode()} chunk fails its CRC")
        key, value = _decode(kind, data, source)
        total += len(value.encode("utf-8", "surrogatepass"))
        if total > MAX_TEXT_BYTES:
            raise InvalidInputError(_too_much(source))
        text[key] = value
    raise InvalidInputError(
        f"{source} has over {MAX_CHUNKS} PNG chunks: it is not an image gan_kit wrote"
    )


def _too_much(source: Path) -> str:
    return (
        f"{source} holds more PNG text than gan_kit reads ({MAX_TEXT_CHUNK_BYTES} bytes a "
        f"chunk, {MAX_TEXT_BYTES} in all): it is not an image gan_kit wrote"
    )


def _decode(kind: bytes, data: bytes, source: Path) -> tuple[str, str]:
    """(keyword, text) of a text chunk's data."""
    damaged = InvalidInputError(f"{source} is damaged: a {kind.decode()} chunk is malformed")
    keyword, separator, rest = data.partition(b"\0")
    if not separator or not 1 <= len(keyword) <= 79:
        raise damaged
    key = keyword.decode("latin-1")
    try:
        if kind == b"tEXt":
            return key, rest.decode("latin-1")
        if kind == b"zTXt":
            if rest[:1] != b"\0":
                raise damaged
            return key, _inflate(rest[1:], source).decode("latin-1")
        compressed, method, rest = rest[:1], rest[1:2], rest[2:]
        _language, _, rest = rest.partition(b"\0")
        _translated, separator, value = rest.partition(b"\0")
        if not separator or compressed not in (b"\0", b"\1") or method != b"\0":
            raise damaged
        if compressed == b"\1":
            value = _inflate(value, source)
        return key, value.decode("utf-8")
    except UnicodeDecodeError:
        raise damaged from None


def _inflate(data: bytes, source: Path) -> bytes:
    """zlib `data` inflated to at most MAX_TEXT_CHUNK_BYTES."""
    inflater = zlib.decompressobj()
    try:
        value = inflater.decompress(data, MAX_TEXT_CHUNK_BYTES)
    except zlib.error:
        raise InvalidInputError(
            f"{source} is damaged: compressed PNG text fails to inflate"
        ) from None
    if inflater.unconsumed_tail:
        raise InvalidInputError(_too_much(source))
    return value
