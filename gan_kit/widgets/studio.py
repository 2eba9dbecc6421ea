"""`InterpolationStudio`: a path through keyframe seeds, previewed frame by frame with an
`ipywidgets.Play`, exported as GIF or MP4 with a download link."""

from __future__ import annotations

import os
from pathlib import Path

import ipywidgets as widgets

from gan_kit.errors import GanKitError, InvalidInputError
from gan_kit.explore import Explorer, save_animation
from gan_kit.explore.animation import AnimationPath, animation_writer
from gan_kit.files import make_folder
from gan_kit.latents.interpolation import EASINGS, checked_frames_per_segment
from gan_kit.latents.seeds import parse_seeds
from gan_kit.latents.truncation import checked_psi
from gan_kit.widgets.controls import float_slider, int_slider, reach
from gan_kit.widgets.preview import Preview

FORMATS = ("gif", "mp4")


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


class InterpolationStudio:
    """Keyframe seeds, frames per segment, easing, loop, slerp / lerp, truncation and fps;
    "preview" renders every frame (the newest settings win) for the Play control, "export"
    writes `folder/name.gif` or `.mp4` and offers it for download."""

    def __init__(
        self,
        explorer: Explorer,
        *,
        seeds: tuple[int, ...] = (1, 2, 3),
        frames_per_segment: int = 12,
        psi: float = 0.7,
        folder: str | Path = ".",
        threaded: bool | None = None,
    ) -> None:
        self.explorer = explorer
        self.folder = Path(folder)
        self.keyframes = widgets.Text(description="keyframes", value=", ".join(map(str, seeds)))
        self.frames = int_slider("frames", 1, 60, 1)
        reach(self.frames, checked_frames_per_segment(frames_per_segment))
        self.easing = widgets.Dropdown(description="easing", options=list(EASINGS), value="linear")
        self.loop = widgets.Checkbox(description="loop", value=True)
        self.method = widgets.ToggleButtons(
            options=["slerp", "lerp"], value="slerp", style={"button_width": "64px"}
        )
        self.psi = float_slider("psi", 0.0, 1.5, 0.0)
        reach(self.psi, checked_psi(psi))
        self.fps = widgets.IntSlider(description="fps", min=1, max=50, value=15)
        self.preview_button = widgets.Button(description="preview")
        self.preview_button.on_click(lambda _: self.render_preview())
        self.play = widgets.Play(min=0, max=0, value=0, interval=self._interval())
        self.frame = widgets.IntSlider(description="frame", min=0, max=0, value=0)
        widgets.jslink((self.play, "value"), (self.frame, "value"))
        self.play.observe(lambda change: self.preview.show_frame(change["new"]), "value")
        self.fps.observe(lambda _: setattr(self.play, "interval", self._interval()), "value")
        self.format = widgets.ToggleButtons(
            options=list(FORMATS), value="gif", style={"button_width": "64px"}
        )
        self.name = widgets.Text(description="file name", value="interpolation")
        self.overwrite = widgets.Checkbox(description="replace an existing file", value=False)
        self.export_button = widgets.Button(description="export")
        self.export_button.on_click(lambda _: self._export_clicked())
        self.download = widgets.Output()
        self.preview = Preview(
            lambda path: explorer.render_uint8(path.styles(explorer), noise_mode=path.noise_mode),
            self.describe,
            explorer.resolution,
            threaded=threaded,
            on_draw=self._rewind,
        )
        settings = [self.keyframes, self.frames, self.easing, self.loop, self.method, self.psi]
        player = widgets.HBox([self.play, self.frame])
        export = widgets.HBox([self.format, self.name, self.overwrite, self.export_button])
        viewer = widgets.VBox([self.preview.widget, player])
        self.widget = widgets.VBox(
            [
                widgets.HBox([widgets.VBox([*settings, self.fps, self.preview_button]), viewer]),
                export,
                self.download,
            ]
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _interval(self) -> int:
        return round(1000 / self.fps.value)

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

    def describe(self, path: AnimationPath) -> str:
        shape = "loop" if path.loop else "path"
        return f"{shape} through seeds {', '.join(map(str, path.seeds))} · {path.method}"

    def render_preview(self) -> None:
        """Render every frame of the current path (in the background inside a kernel)."""
        try:
            path = self.path()
        except InvalidInputError as error:
            self.preview.status.value = str(error)
            return
        self.preview.show(path)

    def _rewind(self, _path: AnimationPath) -> None:
        last = len(self.preview.drawn.frames) - 1
        self.play.value = self.frame.value = 0
        self.play.max = self.frame.max = last
        self.preview.status.value += f" · {last + 1} frames"

    def _export_clicked(self) -> None:
        """The export button: errors go to the status line (a callback's exception would
        vanish into the kernel's log)."""
        try:
            self.export()
        except GanKitError as error:
            self.preview.status.value = f"not exported: {error}"

    def export(self, fmt: str | None = None) -> Path:
        """Write the animation as `folder/name.gif` or `.mp4` and offer it for download; an
        existing file is replaced only with the "replace" box ticked. Reuses the previewed
        frames when they show the current path."""
        path = self.path()
        target = self.folder / f"{self.name.value}.{fmt or self.format.value}"
        make_folder(self.folder)
        overwrite = self.overwrite.value
        previewed = self.preview.pixels_of(path)
        if previewed is not None:
            animation_writer(target)(previewed, target, fps=path.fps, overwrite=overwrite)
        else:
            styles = path.styles(self.explorer)
            save_animation(
                self.explorer,
                styles,
                target,
                fps=path.fps,
                overwrite=overwrite,
                noise_mode=path.noise_mode,
            )
        offer_download(target, self.download)
        return target
