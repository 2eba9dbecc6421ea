"""Pictures of many images in one: a tiled sheet, and which tile a click landed on.

The breeding studio's children and the class atlas are each one image in one clickable
pane; a click arrives as (x, y) from 0 to 1 across and down the sheet, and `tile_at`
turns it into the index of the image drawn there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gan_kit.errors import InvalidInputError

GAP = 2  # pixels of background between tiles
BACKGROUND = 255


def sheet_shape(count: int, columns: int) -> tuple[int, int]:
    """(rows, columns) of a sheet of `count` tiles at most `columns` wide."""
    if count < 1 or columns < 1:
        raise InvalidInputError(
            f"a sheet needs at least one tile and column, got {count}, {columns}"
        )
    columns = min(columns, count)
    return math.ceil(count / columns), columns


def tile(images: Sequence[np.ndarray] | np.ndarray, columns: int, gap: int = GAP) -> np.ndarray:
    """`images` (uint8 [H, W, 3] each, all one size) laid out row by row, `columns` wide,
    `gap` pixels apart on white, as one uint8 array; empty places stay white."""
    rows, columns = sheet_shape(len(images), columns)
    height, width = images[0].shape[:2]
    sheet = np.full(
        (rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3),
        BACKGROUND,
        dtype=np.uint8,
    )
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        sheet[top : top + height, left : left + width] = image
    return sheet


def tile_at(x: float, y: float, count: int, columns: int) -> int | None:
    """The index of the tile under (x, y) (0 to 1 across and down a sheet of `count`
    tiles, `columns` wide), or None for an empty place."""
    rows, columns = sheet_shape(count, columns)
    column = min(int(x * columns), columns - 1)
    row = min(int(y * rows), rows - 1)
    index = row * columns + column
    return index if index < count else None
