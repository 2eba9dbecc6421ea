"""`InterpolationStudio`: a path through keyframe seeds, previewed live frame by frame
(an `ipywidgets.Play` drives the frame), exported as GIF or MP4 with a progress bar, a
cancel button and a download."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch

from gan_kit.errors import InvalidInputError
from gan_kit.explore import Explorer
from gan_kit.explore.animation import AnimationPath
from gan_kit.explore.memory import check_host_memory
from gan_kit.export import write_gif, write_mp4
from gan_kit.export.clip import write_gif_with_moviepy
from gan_kit.export.paths import checked_output_path
from gan_kit.files import make_folder
from gan_kit.latents.interpolation import EASINGS, checked_frames_per_segment
from gan_kit.latents.seeds import checked_seeds, parse_seeds
from gan_kit.widgets.controls import int_slider, psi_slider, reach
from gan_kit.widgets.preview import Job, Preview

# The export choices: file suffix and writer. "gif" is gan_kit's fast shared-palette
# encoder; "gif (moviepy)" goes through moviepy's own GIF writer.
WRITERS: dict[str, tuple[str, Callable[..., Path]]] = {
    "gif": (".gif", write_gif),
    "gif (moviepy)": (".gif", write_gif_with_moviepy),
    "mp4": (".mp4", write_mp4),
}


def offer_download(path: Path, output: widgets.Output) -> None:
    """Let the user fetch `path`: Colab's browser download, elsewhere a link in `output`
    (a notebook server serves files beside the notebook)."""
    from IPython.display import FileLink, display

    output.clear_output()
    with output:
        try:
            from google.colab import files
        except ImportError:
            display(FileLink(os.path.relpath(path)))
        else:
            files.download(str(path))


@dataclass(frozen=True)
class StudioFrame:
    """What the studio's preview shows: frame `index` of `path`."""

    path: AnimationPath
    index: int


