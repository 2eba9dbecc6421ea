"""The Colab rule, enforced: a widget message sent from any thread but the main one.

Colab never delivers widget updates sent from a background thread (colabtools#3373).
`install(log)` patches ipywidgets (7.7.1 and 8) so that every widget message from another
thread is recorded (thread name and what was sent) in `log`, a list or the path of a file
that gets one line per message; inside a kernel such a message is also dropped, as Colab
drops it. Synced trait changes, custom messages and comm openings are all covered, with
or without a kernel (ipywidgets 7.7.1 sends nothing at all without one, so the changes
themselves are watched).

Used by the test fixture `colab_rule` (tests/conftest.py) and, in kernels started by the
notebook and browser tests, as an IPython start-up file (`kernel_environment`). Such a
kernel also stops offering subshells (ipykernel 7, used by JupyterLab's widget manager
for comm messages): Colab's ipykernel 6.17 has none and handles every message from the
page on its main thread, and so do these kernels.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

LOG_VARIABLE = "GAN_KIT_COLAB_RULE_LOG"


def _off_main_thread() -> bool:
    return threading.current_thread() is not threading.main_thread()


def install(log: list[str] | str | os.PathLike[str]) -> None:
    """Record (and, in a kernel, drop) every widget message sent off the main thread."""
    from ipywidgets import Widget

    def record(what: str) -> None:
        line = f"{threading.current_thread().name}: {what}"
        if isinstance(log, list):
            log.append(line)
        else:
            with open(log, "a") as file:
                file.write(line + "\n")

    original_notify, original_send = Widget.notify_change, Widget._send
    original_custom, original_open = Widget.send, Widget.open

    def notify_change(self, change):  # a synced trait changes: ipywidgets sends its state
        if _off_main_thread() and change.get("name") in getattr(self, "keys", ()):
            record(f"{type(self).__name__}.{change['name']} = {change.get('new')!r:.60}")
        return original_notify(self, change)

    def send(self, content, buffers=None):
        if _off_main_thread():
            record(f"{type(self).__name__} custom message {content!r:.60}")
        return original_custom(self, content, buffers)

    def open_comm(self):
        if _off_main_thread():
            record(f"{type(self).__name__} opened")
        return original_open(self)

    def send_message(self, msg, buffers=None):  # the one way out to the page: dropped
        if _off_main_thread():
            return None
        return original_send(self, msg, buffers)

    Widget.notify_change, Widget.send, Widget.open = notify_change, send, open_comm
    Widget._send = send_message


def hide_subshells(kernel: object) -> None:
    """Make an ipykernel 7 kernel say it has no subshells, as Colab's has none."""
    kernel_type = type(kernel)
    info = getattr(kernel_type, "kernel_info", None)
    if not isinstance(info, property):
        return

    def kernel_info(self):
        reply = dict(info.fget(self))
        features = reply.get("supported_features", [])
        reply["supported_features"] = [f for f in features if f != "kernel subshells"]
        return reply

    kernel_type.kernel_info = property(kernel_info)


def kernel_environment(folder: Path, log: Path) -> dict[str, str]:
    """Environment variables for a notebook server or runner whose kernels run this very
    Python (a `python3` kernel spec under `folder`, found first) and hold the Colab rule,
    logging to `log`; each kernel also writes its ipywidgets and anywidget versions to
    `log` + ".versions", so that a test can check which versions it ran."""
    spec = folder / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    startup = folder / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-colab-rule.py").write_text(
        "import importlib.util, os\n"
        f"spec = importlib.util.spec_from_file_location('colab_rule', {str(Path(__file__))!r})\n"
        "rule = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(rule)\n"
        f"rule.install(os.environ[{LOG_VARIABLE!r}])\n"
        "rule.hide_subshells(get_ipython().kernel)\n"
        "rule.write_versions(os.environ[" + repr(LOG_VARIABLE) + "] + '.versions')\n"
    )
    log.touch()
    paths = [str(folder / "jupyter"), os.environ.get("JUPYTER_PATH", "")]
    return {
        "IPYTHONDIR": str(folder / "ipython"),
        "JUPYTER_PATH": os.pathsep.join(path for path in paths if path),
        LOG_VARIABLE: str(log),
    }


def widget_versions() -> dict[str, str]:
    """The ipywidgets and anywidget versions of this Python."""
    import ipywidgets

    try:
        import anywidget

        any_version = anywidget.__version__
    except ImportError:
        any_version = "none"
    return {"ipywidgets": ipywidgets.__version__, "anywidget": any_version}


def write_versions(path: str) -> None:
    Path(path).write_text(json.dumps(widget_versions()))


def kernel_versions(log: Path) -> dict[str, str]:
    """The versions the kernels started with `kernel_environment(..., log)` ran."""
    return json.loads(Path(f"{log}.versions").read_text())
