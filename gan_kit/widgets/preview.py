"""The image pane of every explorer: the newest requested state, drawn as JPEG, with a
status line; and long jobs (exports) cut into steps that the page paces.

Two modes, both on the kernel's main thread only (Colab drops widget updates sent from
other threads):

- live, once the anywidget pane (`gan_kit.widgets.pane`) says hello from the page: a
  frame is sent only when the page has said that the previous one arrived; `show(state)`
  renders at once when no frame is on its way, else only stores the state, and the
  page's word that the frame arrived makes the kernel render whatever is newest then.
  Sliders update continuously.
- static, until then or where the pane cannot load (no anywidget, a viewer without its
  front end): sliders update on release (`continuous_update=False`) and each change
  renders at once into a core `ipywidgets.Image`; the status line says so.

JPEG, because encoding a 512 px frame takes about 2 ms against 60 ms for PNG and 140 ms for
a matplotlib redraw.
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import ipywidgets as widgets
import numpy as np
from PIL import Image

State = TypeVar("State")
Result = TypeVar("Result")

JPEG_QUALITY = 85
STEP_SECONDS = 0.25  # work done per step of a paced job, so "cancel" is read this often
LOST_FRAME_SECONDS = 30.0  # a frame the page has not confirmed by then is taken as lost
_STATIC_NOTE = "static preview: updates when a slider is released"
_NO_ANYWIDGET_NOTE = "static preview (pip install anywidget for the live one)"


def jpeg_bytes(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """`image` (uint8 HxWx3) as JPEG file bytes at `quality` (1-95)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def display_width(resolution: int) -> str:
    """Small models are shown enlarged (at least 256 px wide), big ones at their size."""
    return f"{max(256, resolution)}px"


def _frame_pane(width: str, pixelated: bool) -> widgets.DOMWidget | None:
    """The live pane, or None where anywidget is not installed."""
    try:
        from gan_kit.widgets.pane import FramePane
    except ImportError:
        return None
    return FramePane(width=width, pixelated=pixelated, layout=widgets.Layout(display="none"))


@dataclass(frozen=True)
class Drawn(Generic[State]):
    """A rendered state: its pixels (uint8 [R, R, 3]) and JPEG bytes, and its sequence
    number (the count of `show` calls when it was drawn)."""

    state: State
    pixels: np.ndarray
    jpeg: bytes
    seq: int


class Job(Generic[Result]):
    """A long task run in steps: `steps` yields its progress (0 to 1) between pieces of
    work and returns its result. `on_progress(fraction)` follows it; `on_end(job)` runs
    once at the end, when `result`, `error` or `cancelled` says how it ended."""

    def __init__(
        self,
        steps: Generator[float, None, Result],
        on_progress: Callable[[float], None],
        on_end: Callable[[Job[Result]], None],
    ) -> None:
        self.steps, self.on_progress, self.on_end = steps, on_progress, on_end
        self.finished = self.cancelled = False
        self.result: Result | None = None
        self.error: Exception | None = None

    def advance(self, seconds: float | None) -> bool:
        """Work for about `seconds`, at least one piece (None: to the end); True while
        work is left."""
        deadline = None if seconds is None else time.perf_counter() + seconds
        try:
            while True:
                self.on_progress(next(self.steps))
                if deadline is not None and time.perf_counter() >= deadline:
                    break
        except StopIteration as done:
            self.result = done.value
            self._end()
        except Exception as error:  # shown in the page; the explorer must survive it
            self.error = error
            self._end()
        return not self.finished

    def cancel(self) -> None:
        """Stop now: the steps' clean-up runs (a half-written file is removed)."""
        if not self.finished:
            self.steps.close()
            self.cancelled = True
            self._end()

    def _end(self) -> None:
        self.finished = True
        self.on_end(self)