class InterpolationStudio:
    """Keyframe seeds, frames per segment, easing, loop, slerp / lerp, truncation and fps,
    previewed live at the Play control's frame; "render all" renders every frame ahead
    (so that Play runs smoothly), "export" writes `folder/name.gif` or `.mp4` and offers it
    for download. Both show their progress and can be cancelled.

    Args:
        explorer: the model (`gan_kit.explorer(...)`).
        seeds: the keyframe seeds.
        frames_per_segment: frames from one keyframe to the next.
        psi: the truncation (default: the model's, `explorer.psi_default`); the slider
            spans the model's `psi_range`, widened to reach `psi`.
        folder: where exports are written.
    """

    def __init__(
        self,
        explorer: Explorer,
        *,
        seeds: tuple[int, ...] = (1, 2, 3),
        frames_per_segment: int = 12,
        psi: float | None = None,
        folder: str | Path = ".",
    ) -> None:
        self.explorer = explorer
        self.folder = Path(folder)
        self.keyframes = widgets.Text(
            description="keyframes",
            value=", ".join(map(str, checked_seeds(seeds))),
            continuous_update=False,
        )
        self.frames = int_slider("frames", 1, 60, 1)
        reach(self.frames, checked_frames_per_segment(frames_per_segment))
        self.easing = widgets.Dropdown(description="easing", options=list(EASINGS), value="linear")
        self.loop = widgets.Checkbox(description="loop", value=True)
        self.method = widgets.ToggleButtons(
            options=["slerp", "lerp"], value="slerp", style={"button_width": "64px"}
        )
        self.psi = psi_slider(explorer, psi)
        self.fps = widgets.IntSlider(description="fps", min=1, max=50, value=15)
        self.play = widgets.Play(min=0, max=0, value=0, interval=self._interval())
        self.frame = widgets.IntSlider(description="frame", min=0, max=0, value=0)
        widgets.jslink((self.play, "value"), (self.frame, "value"))
        self.render_button = widgets.Button(description="render all")
        self.render_button.on_click(lambda _: self._start(self._render_all(), "rendering"))
        self.format = widgets.Dropdown(description="format", options=list(WRITERS), value="gif")
        self.name = widgets.Text(description="file name", value="interpolation")
        self.overwrite = widgets.Checkbox(description="replace an existing file", value=False)
        self.export_button = widgets.Button(description="export")
        self.export_button.on_click(lambda _: self._export_clicked())
        self.cancel_button = widgets.Button(description="cancel", disabled=True)
        self.cancel_button.on_click(lambda _: self.preview.cancel_job())
        self.progress = widgets.FloatProgress(min=0.0, max=1.0, value=0.0, description="")
        self.progress.layout.visibility = "hidden"
        self.download = widgets.Output()
        self.preview = Preview(
            self._render_frame,
            self.describe,
            explorer.resolution,
            controls=[self.frames, self.psi, self.frame],
        )
        self._path: AnimationPath | None = None  # the path whose frames are cached
        self._styles: torch.Tensor | None = None
        self._cached: dict[int, np.ndarray] = {}
        for control in [self.keyframes, self.frames, self.easing, self.loop, self.method]:
            control.observe(lambda _: self._path_changed(), "value")
        self.psi.observe(lambda _: self._path_changed(), "value")
        self.fps.observe(lambda _: setattr(self.play, "interval", self._interval()), "value")
        for control in (self.play, self.frame):  # linked in the page; either may come first
            control.observe(lambda change: self._show_frame(change["new"]), "value")

        settings = [self.keyframes, self.frames, self.easing, self.loop, self.method, self.psi]
        player = widgets.HBox([self.play, self.frame, self.render_button])
        export = widgets.HBox([self.format, self.name, self.overwrite, self.export_button])
        jobs = widgets.HBox([self.progress, self.cancel_button])
        viewer = widgets.VBox([self.preview.widget, player])
        self.widget = widgets.VBox(
            [
                widgets.HBox([widgets.VBox([*settings, self.fps]), viewer]),
                export,
                jobs,
                self.download,
            ]
        )
        self._path_changed()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _interval(self) -> int:
        return round(1000 / self.fps.value)

    # --- the path and its frames ----------------------------------------------------------

    def path(self) -> AnimationPath:
        """The animation the controls describe."""
        return AnimationPath(
            seeds=parse_seeds(self.keyframes.value),
            frames_per_segment=self.frames.value,
            loop=self.loop.value,
            method=self.method.value,
            easing=self.easing.value,
            psi=round(self.psi.value, 4),
            fps=self.fps.value,
        )

    def describe(self, frame: StudioFrame) -> str:
        """The status line's account of `frame`."""
        path = frame.path
        shape = "loop" if path.loop else "path"
        seeds = ", ".join(map(str, path.seeds))
        return f"{shape} through seeds {seeds} · {path.method} · frame {frame.index + 1}"

    def _frames_of(self, path: AnimationPath) -> torch.Tensor:
        """The style codes of `path`'s frames; the frame cache follows the path."""
        key = replace(path, fps=1)  # the frame rate changes no frame
        if key != self._path:
            self._path, self._styles, self._cached = key, path.styles(self.explorer), {}
        return self._styles

    def _render_frame(self, frame: StudioFrame) -> np.ndarray:
        styles = self._frames_of(frame.path)
        if frame.index not in self._cached:
            pixels = self.explorer.render_uint8(styles[frame.index : frame.index + 1])[0]
            self._cached[frame.index] = pixels
        return self._cached[frame.index]

    def frame_count(self, path: AnimationPath) -> int:
        """How many frames `path` has."""
        return len(self._frames_of(path))

    def _path_changed(self) -> None:
        try:
            path = self.path()
            count = self.frame_count(path)
        except InvalidInputError as error:
            self.preview.status.value = str(error)
            return
        with self.preview.hold():
            self.play.max = self.frame.max = count - 1
            self.preview.show(StudioFrame(path, min(self.frame.value, count - 1)))

    def _show_frame(self, index: int) -> None:
        """The Play control (or the frame slider) moved: show frame `index`. Without the
        live pane, only frames rendered already are shown while playing (each new frame
        would queue a render behind the next tick); "render all" renders them."""
        try:
            frame = StudioFrame(self.path(), index)
        except InvalidInputError as error:
            self.preview.status.value = str(error)
            return
        playing = getattr(self.play, "playing", getattr(self.play, "_playing", False))
        if not self.preview.live and playing and frame.index not in self._cached:
            self.preview.status.value = "press 'render all' to play every frame"
            return
        self.preview.show(frame)

    # --- jobs: render all, export ---------------------------------------------------------

    def _render_all(self, path: AnimationPath | None = None) -> Generator[float, None, None]:
        """Render every frame of `path` (default: the current one) into the cache."""
        path = path or self.path()
        count = self.frame_count(path)
        check_host_memory(count * 3 * self.explorer.resolution**2, f"{count} frames")
        for index in range(count):
            self._render_frame(StudioFrame(path, index))
            yield (index + 1) / count

    def render_preview(self) -> None:
        """Render every frame of the current path now (Play then shows them at once)."""
        for _ in self._render_all():
            pass

    def _export_steps(self, fmt: str | None) -> Generator[float, None, Path]:
        """Check the target, render what is not rendered yet, then write the file."""
        path = self.path()
        writer_name = fmt or self.format.value
        if writer_name not in WRITERS:
            raise InvalidInputError(
                f"the export format is one of {', '.join(map(repr, WRITERS))}, not {fmt!r}"
            )
        suffix, writer = WRITERS[writer_name]
        make_folder(self.folder)
        target = checked_output_path(
            self.folder / f"{self.name.value}{suffix}", suffix, overwrite=self.overwrite.value
        )
        for progress in self._render_all(path):
            yield 0.95 * progress  # the encoding takes the rest
        frames = [self._cached[index] for index in range(self.frame_count(path))]
        return writer(frames, target, fps=path.fps, overwrite=self.overwrite.value)

    def export(self, fmt: str | None = None) -> Path:
        """Write the animation now as `folder/name` + the format's suffix (`fmt`: "gif",
        "gif (moviepy)" or "mp4"; default: the format control's) and offer it for
        download; an existing file is replaced only with "replace" ticked. Frames the
        preview rendered are reused."""
        steps = self._export_steps(fmt)
        try:
            while True:
                next(steps)
        except StopIteration as done:
            target = done.value
        offer_download(target, self.download)
        return target

    def _export_clicked(self) -> None:
        """The export button: paced by the page, with progress and cancel; errors go to
        the status line (a callback's exception would vanish into the kernel's log)."""
        self._start(self._export_steps(None), "export", self._exported)

    def _exported(self, target: Path) -> None:
        offer_download(target, self.download)
        self.preview.status.value = f"exported {target}"

    def _start(
        self,
        steps: Generator[float, None, object],
        what: str,
        on_done: Callable[[object], None] | None = None,
    ) -> None:
        """Run `steps` as a job of the preview, its progress in the progress bar."""
        self.progress.value, self.progress.layout.visibility = 0.0, "visible"
        self.cancel_button.disabled = False

        def ended(job: Job) -> None:
            self.progress.layout.visibility = "hidden"
            self.cancel_button.disabled = True
            if job.error is not None:
                self.preview.status.value = f"{what} failed: {job.error}"
            elif job.cancelled:
                self.preview.status.value = f"{what} cancelled: nothing was written"
            elif on_done is not None:
                on_done(job.result)

        self.preview.run(Job(steps, lambda value: setattr(self.progress, "value", value), ended))
