"""Validation of the images and frame sequences handed to the writers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np

from gan_kit.errors import InvalidInputError
from gan_kit.values import is_number

Frames = Iterable[np.ndarray] | np.ndarray
"""uint8 HxWx3 arrays (a list, any iterable, a generator) or one uint8 [N, H, W, 3] array."""


MAX_FPS = 240  # the fastest displays; players show faster video at their own rate


def check_fps(fps: float, maximum: float = MAX_FPS) -> float:
    """`fps` as a float, if it is a finite number above 0 and at most `maximum` (a
    format with its own range, GIF, passes math.inf and checks that range itself)."""
    if not is_number(fps):
        raise InvalidInputError(f"fps must be a number, got {type(fps).__name__}")
    if not math.isfinite(fps) or fps <= 0:
        raise InvalidInputError(f"fps must be a finite number above 0, got {fps:g}")
    if fps > maximum:
        raise InvalidInputError(f"fps must be at most {maximum:g}, got {fps:g}")
    return float(fps)


def check_image(image: object, what: str = "image") -> np.ndarray:
    """`image` as a uint8 HxWx3 array, or a clear error naming `what` was wrong."""
    if not isinstance(image, np.ndarray):
        raise InvalidInputError(
            f"{what} must be a uint8 HxWx3 numpy array, got {type(image).__name__}"
        )
    if image.dtype != np.uint8:
        raise InvalidInputError(f"{what} must be uint8 (0..255), got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidInputError(f"{what} must have shape HxWx3, got {image.shape}")
    return image


def iter_frames(frames: Frames) -> Iterator[np.ndarray]:
    """Yield the frames one by one, checked, all of the first frame's size; at least one.

    Lazy, so that a generator of rendered frames can be encoded while it renders.
    """
    if isinstance(frames, np.ndarray) and frames.ndim != 4:
        raise InvalidInputError(f"a frame array must have shape [N, H, W, 3], got {frames.shape}")
    first_shape = None
    for index, frame in enumerate(frames):
        check_image(frame, f"frame {index}")
        if first_shape is None:
            first_shape = frame.shape
        elif frame.shape != first_shape:
            raise InvalidInputError(
                f"frame {index} is {frame.shape[1]}x{frame.shape[0]} but frame 0 is "
                f"{first_shape[1]}x{first_shape[0]}: all frames must have the same size"
            )
        yield frame
    if first_shape is None:
        raise InvalidInputError("no frames to write: give at least one")


def stack_frames(frames: Frames) -> np.ndarray:
    """All the frames, checked, as one uint8 [N, H, W, 3] array."""
    return np.stack(list(iter_frames(frames)))
