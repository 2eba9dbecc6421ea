"""A "latest request wins" render loop: dragging a slider never queues work.

`LatestWins.request(state)` only stores the state in a one-item pending slot (replacing
any older pending state) and wakes the loop; the loop renders whatever is pending when it
is free, so states requested while a render runs are dropped except the newest, and the
frames are drawn in request order (a stale frame is never drawn after a newer one).

Two ways to run the loop, chosen by `threaded` (default: threaded inside a Jupyter kernel):

- threaded (a kernel): the render runs in a short-lived background thread, started when a
  request finds the loop idle and ending when nothing is pending. The kernel's main thread
  stays free to receive the next slider values, which only overwrite the pending slot.
- synchronous (plain Python, tests, headless): `request` renders at once, in the caller's
  thread, so results are deterministic. `hold()` coalesces a burst (a preset setting many
  toggles, restoring a saved state) into one render of the last state, in both modes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

State = TypeVar("State")
Result = TypeVar("Result")


def in_kernel() -> bool:
    """Whether this code runs inside a Jupyter (ipykernel) kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return getattr(shell, "kernel", None) is not None


class LatestWins(Generic[State, Result]):
    """Renders the newest requested state and draws it: `render(state)` (slow, may run in a
    background thread), then `draw(state, result, seconds)`; `fail(state, error)` where
    either raised (the loop goes on)."""

    def __init__(
        self,
        render: Callable[[State], Result],
        draw: Callable[[State, Result, float], None],
        fail: Callable[[State, Exception], None],
        *,
        threaded: bool | None = None,
    ) -> None:
        self.render, self.draw, self.fail = render, draw, fail
        self.threaded = in_kernel() if threaded is None else threaded
        self._condition = threading.Condition()
        self._pending: list[State] = []  # the one-item slot
        self._busy = False
        self._held = 0

    def request(self, state: State) -> None:
        """Ask for `state` to be drawn; replaces any state still waiting."""
        with self._condition:
            self._pending[:] = [state]
        self._start()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Collect the requests made inside the block; render only the last, at its end."""
        with self._condition:
            self._held += 1
        try:
            yield
        finally:
            with self._condition:
                self._held -= 1
            self._start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending or rendering; False if `timeout` ran out first."""
        with self._condition:
            return self._condition.wait_for(self._idle, timeout)

    def _idle(self) -> bool:
        return not self._busy and not self._pending

    def _start(self) -> None:
        with self._condition:
            if self._busy or self._held or not self._pending:
                return  # the running loop picks the pending state up
            self._busy = True
        if self.threaded:
            threading.Thread(target=self._run, name="gan_kit-render", daemon=True).start()
        else:
            self._run()

    def _run(self) -> None:
        while True:
            with self._condition:
                if not self._pending or self._held:
                    self._busy = False
                    self._condition.notify_all()
                    return
                state = self._pending.pop()
            started = time.perf_counter()
            try:
                result = self.render(state)
                self.draw(state, result, time.perf_counter() - started)
            except Exception as error:  # shown to the user; the loop must survive it
                self.fail(state, error)
