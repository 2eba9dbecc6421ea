"""The page's half of every live view: a small anywidget that paces the kernel's work.

Colab never shows widget updates sent from a background thread (colabtools#3373), so
nothing here runs in one: the kernel only works while it handles a message, on its main
thread. A frame goes to the page as JPEG bytes in a binary buffer, and the kernel sends
the next one only once the page says the last has arrived: at most one frame is on its
way, the states passed over meanwhile are never rendered, and the newest always is. (The
kernel renders a new state at once when nothing is on its way, so a lone slider step
costs one trip, not a request and a reply.) Long work (an export) is cut into steps, and
the pane asks for the next step when the last has finished, so the kernel reads a click
on "cancel" between two steps.

Messages, page -> kernel: {"type": "hello"} once the pane's JavaScript runs;
{"type": "drawn", "seq"} when frame `seq` has arrived; {"type": "step", "job": id}: do
a step of job `id`; {"type": "click", "x", "y"} where the image was clicked (0 to 1
across and down), while `clickable`. Kernel -> page: {"type": "frame", "seq",
"render_ms", "encode_ms", "rendered", "requested_at", "sent_at", "error"} with the JPEG
as its buffer (none on error; the two times are the kernel's clock, in ms since the
epoch); {"type": "step", "job"} when the step is done; the job in progress is the `job`
trait (0: none).

The ES module is inline (no build step, no CDN at run time). It records each frame's
timings in `globalThis.ganKitFrames` (the last 1000), which the browser tests and
benchmarks read.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import anywidget
import traitlets

PANE_ESM = r"""
const panes = new Map();  // pane_key -> what every view of one pane shares
const LOG_SIZE = 1000;

function log(entry) {
  const frames = (globalThis.ganKitFrames = globalThis.ganKitFrames || []);
  frames.push(entry);
  if (frames.length > LOG_SIZE) frames.splice(0, frames.length - LOG_SIZE);
}

function initialize({ model }) {
  const key = model.get("pane_key");
  const pane = { views: new Set(), url: null, stepping: false };
  panes.set(key, pane);

  function step() {
    const job = model.get("job");
    if (!job || pane.stepping) return;
    pane.stepping = true;
    model.send({ type: "step", job });
  }

  async function show(msg, buffers) {
    const received = performance.now();
    const arrived = Date.now();
    model.send({ type: "drawn", seq: msg.seq });  // the next render overlaps this decode
    if (!buffers || !buffers.length) return;
    const url = URL.createObjectURL(new Blob([buffers[0]], { type: "image/jpeg" }));
    const old = pane.url;
    pane.url = url;
    const images = [...pane.views];
    for (const img of images) img.src = url;
    await Promise.all(images.map((img) => img.decode().catch(() => null)));
    if (old) URL.revokeObjectURL(old);
    for (const img of images) {
      img.dataset.seq = String(msg.seq);
      img.dataset.rendered = String(msg.rendered);
      img.dataset.drawn = String(Number(img.dataset.drawn || 0) + 1);
    }
    log({
      key, seq: msg.seq, received, decoded: performance.now(), received_at: arrived,
      requested_at: msg.requested_at, sent_at: msg.sent_at,
      render_ms: msg.render_ms, encode_ms: msg.encode_ms, bytes: buffers[0].byteLength,
      rendered: msg.rendered,
    });
  }

  model.on("change:job", step);
  model.on("msg:custom", (msg, buffers) => {
    if (msg.type === "frame") show(msg, buffers);
    else if (msg.type === "step") {
      pane.stepping = false;
      step();
    }
  });
  model.send({ type: "hello" });
  step();
  return () => {
    panes.delete(key);
    if (pane.url) URL.revokeObjectURL(pane.url);
  };
}

function render({ model, el }) {
  const pane = panes.get(model.get("pane_key"));
  const img = document.createElement("img");
  img.className = "gan-kit-frame";
  img.alt = "gan_kit preview";
  const size = () => {
    img.style.width = model.get("width");
    img.style.imageRendering = model.get("pixelated") ? "pixelated" : "auto";
  };
  size();
  model.on("change:width", size);
  if (pane.url) img.src = pane.url;
  img.addEventListener("click", (event) => {
    if (!model.get("clickable") || !img.clientWidth || !img.clientHeight) return;
    const x = event.offsetX / img.clientWidth, y = event.offsetY / img.clientHeight;
    model.send({ type: "click", x: Math.min(Math.max(x, 0), 1), y: Math.min(Math.max(y, 0), 1) });
  });
  const cursor = () => { img.style.cursor = model.get("clickable") ? "pointer" : "auto"; };
  cursor();
  model.on("change:clickable", cursor);
  pane.views.add(img);
  el.appendChild(img);
  return () => pane.views.delete(img);
}

export default { initialize, render };
"""


class FramePane(anywidget.AnyWidget):
    """The live image pane (see the module doc). The kernel side only passes messages on:
    `on_hello()`, `on_drawn(seq)`, `on_step(job)` and, while `clickable`, `on_click(x, y)`
    (where the image was clicked, each from 0 to 1) are set by the view that owns the pane
    and run on the kernel's main thread, while it handles the page's message."""

    _esm = PANE_ESM
    pane_key = traitlets.Unicode("").tag(sync=True)
    job = traitlets.Int(0).tag(sync=True)  # the job the page should step through; 0: none
    width = traitlets.Unicode("256px").tag(sync=True)
    pixelated = traitlets.Bool(False).tag(sync=True)  # small models: crisp enlarged pixels
    clickable = traitlets.Bool(False).tag(sync=True)  # clicks on the image reach `on_click`

    def __init__(self, **kwargs: object) -> None:
        super().__init__(pane_key=secrets.token_hex(8), **kwargs)
        self.on_hello: Callable[[], None] = lambda: None
        self.on_drawn: Callable[[int], None] = lambda seq: None
        self.on_step: Callable[[int], None] = lambda job: None
        self.on_click: Callable[[float, float], None] = lambda x, y: None
        self.on_msg(self._received)

    def _received(self, _widget: object, content: object, _buffers: object) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "hello":
            self.on_hello()
        elif kind == "drawn" and isinstance(content.get("seq"), int):
            self.on_drawn(content["seq"])
        elif kind == "step" and isinstance(content.get("job"), int):
            self.on_step(content["job"])
        elif kind == "click" and self.clickable:
            x, y = content.get("x"), content.get("y")
            if all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in (x, y)):
                self.on_click(float(x), float(y))

    def send_frame(
        self,
        seq: int,
        jpeg: bytes | None,
        *,
        render_ms: float = 0.0,
        encode_ms: float = 0.0,
        rendered: int = 0,
        requested_at: float = 0.0,
        error: str | None = None,
    ) -> None:
        """Send frame `seq` (its JPEG bytes as a binary buffer; None after an error);
        `requested_at` is when its state was asked for (`time.time()`), for timing."""
        content = {
            "type": "frame",
            "seq": seq,
            "render_ms": round(render_ms, 2),
            "encode_ms": round(encode_ms, 2),
            "rendered": rendered,
            "requested_at": round(requested_at * 1000, 1),
            "sent_at": round(time.time() * 1000, 1),
            "error": error,
        }
        self.send(content, buffers=[] if jpeg is None else [jpeg])

    def step_done(self, job: int) -> None:
        """Tell the page that a step of `job` is done (it asks for the next while `job` is
        the current one)."""
        self.send({"type": "step", "job": job})
