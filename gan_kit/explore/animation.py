"""Animations: a path through keyframe seeds as plain data (`AnimationPath`, what the
interpolation studio shows), and style codes (e.g. from `Explorer.interpolate`) rendered
into a GIF or MP4."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from gan_kit.errors import InvalidInputError
from gan_kit.explore.base import Explorer, NoiseMode
from gan_kit.explore.images import to_uint8
from gan_kit.export import write_gif, write_mp4
from gan_kit.export.clip import frames_clip
from gan_kit.export.frames import check_fps
from gan_kit.latents.interpolation import Easing, Method
from gan_kit.values import is_whole_number


@dataclass(frozen=True)
class AnimationPath:
    """A path through keyframe `seeds` (see `Explorer.interpolate` for `frames_per_segment`,
    `loop`, `method` and `easing`), truncated with `psi`, rendered with `noise_mode` and
    played at `fps` frames per second."""

    seeds: tuple[int, ...]
    frames_per_segment: int = 12
    loop: bool = True
    method: Method = "slerp"
    easing: Easing = "linear"
    psi: float = 1.0
    noise_mode: NoiseMode = "const"
    fps: float = 15

    def styles(self, explorer: Explorer) -> torch.Tensor:
        """The style codes of every frame on `explorer`'s model."""
        if len(self.seeds) < 2:
            raise InvalidInputError(f"give at least two keyframe seeds, got {list(self.seeds)}")
        return explorer.interpolate(
            explorer.latents(self.seeds),
            self.frames_per_segment,
            loop=self.loop,
            method=self.method,
            easing=self.easing,
            psi=self.psi,
        )


ANIMATION_WRITERS: dict[str, Callable[..., Path]] = {".gif": write_gif, ".mp4": write_mp4}


def animation_writer(path: str | os.PathLike[str]) -> Callable[..., Path]:
    """The writer for `path`'s suffix: `write_gif` for .gif, `write_mp4` for .mp4."""
    suffix = Path(path).suffix.lower()
    if suffix not in ANIMATION_WRITERS:
        raise InvalidInputError(
            f"an animation is written as {' or '.join(ANIMATION_WRITERS)}, not {path}"
        )
    return ANIMATION_WRITERS[suffix]


MAX_SCALE = 16


def checked_scale(scale: object) -> int:
    """`scale` if it is a whole number from 1 to MAX_SCALE, else a clear error."""
    if not is_whole_number(scale) or not 1 <= scale <= MAX_SCALE:
        raise InvalidInputError(
            f"scale must be a whole number from 1 to {MAX_SCALE}, got {scale!r}"
        )
    return scale


def save_animation(
    explorer: Explorer,
    styles: torch.Tensor,
    path: str | os.PathLike[str],
    *,
    fps: float | None = None,
    overwrite: bool = False,
    noise_mode: NoiseMode = "const",
    batch_size: int | None = None,
    progress: bool = False,
    scale: int = 1,
) -> Path:
    """Render one frame per style code of `styles` (e.g. `explorer.interpolate(...)`) with
    `explorer` into a GIF or MP4 at `path` (by the suffix); returns the path. An existing
    file is replaced only with `overwrite`; `noise_mode`, `batch_size` and `progress` as
    `Explorer.render`.

    Frames stream into the encoder as they are rendered, and the writer checks the path
    and fps before the first frame is rendered. `fps` None keeps the writer's default
    (GIF 15, MP4 30). `scale` > 1 enlarges each frame (Lanczos), for small models.
    """
    writer = animation_writer(path)
    frames = _frames(explorer, styles, noise_mode, batch_size, progress, scale)
    rate = {} if fps is None else {"fps": fps}
    return writer(frames, path, overwrite=overwrite, **rate)


def animation_clip(
    explorer: Explorer,
    styles: torch.Tensor,
    *,
    fps: float = 15,
    noise_mode: NoiseMode = "const",
    batch_size: int | None = None,
    progress: bool = False,
    scale: int = 1,
) -> Any:
    """Render one frame per style code of `styles` with `explorer` into a moviepy clip at
    `fps`, to compose with moviepy (titles, audio, concatenation, speed) on moviepy 1.0.3
    or 2.x; written at its fps it keeps every frame (see `gan_kit.export.clip`).
    `noise_mode`, `batch_size`, `progress` and `scale` as `save_animation`."""
    check_fps(fps)
    frames = _frames(explorer, styles, noise_mode, batch_size, progress, scale)
    return frames_clip(list(frames), fps)


def _frames(
    explorer: Explorer,
    styles: torch.Tensor,
    noise_mode: NoiseMode,
    batch_size: int | None,
    progress: bool,
    scale: int,
) -> Iterator[np.ndarray]:
    """uint8 frames of `styles`, rendered batch by batch, enlarged `scale` times."""
    checked_scale(scale)
    batches = explorer.iter_render(
        styles, noise_mode=noise_mode, batch_size=batch_size, progress=progress
    )
    return (_enlarged(frame, scale) for batch in batches for frame in to_uint8(batch))


def _enlarged(frame: np.ndarray, scale: int) -> np.ndarray:
    if scale == 1:
        return frame
    height, width = frame.shape[:2]
    size = (width * scale, height * scale)
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.LANCZOS))
