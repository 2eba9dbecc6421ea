"""gan_kit.export: files are read back and checked (frames, sizes, timing, colours, text),
every bad argument gives a gan_kit error, and nothing partial is ever left behind."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageSequence

from gan_kit.errors import (
    ExportError,
    GanKitError,
    InvalidInputError,
    MissingDependencyError,
    OutputExistsError,
)
from gan_kit.export import atomic_path, read_png_text, write_gif, write_mp4, write_png
from gan_kit.export.clip import (
    clip_duration,
    clip_frames,
    frames_clip,
    moviepy_frame_count,
    write_gif_with_moviepy,
)
from gan_kit.export.gif import gif_delays


def animation(count: int = 24, height: int = 48, width: int = 64) -> np.ndarray:
    """Smooth frames, like a rendered interpolation: drifting colour gradients, and a white
    square stepping across so that every frame differs clearly from the others."""
    y, x = np.mgrid[0:height, 0:width]
    frames = np.empty((count, height, width, 3), np.uint8)
    for index in range(count):
        phase = 2 * np.pi * index / count
        frames[index, ..., 0] = 127.5 + 127.5 * np.sin(2 * np.pi * x / width + phase)
        frames[index, ..., 1] = 127.5 + 127.5 * np.cos(2 * np.pi * y / height - phase)
        frames[index, ..., 2] = 255 * (x + y) / (width + height) * (index + 1) / count
        left = 2 * index % (width - 8)
        frames[index, 4:12, left : left + 8] = 255
    return frames


def psnr(reference: np.ndarray, decoded: np.ndarray) -> float:
    error = np.mean((reference.astype(np.float64) - decoded.astype(np.float64)) ** 2)
    return 10 * np.log10(255**2 / error)


def best_matching_indices(decoded: np.ndarray, sources: np.ndarray) -> list[int]:
    """For each decoded frame, the index of the source frame it is closest to."""
    flat_sources = sources.reshape(len(sources), -1).astype(np.float32)
    return [
        int(np.argmin(((flat_sources - frame.reshape(1, -1)) ** 2).sum(1))) for frame in decoded
    ]


def read_gif(path: Path) -> tuple[np.ndarray, list[int], dict]:
    """Decoded RGB frames, per-frame durations in ms, and the first frame's info."""
    with Image.open(path) as gif:
        info = dict(gif.info)
        frames = np.stack(
            [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(gif)]
        )
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
    return frames, durations, info


