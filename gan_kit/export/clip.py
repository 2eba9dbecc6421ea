"""Frames as a moviepy clip, for composing with moviepy (titles, audio, concatenation,
speed) on moviepy 1.0.3 (Colab) and 2.x alike.

A clip is a function of time, and the two moviepy lines count the frames of a clip
differently: 2.x writes `int(duration * fps)` frames at `k / fps`, 1.0.3 one per
`np.arange(0, duration, 1 / fps)`. With a duration of exactly `n / fps`, float rounding
makes 2.x drop the last frame and 1.0.3 repeat it for many (n, fps) pairs. `frames_clip`
nudges the duration by the few units in the last place that make the installed moviepy
count exactly `n` frames, and maps each time to the nearest frame, so writing the clip at
its fps (`write_gif`, `write_videofile`) keeps every frame once, in order.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from gan_kit.errors import ExportError, InvalidInputError, MissingDependencyError
from gan_kit.export.frames import Frames, check_fps, stack_frames
from gan_kit.export.gif import check_gif_fps
from gan_kit.export.paths import checked_output_path
from gan_kit.files import atomic_path

_MAX_NUDGES = 64  # units in the last place; a handful is always enough


def _video_clip_class() -> type:
    try:
        from moviepy.video.VideoClip import VideoClip
    except ImportError as error:
        raise MissingDependencyError(
            'moviepy clips need moviepy: pip install "gan_kit[notebooks]" (or pip install moviepy)'
        ) from error
    return VideoClip


def moviepy_is_legacy() -> bool:
    """Whether the installed moviepy is a 1.x release (Colab ships 1.0.3)."""
    try:
        return version("moviepy").startswith("1.")
    except PackageNotFoundError:  # pragma: no cover - imported from source
        import moviepy

        return str(getattr(moviepy, "__version__", "2")).startswith("1.")


def moviepy_frame_count(duration: float, fps: float, *, legacy: bool | None = None) -> int:
    """How many frames the installed moviepy (or the given line) writes for a clip of
    `duration` seconds at `fps`."""
    legacy = moviepy_is_legacy() if legacy is None else legacy
    if legacy:
        return len(np.arange(0, duration, 1.0 / fps))
    return int(duration * fps)


def clip_duration(count: int, fps: float, *, legacy: bool | None = None) -> float:
    """A duration within a few float steps of `count / fps` for which moviepy counts
    exactly `count` frames at `fps`."""
    duration = count / fps
    for _ in range(_MAX_NUDGES):
        found = moviepy_frame_count(duration, fps, legacy=legacy)
        if found == count:
            return duration
        duration = math.nextafter(duration, math.inf if found < count else 0.0)
    raise AssertionError(f"no duration gives {count} frames at {fps} fps")  # pragma: no cover


def frames_clip(frames: Frames, fps: float) -> Any:
    """A moviepy `VideoClip` showing each frame (uint8 HxWx3) for 1 / `fps` s.

    Written at its fps by moviepy (`clip.write_gif(path)`, `clip.write_videofile(path)`),
    it keeps every frame once, on moviepy 1.0.3 and 2.x; compose it like any clip.
    """
    fps = check_fps(fps)
    stacked = stack_frames(frames)
    last = len(stacked) - 1

    def frame_at(t: float) -> np.ndarray:
        return stacked[min(last, max(0, math.floor(t * fps + 0.5)))]

    clip = _video_clip_class()(frame_at, duration=clip_duration(len(stacked), fps))
    clip.fps = fps
    return clip


def clip_frames(clip: Any, fps: float | None = None) -> Iterator[np.ndarray]:
    """The uint8 frames moviepy would write for `clip` at `fps` (default: the clip's), for
    gan_kit's own encoders: `gan_kit.export.write_gif(clip_frames(clip), path, fps=...)`."""
    rate = fps if fps is not None else getattr(clip, "fps", None)
    if rate is None:
        raise InvalidInputError("the clip has no fps: give fps=")
    rate = check_fps(rate)
    for frame in clip.iter_frames(fps=rate, dtype="uint8"):
        yield np.ascontiguousarray(frame[..., :3])


# moviepy's ffmpeg writer, told to make a GIF with one fitted palette. moviepy's own
# `write_gif` is not used: on 1.0.3 its imageio route writes every frame delay as 0 with
# current imageio, and its ffmpeg route calls numpy's removed `tostring`.
MOVIEPY_GIF_OPTIONS: dict[str, Any] = {
    "codec": "gif",
    "audio": False,
    "ffmpeg_params": [
        "-filter_complex",
        "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a",
        "-loop",
        "0",
    ],
}


def write_gif_with_moviepy(
    frames: Frames, path: str | os.PathLike[str], *, fps: float = 15, overwrite: bool = False
) -> Path:
    """Write `frames` as a looping GIF through moviepy's ffmpeg writer (ffmpeg's palette,
    dithered; slower and larger than `write_gif`'s). Every frame is kept; the file is
    written atomically and replaces an existing one only with `overwrite=True`. A clip of
    your own goes the same way: `clip.write_videofile("x.gif", fps=fps, **MOVIEPY_GIF_OPTIONS)`.
    """
    target = checked_output_path(path, ".gif", overwrite=overwrite)
    clip = frames_clip(frames, check_gif_fps(fps))
    with atomic_path(target, overwrite=overwrite) as temporary:
        try:
            clip.write_videofile(str(temporary), fps=clip.fps, logger=None, **MOVIEPY_GIF_OPTIONS)
        except (OSError, ValueError) as error:
            raise ExportError(f"moviepy could not write {target}: {error}") from error
    return target
