"""GIFs with k-means-fitted 256-colour palettes, written by Pillow in well under a second.

Why this encoder (numbers in benchmarks/bench_export.py): moviepy's `write_gif` quantises
every frame with Pillow's slow median cut and picks frames by clip time (moviepy 2 drops
and repeats some). Here one palette is fitted to a pixel sample of all frames (median cut,
then k-means) and each frame is mapped to it by Pillow's cached nearest-colour lookup.
With `palette="shared"` (the default, as ffmpeg's palettegen) the file holds one global
palette: small, and colours in still areas never flicker. `palette="per-frame"` refines
that palette on each frame (two k-means steps): about 2 dB more PSNR when colours change
through the animation, for a few times the (still short) time, a 768-byte palette per
frame, and slight shimmer in still areas.
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from gan_kit.errors import ExportError, InvalidInputError
from gan_kit.export.frames import Frames, check_fps, stack_frames
from gan_kit.export.paths import checked_output_path
from gan_kit.files import atomic_path

GifPalette = Literal["shared", "per-frame"]

GIF_MIN_FPS = 0.01
GIF_MAX_FPS = 50
"""Browsers show frame delays under 2/100 s as 1/10 s, so faster GIFs would play slower."""

_SHARED_SAMPLE_SIDE = 128  # median cut and k-means on 128 x 128 = 16384 sampled pixels
_SHARED_KMEANS_STEPS = 8
_PER_FRAME_SAMPLE_SIZE = 4096
_PER_FRAME_KMEANS_STEPS = 2
_PIXELS_PER_BLOCK = 512  # keeps OpenBLAS on one thread, see _nearest_colours


def check_gif_fps(fps: float) -> float:
    """`fps` as a float, if a GIF can play at that rate."""
    fps = check_fps(fps, maximum=math.inf)
    if not GIF_MIN_FPS <= fps <= GIF_MAX_FPS:
        raise InvalidInputError(
            f"GIF fps must be between {GIF_MIN_FPS} and {GIF_MAX_FPS}, got {fps}: players show "
            "shorter frame delays as 1/10 s (export an MP4 for faster rates)"
        )
    return fps


def gif_delays(frame_count: int, fps: float) -> list[int]:
    """Per-frame delays in 1/100 s whose running sums stay within 5 ms of `k / fps`.

    GIF delays are whole centiseconds; 15 fps (6.67 cs) becomes 7, 6, 7, 7, 6, 7, ... so the
    animation as a whole keeps its speed: N frames last `round(100 N / fps)` cs in total.
    """
    fps = check_gif_fps(fps)
    ends = [round((index + 1) * 100 / fps) for index in range(frame_count)]
    return np.diff(ends, prepend=0).tolist()


def _nearest_colours(pixels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each of the [P, 3] float32 pixels."""
    # argmin |x - c|^2 = argmin |c|^2 - 2 x.c, as |x|^2 is the same for every centre. Small
    # blocks keep OpenBLAS on one thread: its threads made this 10-20x slower on a busy
    # 2-core machine.
    squared_norms = (centres**2).sum(1)
    return np.concatenate(
        [
            np.argmin(squared_norms - 2 * block @ centres.T, axis=1)
            for block in np.split(pixels, range(_PIXELS_PER_BLOCK, len(pixels), _PIXELS_PER_BLOCK))
        ]
    )