def read_mp4(path: Path) -> tuple[np.ndarray, dict]:
    """Every decoded RGB frame, and ffmpeg's metadata (size, fps, codec, pix_fmt)."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(data, np.uint8).reshape(height, width, 3) for data in reader]
    return np.stack(frames), meta


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# --- GIF ------------------------------------------------------------------------------------


def test_gif_keeps_every_frame_in_order_with_size_timing_and_loop(tmp_path: Path) -> None:
    frames = animation(count=24)
    path = write_gif(frames, tmp_path / "anim.gif", fps=15)
    decoded, durations, info = read_gif(path)
    assert path == tmp_path / "anim.gif"
    assert decoded.shape == frames.shape
    assert best_matching_indices(decoded, frames) == list(range(24))
    assert info["loop"] == 0  # NETSCAPE loop count 0: forever
    # 15 fps = 66.7 ms, stored in 10 ms units: 70/60 ms alternate so that time keeps pace.
    assert set(durations) == {60, 70}
    assert sum(durations) == 1600  # 24 / 15 s
    ends = np.cumsum(durations)
    assert np.abs(ends - 1000 * np.arange(1, 25) / 15).max() <= 5


def test_gif_without_loop_plays_once(tmp_path: Path) -> None:
    path = write_gif(animation(count=3), tmp_path / "once.gif", loop=False)
    assert "loop" not in read_gif(path)[2]


@pytest.mark.parametrize("fps", [0.5, 7, 10, 12, 15, 23.976, 24, 25, 29.97, 30, 33, 50])
def test_gif_delays_add_up_to_the_frame_rate(fps: float) -> None:
    delays = gif_delays(300, fps)
    ends = np.cumsum(delays)
    assert np.abs(ends - 100 * np.arange(1, 301) / fps).max() <= 0.5  # centiseconds
    assert min(delays) >= 2  # players show 0-1 cs as 10 cs


def test_gif_file_at_a_fractional_fps_lasts_n_over_fps(tmp_path: Path) -> None:
    _, durations, _ = read_gif(write_gif(animation(count=30), tmp_path / "a.gif", fps=23.976))
    assert len(durations) == 30
    assert abs(sum(durations) - 30_000 / 23.976) <= 5


def test_gif_palette_is_faithful(tmp_path: Path) -> None:
    """An adaptive 256-colour palette must clearly beat a fixed one: Pillow's 216-colour web
    palette scores about 25 dB on these frames, the fitted palettes 28-30 dB. Requiring 2 dB
    over the web palette catches a broken fit (a few colours, or a wrong mapping, fall far
    below it) and leaves room for sampling noise."""
    frames = animation(count=24)
    web = np.stack(
        [
            np.asarray(
                Image.fromarray(frame)
                .convert("P", palette=Image.Palette.WEB, dither=Image.Dither.NONE)
                .convert("RGB")
            )
            for frame in frames
        ]
    )
    shared = read_gif(write_gif(frames, tmp_path / "shared.gif"))[0]
    per_frame = read_gif(write_gif(frames, tmp_path / "per.gif", palette="per-frame"))[0]
    assert psnr(frames, shared) >= psnr(frames, web) + 2
    # Refining the palette on each frame pays off when colours change through the animation.
    assert psnr(frames, per_frame) >= psnr(frames, shared) + 0.5


def test_gif_shared_palette_keeps_still_areas_steady(tmp_path: Path) -> None:
    frames = animation(count=12)
    frames[:, 24:] = frames[0, 24:]  # the bottom half never changes
    decoded = read_gif(write_gif(frames, tmp_path / "still.gif"))[0]
    assert (decoded[:, 24:] == decoded[0, 24:]).all()


def test_gif_identical_frames_are_merged_with_their_time(tmp_path: Path) -> None:
    still, moved = animation(count=2)
    decoded, durations, _ = read_gif(
        write_gif([still, still, still, moved], tmp_path / "a.gif", fps=10)
    )
    assert len(decoded) == 2
    assert durations == [300, 100]


def test_gif_is_deterministic(tmp_path: Path) -> None:
    frames = animation(count=6)
    first = write_gif(frames, tmp_path / "a.gif").read_bytes()
    assert write_gif(frames, tmp_path / "b.gif").read_bytes() == first


def test_gif_fps_above_50_is_refused_as_players_slow_it_down(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="MP4"):
        write_gif(animation(count=2), tmp_path / "a.gif", fps=60)


def test_gif_unknown_palette_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="per-frame"):
        write_gif(animation(count=2), tmp_path / "a.gif", palette="global")


# --- MP4 ------------------------------------------------------------------------------------

# Pairs where moviepy's clip timing loses a frame (2.x) or adds one (1.0.3).
FRAME_COUNT_AND_FPS = [(30, 15), (7, 15), (10, 10), (29, 5), (31, 24), (3, 10), (25, 29.97)]


@pytest.mark.parametrize(("count", "fps"), FRAME_COUNT_AND_FPS)
def test_mp4_holds_every_frame_in_order(tmp_path: Path, count: int, fps: float) -> None:
    frames = animation(count=count, height=32, width=48)
    path = write_mp4(frames, tmp_path / "clip.mp4", fps=fps)
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == count
    decoded, meta = read_mp4(path)
    assert best_matching_indices(decoded, frames) == list(range(count))
    assert meta["size"] == (48, 32)
    assert meta["fps"] == pytest.approx(fps, abs=0.01)
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    assert psnr(frames, decoded) > 30


def test_mp4_pads_odd_sizes_to_even_for_yuv420p(tmp_path: Path) -> None:
    frames = animation(count=4, height=33, width=35)
    decoded, meta = read_mp4(write_mp4(frames, tmp_path / "odd.mp4", fps=12))
    assert meta["size"] == (36, 34)
    assert meta["pix_fmt"].startswith("yuv420p")
    assert psnr(frames, decoded[:, :33, :35]) > 30


def test_mp4_streams_a_generator(tmp_path: Path) -> None:
    frames = animation(count=9, height=16, width=16)
    path = write_mp4((frame for frame in frames), tmp_path / "gen.mp4", fps=9)
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 9


def test_mp4_quality_trades_size(tmp_path: Path) -> None:
    frames = animation(count=10)
    high = write_mp4(frames, tmp_path / "high.mp4", quality="high").stat().st_size
    low = write_mp4(frames, tmp_path / "low.mp4", quality="low").stat().st_size
    assert low < high
    with pytest.raises(InvalidInputError, match="quality"):
        write_mp4(frames, tmp_path / "best.mp4", quality="best")


def test_mp4_without_moviepy_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "moviepy.video.io.ffmpeg_writer", None)
    with pytest.raises(MissingDependencyError, match=r"gan_kit\[notebooks\]"):
        write_mp4(animation(count=2), tmp_path / "clip.mp4")
    assert files_in(tmp_path) == []


# --- moviepy clips ---------------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [True, False], ids=["moviepy-1.0.3", "moviepy-2"])
def test_clip_durations_give_exact_frame_counts_on_both_moviepy_lines(legacy: bool) -> None:
    """The two counting rules (see gan_kit.export.clip), over many (count, fps) pairs;
    n / fps itself gets many of them wrong on each line."""
    wrong_with_plain_division = 0
    for fps in (1, 5, 7.5, 10, 12, 15, 23.976, 24, 25, 29.97, 30, 50, 60):
        for count in range(1, 400):
            wrong_with_plain_division += (
                moviepy_frame_count(count / fps, fps, legacy=legacy) != count
            )
            duration = clip_duration(count, fps, legacy=legacy)
            assert moviepy_frame_count(duration, fps, legacy=legacy) == count, (count, fps)
            assert duration == pytest.approx(count / fps, rel=1e-12)
    assert wrong_with_plain_division > 50


@pytest.mark.parametrize(("count", "fps"), FRAME_COUNT_AND_FPS)
def test_a_clip_yields_every_frame_once_in_order(count: int, fps: float) -> None:
    pytest.importorskip("moviepy")
    frames = animation(count=count, height=8, width=16)
    clip = frames_clip(frames, fps)
    assert clip.fps == fps and clip.duration == pytest.approx(count / fps)
    assert np.array_equal(np.stack(list(clip_frames(clip))), frames)
    assert np.array_equal(np.stack(list(clip.iter_frames(fps=fps, dtype="uint8"))), frames)


@pytest.mark.parametrize(("count", "fps"), [(30, 15), (31, 24), (25, 29.97)])
def test_moviepy_writes_a_clip_with_every_frame(tmp_path: Path, count: int, fps: float) -> None:
    pytest.importorskip("moviepy")
    frames = animation(count=count, height=32, width=48)
    clip = frames_clip(frames, fps)
    clip.write_videofile(str(tmp_path / "clip.mp4"), fps=fps, logger=None)
    decoded, _ = read_mp4(tmp_path / "clip.mp4")
    assert best_matching_indices(decoded, frames) == list(range(count))
    gif_fps = min(fps, 25)
    gif = write_gif_with_moviepy(frames, tmp_path / "clip.gif", fps=gif_fps)
    decoded, durations, info = read_gif(gif)
    assert best_matching_indices(decoded, frames) == list(range(count))
    assert abs(sum(durations) - 1000 * count / gif_fps) < 15 and info["loop"] == 0


def test_a_composed_clip_goes_through_the_fast_gif_encoder(tmp_path: Path) -> None:
    pytest.importorskip("moviepy")
    try:
        from moviepy import concatenate_videoclips
    except ImportError:  # moviepy 1.0.3
        from moviepy.editor import concatenate_videoclips
    first, second = animation(count=6, height=8, width=16), animation(count=4, height=8, width=16)
    clip = concatenate_videoclips([frames_clip(first, 10), frames_clip(second[::-1], 10)])
    path = write_gif(clip_frames(clip, fps=10), tmp_path / "both.gif", fps=10)
    decoded, _, _ = read_gif(path)
    assert len(decoded) == 10
    with pytest.raises(InvalidInputError, match="the clip has no fps"):
        next(clip_frames(type("Clip", (), {"fps": None})()))


# --- PNG ------------------------------------------------------------------------------------


def test_png_round_trips_pixels_and_unicode_json_text(tmp_path: Path) -> None:
    image = animation(count=1)[0]
    recipe = {"model": "anime-portraits", "seeds": [0, 42], "psi": 0.7, "note": "顔 ✓ 🎨"}
    text = {"gan_kit.recipe": json.dumps(recipe, ensure_ascii=False), "Software": "gan_kit"}
    path = write_png(image, tmp_path / "grid.png", text=text)
    with Image.open(path) as png:
        assert png.format == "PNG"
        assert np.array_equal(np.asarray(png), image)
    assert read_png_text(path) == text
    assert json.loads(read_png_text(path)["gan_kit.recipe"]) == recipe


def test_png_takes_a_pil_image_and_keeps_its_mode(tmp_path: Path) -> None:
    image = Image.fromarray(animation(count=1)[0]).convert("RGBA")
    path = write_png(image, tmp_path / "a.png")
    with Image.open(path) as png:
        assert png.mode == "RGBA"
        assert np.array_equal(np.asarray(png), np.asarray(image))
    assert read_png_text(path) == {}


@pytest.mark.parametrize(
    "text", [{"": "empty key"}, {"k" * 80: "long key"}, {"顔": "not Latin-1"}, {"psi": 0.7}]
)
def test_png_bad_text_is_refused(tmp_path: Path, text: dict) -> None:
    with pytest.raises(InvalidInputError, match="PNG text"):
        write_png(animation(count=1)[0], tmp_path / "a.png", text=text)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((8, 8, 3), np.float32), "uint8"),
        (np.zeros((8, 8), np.uint8), "HxWx3"),
        ([[0, 0, 0]], "numpy array"),
    ],
)
def test_png_bad_image_is_refused(tmp_path: Path, image: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        write_png(image, tmp_path / "a.png")
    assert files_in(tmp_path) == []


def test_read_png_text_errors(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such file"):
        read_png_text(tmp_path / "missing.png")
    gif = write_gif(animation(count=2), tmp_path / "a.gif")
    with pytest.raises(InvalidInputError, match="not a PNG"):
        read_png_text(gif)
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not an image at all")
    with pytest.raises(InvalidInputError, match="not a readable PNG"):
        read_png_text(garbage)


# --- errors shared by the writers -----------------------------------------------------------

Writer = Callable[..., Path]
ANIMATION_WRITERS = [
    pytest.param(write_gif, ".gif", id="gif"),
    pytest.param(write_mp4, ".mp4", id="mp4"),
]


def write_png_of_first(frames: np.ndarray, path: Path, **options: object) -> Path:
    return write_png(frames[0], path, **options)


ALL_WRITERS = [*ANIMATION_WRITERS, pytest.param(write_png_of_first, ".png", id="png")]


@pytest.mark.parametrize(("writer", "suffix"), ANIMATION_WRITERS)
@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([], "no frames"),
        (np.zeros((0, 8, 8, 3), np.uint8), "no frames"),
        ((frame for frame in []), "no frames"),
        ([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 10, 3), np.uint8)], "same size"),
        ([np.zeros((8, 8, 3), np.float32)], "uint8"),
        ([np.zeros((8, 8), np.uint8)], "HxWx3"),
        ([np.zeros((8, 8, 4), np.uint8)], "HxWx3"),
        (np.zeros((8, 8, 3), np.uint8), r"\[N, H, W, 3\]"),
        (["not an array"], "numpy array"),
    ],
)
def test_bad_frames_are_refused(
    tmp_path: Path, writer: Writer, suffix: str, frames: object, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        writer(frames, tmp_path / f"a{suffix}")
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(("writer", "suffix"), ANIMATION_WRITERS)
@pytest.mark.parametrize("fps", [0, -15, float("nan"), float("inf"), "15", True])
def test_bad_fps_is_refused(tmp_path: Path, writer: Writer, suffix: str, fps: object) -> None:
    with pytest.raises(InvalidInputError, match="fps"):
        writer(animation(count=2), tmp_path / f"a{suffix}", fps=fps)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(("writer", "suffix"), ALL_WRITERS)
def test_wrong_extension_is_refused(tmp_path: Path, writer: Writer, suffix: str) -> None:
    with pytest.raises(InvalidInputError, match=f"should end in {suffix}"):
        writer(animation(count=2), tmp_path / "a.jpg")
    writer(animation(count=2), tmp_path / f"upper{suffix.upper()}")  # any case will do


@pytest.mark.parametrize(("writer", "suffix"), ALL_WRITERS)
def test_missing_folder_is_a_clear_error(tmp_path: Path, writer: Writer, suffix: str) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        writer(animation(count=2), tmp_path / "no" / "such" / f"a{suffix}")
    (tmp_path / "file").write_text("")
    with pytest.raises(ExportError, match="not a folder"):
        writer(animation(count=2), tmp_path / "file" / f"a{suffix}")


@pytest.mark.parametrize(("writer", "suffix"), ALL_WRITERS)
def test_a_file_that_cannot_be_created_is_a_clear_error(
    tmp_path: Path, writer: Writer, suffix: str
) -> None:
    too_long = tmp_path / ("n" * 250 + suffix)  # the temporary name beside it is too long
    with pytest.raises(ExportError, match="cannot create a file"):
        writer(animation(count=2), too_long)
    assert files_in(tmp_path) == []


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder this process cannot create files in: a read-only folder, or for root (who
    may write in those) /proc, where nobody can create files."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        (folder / "probe").touch()
    except PermissionError:
        yield folder
    else:
        yield Path("/proc")
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize(("writer", "suffix"), ALL_WRITERS)
def test_read_only_folder_is_a_clear_error(
    read_only_folder: Path, writer: Writer, suffix: str
) -> None:
    with pytest.raises(ExportError, match="cannot create a file"):
        writer(animation(count=2), read_only_folder / f"a{suffix}")
    assert not (read_only_folder / f"a{suffix}").exists()
    assert not list(read_only_folder.glob(f".a.*{suffix}"))  # no temporary file either


@pytest.mark.parametrize(("writer", "suffix"), ALL_WRITERS)
def test_existing_file_is_kept_unless_overwrite(
    tmp_path: Path, writer: Writer, suffix: str
) -> None:
    path = tmp_path / f"a{suffix}"
    path.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        writer(animation(count=2), path)
    assert path.read_bytes() == b"precious"
    writer(animation(count=2), path, overwrite=True)
    assert path.read_bytes() != b"precious"
    assert files_in(tmp_path) == [path.name]


@pytest.mark.parametrize(("writer", "suffix"), ANIMATION_WRITERS)
def test_a_bad_path_is_refused_before_any_frame_is_rendered(
    tmp_path: Path, writer: Writer, suffix: str
) -> None:
    rendered = []

    def frames() -> Iterator[np.ndarray]:
        rendered.append("a frame")
        yield from animation(count=2)

    (tmp_path / f"a{suffix}").write_bytes(b"precious")
    with pytest.raises(OutputExistsError):
        writer(frames(), tmp_path / f"a{suffix}")
    with pytest.raises(ExportError, match="does not exist"):
        writer(frames(), tmp_path / "missing" / f"a{suffix}")
    with pytest.raises(InvalidInputError, match="fps"):
        writer(frames(), tmp_path / f"b{suffix}", fps=0)
    assert rendered == []


def test_every_error_is_a_gan_kit_error() -> None:
    for error in (ExportError, OutputExistsError, InvalidInputError, MissingDependencyError):
        assert issubclass(error, GanKitError)
    assert issubclass(OutputExistsError, FileExistsError)


# --- atomicity ------------------------------------------------------------------------------


def test_atomic_path_moves_a_finished_file_into_place(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path
        assert temporary.suffix == ".mp4"  # encoders choose the format by extension
        assert temporary.name.startswith(".")
        assert not target.exists()
        temporary.write_bytes(b"done")
    assert target.read_bytes() == b"done"
    assert files_in(tmp_path) == ["out.mp4"]


@pytest.mark.parametrize("interruption", [RuntimeError, KeyboardInterrupt])
def test_atomic_path_failure_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, interruption: type[BaseException]
) -> None:
    target = tmp_path / "out.gif"
    target.write_bytes(b"old")
    with pytest.raises(interruption), atomic_path(target, overwrite=True) as temporary:
        temporary.write_bytes(b"half")
        raise interruption
    assert target.read_bytes() == b"old"
    assert files_in(tmp_path) == ["out.gif"]


def test_atomic_path_refuses_a_file_that_appeared_while_writing(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    with pytest.raises(OutputExistsError), atomic_path(target) as temporary:
        temporary.write_bytes(b"mine")
        target.write_bytes(b"theirs")
    assert target.read_bytes() == b"theirs"
    assert files_in(tmp_path) == ["out.png"]


def test_mp4_failing_mid_stream_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"old video")

    def frames_then_a_bad_one() -> Iterator[np.ndarray]:
        yield from animation(count=5, height=16, width=16)
        yield np.zeros((8, 8, 3), np.uint8)

    with pytest.raises(InvalidInputError, match="frame 5"):
        write_mp4(frames_then_a_bad_one(), path, overwrite=True)
    assert path.read_bytes() == b"old video"
    assert files_in(tmp_path) == ["clip.mp4"]


def test_gif_failing_mid_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.gif"
    path.write_bytes(b"old gif")

    def save_half_then_fail(image: Image.Image, target: Path, **options: object) -> None:
        Path(target).write_bytes(b"GIF89a half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", save_half_then_fail)
    with pytest.raises(ExportError, match="No space left"):
        write_gif(animation(count=3), path, overwrite=True)
    assert path.read_bytes() == b"old gif"
    assert files_in(tmp_path) == ["a.gif"]


def test_a_gif_still_longer_than_a_frame_can_last_is_a_clear_error(tmp_path):
    still = np.zeros((10, 8, 8, 3), np.uint8)  # merged into one frame of 1000 s
    with pytest.raises(ExportError, match="lasts longer than a GIF frame can"):
        write_gif(still, tmp_path / "still.gif", fps=0.01)
    assert not list(tmp_path.iterdir())


def test_temporary_files_of_killed_writers_are_removed_by_the_next_write(tmp_path: Path) -> None:
    import os
    import subprocess
    import time

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = tmp_path / f".grid.{child.pid}-0123abcd.tmp.png"  # a killed export's
    fresh = tmp_path / f".grid.{child.pid}-4567abcd.tmp.png"  # maybe another machine's, writing
    mine = tmp_path / f".grid.{os.getpid()}-89abcdef.tmp.png"  # a live process's
    users = tmp_path / ".notes.tmp.png"  # not a name atomic_path gives
    for path in (stale, fresh, mine, users):
        path.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    for path in (stale, mine, users):
        os.utime(path, (an_hour_ago, an_hour_ago))
    write_png(np.zeros((2, 2, 3), np.uint8), tmp_path / "grid.png")
    assert not stale.exists() and fresh.exists() and mine.exists() and users.exists()
