"""Time GIF encoders (and gan_kit's MP4 writer) on a smooth synthetic animation.

Compares moviepy's `write_gif`, Pillow with one shared median-cut palette (with and without
Floyd-Steinberg dithering), Pillow with a FASTOCTREE palette per frame, and gan_kit's
`write_gif` (a median-cut palette refined by k-means, shared or per frame). For each: the
median time of the runs, the file size, the frames stored, how long it plays, the PSNR of
what a player shows at each source frame's time against that frame (dropped or repeated
frames and wrong timing cost PSNR), and the PSNR of each stored frame against its
best-matching source frame (the colour quality alone).

    python benchmarks/bench_export.py --frames 120 --size 256 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import PIL
from PIL import Image, ImageSequence

from gan_kit.export import write_gif, write_mp4
from gan_kit.export.gif import gif_delays

Encoder = Callable[[np.ndarray, Path, float], None]


def smooth_animation(frame_count: int, size: int, seed: int = 0) -> np.ndarray:
    """[N, size, size, 3] uint8 frames like a rendered interpolation: drifting colour
    gradients, soft moving blobs and hard-edged discs, looping over the N frames."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    centres, speeds, colours = rng.random((6, 2)), rng.normal(0, 0.5, (6, 2)), rng.random((6, 3))
    frames = np.empty((frame_count, size, size, 3), np.uint8)
    for index in range(frame_count):
        phase = 2 * np.pi * index / frame_count
        image = 0.6 * np.stack(
            [
                0.5 + 0.5 * np.sin(2 * np.pi * x + phase),
                0.5 + 0.5 * np.cos(2 * np.pi * 0.7 * y - phase),
                0.5 + 0.3 * np.sin(2 * np.pi * (x + y) + 2 * phase),
            ],
            axis=-1,
        )
        for centre, speed, colour in zip(centres, speeds, colours, strict=True):
            cx, cy = (centre + speed * np.sin(phase)) % 1
            squared_distance = (x - cx) ** 2 + (y - cy) ** 2
            image += np.exp(-squared_distance / 0.01)[..., None] * colour
            image = np.where((squared_distance < 0.002)[..., None], colour[::-1], image)
        frames[index] = np.clip(np.rint(image * 255), 0, 255)
    return frames


