"""The live pane's JavaScript (gan_kit/widgets/pane.py), in Python, for headless widget
tests: the page's side of the frame loop, and the kernel's message queue."""

from __future__ import annotations

from collections import deque

from gan_kit.widgets import Preview


class FakePage:
    """The pane's JavaScript, in Python: the same rules (say hello; say when each frame has
    arrived; step a job while it runs), and the kernel's message queue, handled in order
    by `run`, as a kernel's main thread handles it."""

    def __init__(self, preview: Preview) -> None:
        self.pane = preview.pane
        self.queue: deque[object] = deque()
        self.frames: list[tuple[int, bytes]] = []  # (seq, JPEG) of each frame drawn
        self.stepping, self.steps = False, 0
        self.pane.send = self._receive  # kernel -> page
        self.pane.observe(lambda _: self._step(), "job")
        self.queue.append({"type": "hello"})
        self._step()

    def _receive(self, content: dict, buffers: list[bytes] | None = None) -> None:
        if content["type"] == "frame":
            if buffers:
                self.frames.append((content["seq"], bytes(buffers[0])))
            self.queue.append({"type": "drawn", "seq": content["seq"]})
        elif content["type"] == "step":
            self.stepping = False
            self._step()

    def _step(self) -> None:
        if self.pane.job and not self.stepping:
            self.stepping, self.steps = True, self.steps + 1
            self.queue.append({"type": "step", "job": self.pane.job})

    def later(self, action) -> None:
        """Queue a user action (a slider moved, a button clicked) behind what is queued."""
        self.queue.append(action)

    def run(self, items: int | None = None) -> None:
        """Let the kernel handle `items` queued messages (default: until none is left)."""
        while self.queue and (items is None or items > 0):
            item = self.queue.popleft()
            item() if callable(item) else self.pane._received(self.pane, item, [])
            items = None if items is None else items - 1
