"""PNG files carrying text metadata (tEXt, or iTXt for non-Latin-1 text), e.g. a recipe."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from gan_kit.errors import ExportError, InvalidInputError
from gan_kit.export.frames import check_image
from gan_kit.export.paths import checked_output_path
from gan_kit.export.png_chunks import read_text_chunks
from gan_kit.files import atomic_path, not_a_regular_file


def _png_text_chunks(text: Mapping[str, str]) -> PngImagePlugin.PngInfo:
    """The text as PNG chunks; keys must be valid PNG keywords (1-79 Latin-1 characters)."""
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidInputError(
                f"PNG text keys and values must be str, got {key!r}: {type(value).__name__}"
            )
        if not 1 <= len(key) <= 79 or not key.isprintable() or key != key.strip():
            raise InvalidInputError(
                f"PNG text key {key!r} must have 1 to 79 printable characters, no outer spaces"
            )
        try:
            key.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidInputError(f"PNG text key {key!r} must be Latin-1 text") from None
        info.add_text(key, value)  # tEXt, or iTXt (UTF-8) where the value is not Latin-1
    return info


def write_png(
    image: np.ndarray | Image.Image,
    path: str | os.PathLike[str],
    *,
    text: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write `image` (a uint8 HxWx3 array or a PIL image) as a lossless PNG; return the path.

    `text` is stored as PNG text chunks, read back by `read_png_text`. The file appears
    complete or not at all; an existing file is replaced only with `overwrite=True`.
    """
    target = checked_output_path(path, ".png", overwrite=overwrite)
    picture = image if isinstance(image, Image.Image) else Image.fromarray(check_image(image))
    chunks = _png_text_chunks(text or {})
    with atomic_path(target, overwrite=overwrite) as temporary:
        try:
            picture.save(temporary, format="PNG", pnginfo=chunks)
        except OSError as error:  # e.g. a PIL mode PNG cannot hold
            raise ExportError(f"cannot write {target} as PNG: {error}") from error
    return target


def read_png_text(path: str | os.PathLike[str]) -> dict[str, str]:
    """The text chunks (tEXt, zTXt, iTXt) of the PNG file at `path`, as a dict; read
    without decoding the image, within the bounds of `gan_kit.export.png_chunks`."""
    source = Path(path)
    problem = not_a_regular_file(source)
    if problem == "missing":
        raise ExportError(f"cannot read {source}: no such file")
    if problem is not None:
        raise InvalidInputError(f"cannot read {source}: it is {problem}, not a PNG file")
    try:
        return read_text_chunks(source)
    except OSError as error:
        raise InvalidInputError(f"{source} is not a readable PNG file: {error}") from error