def _kmeans_step(centres: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """One Lloyd step: move each colour to the mean of the sample pixels nearest to it."""
    nearest = _nearest_colours(sample, centres)
    counts = np.bincount(nearest, minlength=len(centres))
    sums = np.stack(
        [np.bincount(nearest, sample[:, c], minlength=len(centres)) for c in range(3)], axis=1
    )
    used = counts > 0  # a colour no pixel chose stays where it is
    moved = centres.copy()
    moved[used] = sums[used] / counts[used, None]
    return moved


def _random_pixels(image_pixels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` pixels drawn with replacement from [P, 3] uint8 pixels, as float32."""
    return image_pixels[rng.integers(0, len(image_pixels), count)].astype(np.float32)


def shared_palette(frames: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """At most 256 RGB colours (float32 [K, 3]) fitted to all `frames` ([N, H, W, 3] uint8).

    Median cut on a random sample of 16384 pixels, refined by k-means steps, which lowers
    the mean squared colour error: about 2 dB PSNR above median cut alone on smooth
    animations, for about 0.1 s. The fixed seed makes the output reproducible.
    """
    sample = _random_pixels(
        frames.reshape(-1, 3), _SHARED_SAMPLE_SIDE**2, np.random.default_rng(seed)
    )
    square = sample.astype(np.uint8).reshape(_SHARED_SAMPLE_SIDE, _SHARED_SAMPLE_SIDE, 3)
    median_cut = Image.fromarray(square).quantize(256, method=Image.Quantize.MEDIANCUT)
    centres = np.asarray(median_cut.getpalette(), np.float32).reshape(-1, 3)
    for _ in range(_SHARED_KMEANS_STEPS):
        centres = _kmeans_step(centres, sample)
    return centres


def _palette_image(centres: np.ndarray) -> Image.Image:
    """A "P" image carrying the colours, as Pillow's `quantize(palette=...)` wants."""
    palette = Image.new("P", (1, 1))
    palette.putpalette(np.clip(np.rint(centres), 0, 255).astype(np.uint8).tobytes())
    return palette


def _indexed_frames(frames: np.ndarray, palette: GifPalette) -> list[Image.Image]:
    """The frames as "P" images on a shared palette, or on one refined for each frame."""
    centres = shared_palette(frames)
    if palette == "shared":
        palettes = [_palette_image(centres)] * len(frames)
    else:
        rng = np.random.default_rng(0)
        palettes = []
        for frame in frames:
            sample = _random_pixels(frame.reshape(-1, 3), _PER_FRAME_SAMPLE_SIZE, rng)
            refined = centres
            for _ in range(_PER_FRAME_KMEANS_STEPS):
                refined = _kmeans_step(refined, sample)
            palettes.append(_palette_image(refined))
    return [
        Image.fromarray(frame).quantize(palette=frame_palette, dither=Image.Dither.NONE)
        for frame, frame_palette in zip(frames, palettes, strict=True)
    ]


def write_gif(
    frames: Frames,
    path: str | os.PathLike[str],
    *,
    fps: float = 15,
    loop: bool = True,
    overwrite: bool = False,
    palette: GifPalette = "shared",
) -> Path:
    """Write `frames` (uint8 HxWx3) as a GIF playing at `fps` (at most 50); return the path.

    `loop=True` repeats forever, `loop=False` plays once. Delays are rounded to the GIF's
    1/100 s so that their sum stays right (see `gif_delays`). `palette`: "shared" (one
    palette for the file: fastest, smallest, no flicker) or "per-frame" (refined on each
    frame: truer colours when they change through the animation). Identical consecutive
    frames are stored once with their delays added, which plays the same. The file appears
    complete or not at all; an existing file is replaced only with `overwrite=True`.
    """
    target = checked_output_path(path, ".gif", overwrite=overwrite)
    check_gif_fps(fps)  # before the frames are rendered
    if palette not in ("shared", "per-frame"):
        raise InvalidInputError(f'palette must be "shared" or "per-frame", got {palette!r}')
    stacked = stack_frames(frames)
    indexed = _indexed_frames(stacked, palette)
    delays = gif_delays(len(stacked), fps)
    loop_option = {"loop": 0} if loop else {}  # NETSCAPE loop count 0 = forever; none = once
    with atomic_path(target, overwrite=overwrite) as temporary:
        try:
            indexed[0].save(
                temporary,
                format="GIF",
                save_all=True,
                append_images=indexed[1:],
                duration=[10 * delay for delay in delays],  # Pillow takes ms, writes ms // 10
                optimize=False,  # keeps the palettes as given: faster, and smaller when shared
                **loop_option,
            )
        except OSError as error:  # e.g. the disk is full
            raise ExportError(f"cannot write {target}: {error}") from error
        except struct.error as error:  # identical frames are merged; one delay overflowed
            raise ExportError(
                f"cannot write {target}: a run of identical frames lasts longer than a GIF "
                "frame can (655 s); raise the fps or write an MP4"
            ) from error
    return target