def psnr(reference: np.ndarray, decoded: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB over whole arrays of uint8 pixels."""
    error = np.mean((reference.astype(np.float64) - decoded.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255**2 / error)


def shown_at_source_times(
    stored: list[np.ndarray], delays_s: list[float], count: int, fps: float
) -> np.ndarray:
    """The stored frame a player shows in the middle of each source frame's time slot."""
    ends = np.cumsum(delays_s)
    times = (np.arange(count) + 0.5) / fps
    return np.stack([stored[min(i, len(stored) - 1)] for i in np.searchsorted(ends, times)])


def best_matching_sources(stored: list[np.ndarray], sources: np.ndarray) -> np.ndarray:
    """For each stored frame, the source frame closest to it (compared at 1/4 resolution)."""
    small_sources = sources[:, ::4, ::4].reshape(len(sources), -1).astype(np.float32)
    matches = []
    for frame in stored:
        small = frame[::4, ::4].reshape(1, -1).astype(np.float32)
        matches.append(sources[np.argmin(((small_sources - small) ** 2).sum(1))])
    return np.stack(matches)


def decode_gif(path: Path) -> tuple[list[np.ndarray], list[float]]:
    with Image.open(path) as gif:
        frames = [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(gif)]
        delays = []
        for index in range(gif.n_frames):
            gif.seek(index)
            delays.append(gif.info.get("duration", 0) / 1000)  # absent: 0, as players read it
    return frames, delays


def decode_mp4(path: Path) -> tuple[list[np.ndarray], list[float]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(data, np.uint8).reshape(height, width, 3) for data in reader]
    return frames, [1 / meta["fps"]] * len(frames)


def pillow_save(indexed: list[Image.Image], path: Path, fps: float) -> None:
    indexed[0].save(
        path,
        save_all=True,
        append_images=indexed[1:],
        duration=[10 * delay for delay in gif_delays(len(indexed), fps)],
        loop=0,
        optimize=False,
    )


def pillow_shared_median_cut(dither: Image.Dither) -> Encoder:
    """Pillow: one median-cut palette from a half-resolution mosaic of 16 frames."""

    def encode(frames: np.ndarray, path: Path, fps: float) -> None:
        picks = np.linspace(0, len(frames) - 1, min(16, len(frames))).round().astype(int)
        mosaic = Image.fromarray(np.concatenate(frames[picks, ::2, ::2], axis=0))
        palette = mosaic.quantize(256, method=Image.Quantize.MEDIANCUT)
        indexed = [Image.fromarray(f).quantize(palette=palette, dither=dither) for f in frames]
        pillow_save(indexed, path, fps)

    return encode


def pillow_per_frame_octree(frames: np.ndarray, path: Path, fps: float) -> None:
    indexed = [
        Image.fromarray(frame).quantize(256, method=Image.Quantize.FASTOCTREE) for frame in frames
    ]
    pillow_save(indexed, path, fps)


def moviepy_write_gif(frames: np.ndarray, path: Path, fps: float) -> None:
    from moviepy.video.io.ImageSequenceClip import ImageSequenceClip

    ImageSequenceClip(list(frames), fps=fps).write_gif(str(path), fps=fps, logger=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--fps", type=float, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--moviepy-repeats", type=int, default=1, help="it is slow")
    arguments = parser.parse_args()

    import moviepy

    frames = smooth_animation(arguments.frames, arguments.size)
    fps = arguments.fps
    encoders: list[tuple[str, str, Encoder, int]] = [
        ("moviepy write_gif", ".gif", moviepy_write_gif, arguments.moviepy_repeats),
        (
            "Pillow, shared median-cut palette, no dither",
            ".gif",
            pillow_shared_median_cut(Image.Dither.NONE),
            arguments.repeats,
        ),
        (
            "Pillow, shared median-cut palette, Floyd-Steinberg",
            ".gif",
            pillow_shared_median_cut(Image.Dither.FLOYDSTEINBERG),
            arguments.repeats,
        ),
        (
            "Pillow, FASTOCTREE palette per frame",
            ".gif",
            pillow_per_frame_octree,
            arguments.repeats,
        ),
        (
            "**gan_kit write_gif** (shared palette, the default)",
            ".gif",
            lambda f, p, r: write_gif(f, p, fps=r, overwrite=True),
            arguments.repeats,
        ),
        (
            'gan_kit write_gif, palette="per-frame"',
            ".gif",
            lambda f, p, r: write_gif(f, p, fps=r, overwrite=True, palette="per-frame"),
            arguments.repeats,
        ),
        (
            "gan_kit write_mp4 (H.264 CRF 18, for scale)",
            ".mp4",
            lambda f, p, r: write_mp4(f, p, fps=r, overwrite=True),
            arguments.repeats,
        ),
    ]
    print(
        f"{arguments.frames} frames of {arguments.size} px at {fps:g} fps; median of the runs; "
        f"Python {platform.python_version()}, numpy {np.__version__}, Pillow {PIL.__version__}, "
        f"moviepy {moviepy.__version__}, {os.cpu_count()} CPU cores (shared machine)\n"
    )
    columns = ["encoder", "runs", "time (s)", "size (kB)", "frames stored", "plays (s)"]
    columns += ["PSNR as played (dB)", "PSNR of colours (dB)"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    with tempfile.TemporaryDirectory() as folder:
        for name, suffix, encode, repeats in encoders:
            path = Path(folder) / f"out{suffix}"
            seconds = []
            for _ in range(repeats):
                path.unlink(missing_ok=True)
                start = time.perf_counter()
                encode(frames, path, fps)
                seconds.append(time.perf_counter() - start)
            stored, delays = (decode_gif if suffix == ".gif" else decode_mp4)(path)
            shown = shown_at_source_times(stored, delays, len(frames), fps)
            print(
                f"| {name} | {repeats} | {statistics.median(seconds):.2f} | "
                f"{path.stat().st_size / 1000:.0f} | {len(stored)} | {sum(delays):.2f} | "
                f"{psnr(frames, shown):.2f} | "
                f"{psnr(best_matching_sources(stored, frames), np.stack(stored)):.2f} |"
            )


if __name__ == "__main__":
    main()