class Preview(Generic[State]):
    """`show(state)` draws `render(state)` (uint8 [R, R, 3] of a `resolution` px model)
    with `describe(state)` and the render time in `status`; see the module doc for the
    live and static modes. `controls` are the sliders whose `continuous_update` follows
    the mode; `on_click(x, y)` gets where the live image was clicked (0 to 1 across and
    down); `drawn` is the newest frame rendered (None before the first), `frames_rendered`
    counts renders; `widget` holds the image (or the live pane) over the status line."""

    def __init__(
        self,
        render: Callable[[State], np.ndarray],
        describe: Callable[[State], str],
        resolution: int,
        *,
        controls: Sequence[widgets.Widget] = (),
        on_click: Callable[[float, float], None] | None = None,
    ) -> None:
        self._render, self._describe = render, describe
        width = display_width(resolution)
        self.image = widgets.Image(format="jpeg", layout=widgets.Layout(width=width))
        self.status = widgets.Label(value="")
        self.pane = _frame_pane(width, pixelated=resolution < 256)
        self.live = False
        self.drawn: Drawn[State] | None = None
        self.frames_rendered = 0
        self._controls = list(controls)
        for control in self._controls:
            control.continuous_update = False
        self._latest: State | None = None
        self._seq = 0  # counts `show` calls
        self._requested_at = 0.0  # when the newest state was shown (time.time())
        self._held = 0
        self._sent_seq = 0  # the `show` count of the newest state sent to the page
        self._on_its_way: float | None = None  # when the unconfirmed frame was sent
        self._job: Job | None = None
        self._job_ids = itertools.count(1)
        if self.pane is not None:
            self.pane.on_hello = self._go_live
            self.pane.on_drawn = self._drawn
            self.pane.on_step = self._step
            if on_click is not None:
                self.pane.clickable, self.pane.on_click = True, on_click
        images = [self.image] if self.pane is None else [self.image, self.pane]
        self.widget = widgets.VBox([*images, self.status])

    # --- frames ---------------------------------------------------------------------------

    def show(self, state: State) -> None:
        """Ask for `state` to be drawn; it replaces any state not drawn yet."""
        self._latest, self._seq, self._requested_at = state, self._seq + 1, time.time()
        if not self._held:
            self._publish()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Collect the `show` calls made inside the block; draw only the last, at its end."""
        seq = self._seq
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._seq != seq:
                self._publish()

    def pixels_of(self, state: State) -> np.ndarray | None:
        """The pixels drawn for `state`, if it is the newest frame drawn."""
        drawn = self.drawn
        return drawn.pixels if drawn is not None and drawn.state == state else None

    def _publish(self) -> None:
        if not self.live:
            self._draw_static()
        elif self._on_its_way is None or time.monotonic() - self._on_its_way > LOST_FRAME_SECONDS:
            self._send_newest()
        # else: the page's word that the frame on its way arrived brings the newest state

    def _newest_frame(self) -> tuple[Drawn[State], float, float]:
        """The frame of the newest state (reused if drawn already), with its render and
        encode times in ms."""
        state, seq = self._latest, self._seq
        if self.drawn is not None and self.drawn.state == state:
            self.drawn = Drawn(state, self.drawn.pixels, self.drawn.jpeg, seq)
            return self.drawn, 0.0, 0.0
        started = time.perf_counter()
        pixels = self._render(state)
        rendered = time.perf_counter()
        jpeg = jpeg_bytes(pixels)
        encoded = time.perf_counter()
        self.frames_rendered += 1
        self.drawn = Drawn(state, pixels, jpeg, seq)
        return self.drawn, (rendered - started) * 1000, (encoded - rendered) * 1000

    def _draw_static(self) -> None:
        try:
            drawn, render_ms, _ = self._newest_frame()
        except Exception as error:  # shown in the status line; the explorer goes on
            self._report_failure(error)
            return
        self.image.value = drawn.jpeg
        self._report(drawn.state, render_ms)

    def _drawn(self, _seq: int) -> None:
        """The page says a frame arrived: send the newest state if it was not sent yet."""
        self._on_its_way = None
        if self._sent_seq < self._seq:
            self._send_newest()

    def _send_newest(self) -> None:
        """Render the newest state (unless drawn already) and send it to the page."""
        if self._latest is None:
            return
        self._sent_seq, self._on_its_way = self._seq, time.monotonic()
        try:
            drawn, render_ms, encode_ms = self._newest_frame()
        except Exception as error:  # shown in the status line; the explorer goes on
            self.pane.send_frame(self._seq, None, rendered=self.frames_rendered, error=str(error))
            self._report_failure(error)
            return
        self.pane.send_frame(
            drawn.seq,
            drawn.jpeg,
            render_ms=render_ms,
            encode_ms=encode_ms,
            rendered=self.frames_rendered,
            requested_at=self._requested_at,
        )
        self._report(drawn.state, render_ms)

    def _report(self, state: State, render_ms: float) -> None:
        parts = [self._describe(state), f"{render_ms:.0f} ms"]
        if not self.live:
            parts.append(_STATIC_NOTE if self.pane is not None else _NO_ANYWIDGET_NOTE)
        self.status.value = " · ".join(parts)

    def _report_failure(self, error: Exception) -> None:
        self.status.value = f"{self._describe(self._latest)} · failed: {error}"

    def _go_live(self) -> None:
        """The page's pane runs: it paces the frames from now on."""
        if not self.live:
            self.live = True
            self.image.layout.display = "none"
            self.pane.layout.display = None
            for control in self._controls:
                control.continuous_update = True
        self._on_its_way = None
        self._send_newest()  # also to a page that was reloaded

    # --- jobs -----------------------------------------------------------------------------

    def run(self, job: Job) -> None:
        """Run `job`: stepped by the page in live mode (between steps the kernel reads
        other clicks, "cancel" among them), else to its end now. One job at a time: a
        running one is cancelled first."""
        self.cancel_job()
        if not self.live:
            job.advance(None)
            return
        self._job = job
        self.pane.job = next(self._job_ids)

    def cancel_job(self) -> None:
        """Cancel the running job, if any."""
        job, self._job = self._job, None
        if self.pane is not None:
            self.pane.job = 0
        if job is not None:
            job.cancel()

    @property
    def job_running(self) -> bool:
        """Whether a job runs (stepped by the page)."""
        return self._job is not None and not self._job.finished

    def _step(self, job_id: int) -> None:
        """The page asks for the next step of job `job_id` (live mode)."""
        job = self._job if job_id == self.pane.job else None
        if job is not None and not job.advance(STEP_SECONDS):
            self._job = None
            self.pane.job = 0
        self.pane.step_done(job_id)
