"""MP4 (H.264, yuv420p) through moviepy's ffmpeg writer, every frame, on moviepy 1.0.3 and 2.x.

The frames go straight to moviepy's `FFMPEG_VideoWriter` (the same class, with the same
arguments, in 1.0.3 and 2.x) instead of through a clip: a clip samples frames at times
`k / fps`, and float rounding makes moviepy 2.x drop the last frame and repeat or skip
some in the middle, and 1.0.3 add a copy of the last one, for many fps/count pairs.
Writing frames one by one also encodes a generator's frames while it renders them.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Literal

import numpy as np

from gan_kit.errors import ExportError, InvalidInputError, MissingDependencyError
from gan_kit.export.frames import Frames, check_fps, iter_frames
from gan_kit.export.paths import checked_output_path
from gan_kit.files import atomic_path

Quality = Literal["high", "medium", "low"]

CRF_BY_QUALITY: dict[str, int] = {"high": 18, "medium": 23, "low": 28}
"""x264 constant rate factors: 18 looks lossless, 23 is x264's default, 28 is small."""


def _video_writer_class() -> type:
    """moviepy's ffmpeg writer, imported only when an MP4 is written."""
    try:
        from moviepy.video.io.ffmpeg_writer import FFMPEG_VideoWriter
    except ImportError as error:
        raise MissingDependencyError(
            'MP4 export needs moviepy: pip install "gan_kit[notebooks]" (or pip install moviepy)'
        ) from error
    return FFMPEG_VideoWriter


def _pad_to_even(frame: np.ndarray) -> np.ndarray:
    """yuv420p needs even sides: repeat the last row/column where a side is odd."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def write_mp4(
    frames: Frames,
    path: str | os.PathLike[str],
    *,
    fps: float = 30,
    overwrite: bool = False,
    quality: Quality = "high",
) -> Path:
    """Write `frames` (uint8 HxWx3) as an H.264 MP4 at `fps`; return the path.

    Every frame is in the file, in order (moviepy 1.0.3 and 2.x alike). The pixel format
    is yuv420p so that browsers, notebooks and phones play it; a frame with an odd width
    or height gets its last column/row repeated. `quality`: "high" (x264 CRF 18),
    "medium" (23) or "low" (28). Needs moviepy (`pip install "gan_kit[notebooks]"`).
    The file appears complete or not at all; an existing file is replaced only with
    `overwrite=True`.
    """
    target = checked_output_path(path, ".mp4", overwrite=overwrite)
    fps = check_fps(fps)
    if quality not in CRF_BY_QUALITY:
        raise InvalidInputError(f"quality must be one of {sorted(CRF_BY_QUALITY)}, got {quality!r}")
    video_writer_class = _video_writer_class()
    checked = iter_frames(frames)
    first = _pad_to_even(next(checked))
    height, width = first.shape[:2]
    with atomic_path(target, overwrite=overwrite) as temporary:
        writer = video_writer_class(
            str(temporary),
            (width, height),
            fps,
            codec="libx264",
            preset="medium",
            # moviepy appends its own -pix_fmt for even sizes (1.0.3: yuv420p; 2.x: yuva420p,
            # which libx264 encodes as yuv420p); this one holds where it does not.
            ffmpeg_params=["-crf", str(CRF_BY_QUALITY[quality]), "-pix_fmt", "yuv420p"],
        )
        ffmpeg = writer.proc  # close() forgets it
        try:
            for frame in itertools.chain([first], map(_pad_to_even, checked)):
                writer.write_frame(frame)
        except OSError as error:
            raise ExportError(f"ffmpeg failed while writing {target}: {error}") from error
        finally:
            writer.close()
        if ffmpeg.returncode != 0:
            raise ExportError(f"ffmpeg failed to finish {target} (exit {ffmpeg.returncode})")
    return target
