"""A picture to project, of any size and mode, made into the model's square RGB input.

Faces are not detected or aligned (no detector to download): the picture is cropped to
its largest centred square and resized (Lanczos) to the model's resolution. Transparent
pixels are composited over white; greyscale and palette images become RGB.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from gan_kit.errors import InvalidInputError

__all__ = ["MAX_PIXELS", "ImageInput", "target_pixels"]

MAX_PIXELS = 64_000_000  # a bigger picture is refused before it is decoded
MIN_SIDE = 8

ImageInput = str | os.PathLike | Image.Image | np.ndarray | torch.Tensor


def _open(path: Path) -> Image.Image:
    if not path.is_file():
        raise InvalidInputError(f"no image file at {path}: check the path")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(path)
            if picture.width * picture.height > MAX_PIXELS:
                raise InvalidInputError(
                    f"{path} is {picture.width}x{picture.height} pixels, over the "
                    f"{MAX_PIXELS // 1_000_000} megapixels gan_kit decodes: make it smaller first"
                )
            picture.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInputError(
            f"{path} is not an image PIL can read (or claims an absurd size): pass a PNG, "
            "JPEG, WebP or similar picture"
        ) from None
    except OSError as error:
        raise InvalidInputError(f"{path} could not be decoded ({error}): is it damaged?") from None
    return picture


def _from_array(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = array.transpose(1, 2, 0)  # [C, H, W] -> [H, W, C]
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise InvalidInputError(
            f"an image array must be [H, W], [H, W, 3|4] or [3|4, H, W], got {list(array.shape)}"
        )
    if array.dtype != np.uint8:
        if array.dtype.kind not in "fiu" or not np.isfinite(array).all():
            raise InvalidInputError("an image array must hold finite numbers")
        if array.dtype.kind == "f":  # floats are read as [0, 1]
            array = np.clip(array, 0, 1) * 255
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    return Image.fromarray(array)


def _rgb(picture: Image.Image) -> Image.Image:
    if picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode == "P" and "transparency" in picture.info
    ):
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return picture.convert("RGB")


def target_pixels(image: ImageInput, resolution: int) -> np.ndarray:
    """`image` (a path, PIL image, uint8 or [0, 1] float array [H, W(, C)] or [C, H, W],
    or a tensor like those) as uint8 [resolution, resolution, 3]: centre-cropped to a
    square and resized."""
    if isinstance(image, torch.Tensor):
        tensor = image.detach().cpu()
        if tensor.ndim == 4 and tensor.shape[0] == 1:
            tensor = tensor[0]
        picture = _from_array(
            tensor.float().numpy() if tensor.is_floating_point() else tensor.numpy()
        )
    elif isinstance(image, np.ndarray):
        picture = _from_array(image)
    elif isinstance(image, Image.Image):
        picture = image
    elif isinstance(image, (str, os.PathLike)):
        picture = _open(Path(image).expanduser())
    else:
        raise InvalidInputError(
            f"image must be a path, a PIL image, an array or a tensor, got {type(image).__name__}"
        )
    if min(picture.size) < MIN_SIDE:
        raise InvalidInputError(
            f"the image is {picture.width}x{picture.height} pixels: give at least "
            f"{MIN_SIDE}x{MIN_SIDE}"
        )
    picture = _rgb(picture)
    side = min(picture.size)
    left, top = (picture.width - side) // 2, (picture.height - side) // 2
    square = picture.crop((left, top, left + side, top + side))
    if side != resolution:
        square = square.resize((resolution, resolution), Image.Resampling.LANCZOS)
    return np.asarray(square, dtype=np.uint8).copy()
