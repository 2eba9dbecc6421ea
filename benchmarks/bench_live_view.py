"""Measure the live explorer in a real browser: from a slider's input event to the new
pixels, split into render, JPEG encode, transport and decode; and frames per second while
a slider is dragged.

Voila serves the explorer notebook (02 for StyleGAN2, 03 for BigGAN) on loopback, Debian's
chromium (Playwright) opens it, and the pane's own log (`globalThis.ganKitFrames`: when each
frame was asked for, received and decoded, and the kernel's render and encode times) is
read back. One step: a single key press on the truncation slider, timed from its keydown
event to the decoded frame, the kernel idle before and after. A drag: the mouse moves the
slider for `--drag-seconds`; frames drawn over that time.

Models: the demo models, and full-size random-weight checkpoints written here (config-f
512 px StyleGAN2 TF pickle, run39 256 px BigGAN state dict), whose noise images make
larger JPEGs than real faces do.

    python benchmarks/bench_live_view.py [--models demo-stylegan2 stylegan2-512 ...]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"stylegan2": "02_stylegan2_explorer.ipynb", "biggan": "03_biggan_explorer.ipynb"}
VARIABLES = {"stylegan2": "GAN_KIT_STYLEGAN2_MODEL", "biggan": "GAN_KIT_BIGGAN_MODEL"}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]
RECORD_INPUTS = """
globalThis.ganKitInputs = [];
for (const type of ["keydown", "pointermove"]) {
    document.addEventListener(
    type, () => globalThis.ganKitInputs.push([performance.now(), Date.now()]), true
  );
}
"""


def checkpoint(name: str, folder: Path) -> tuple[str, str]:
    """(kind, model reference) of a benchmark model, writing full-size files as needed."""
    sys.path.insert(0, str(Path(__file__).parent))
    if name == "stylegan2-512":
        from bench_stylegan2 import write_config_f_pickle

        path = folder / "config-f-512.pkl"
        write_config_f_pickle(path)
        return "stylegan2", str(path)
    if name == "biggan-256":
        from bench_biggan import random_state_dict

        path = folder / "biggan-256.bin"
        torch.save(random_state_dict(seed=0), path)
        return "biggan", str(path)
    return ("biggan" if "biggan" in name else "stylegan2"), name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure(kind: str, model: str, folder: Path, steps: int, drag_seconds: float) -> dict:
    from playwright.sync_api import expect, sync_playwright

    notebook = NOTEBOOKS[kind]
    shutil.copy(ROOT / "notebooks" / notebook, folder)
    port = free_port()
    env = {**os.environ, VARIABLES[kind]: model, "GAN_KIT_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "voila",
        notebook,
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
    ]
    log = (folder / "voila.log").open("w")
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=log)
    try:
        for _ in range(240):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.add_init_script(RECORD_INPUTS)
            page.goto(f"http://127.0.0.1:{port}/", timeout=600_000)
            expect(page.locator("img.gan-kit-frame").first).to_be_visible(timeout=600_000)
            label = "truncation" if kind == "biggan" else "psi"
            slider = page.locator(".widget-hslider", has_text=label).first
            handle = slider.locator(".noUi-handle, .ui-slider-handle").first
            wait_idle(page)
            single = [one_step(page, handle) for _ in range(steps)]
            drag = drag_for(page, handle, drag_seconds)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return {"steps": single, **drag}


def frames(page) -> list[dict]:
    return page.evaluate("globalThis.ganKitFrames || []")


def wait_idle(page, quiet: float = 0.6) -> None:
    count, since = len(frames(page)), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.05)
        if len(frames(page)) != count:
            count, since = len(frames(page)), time.monotonic()


def one_step(page, handle) -> dict:
    """One key press, timed from its keydown to its frame's decode."""
    before = len(frames(page))
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"(globalThis.ganKitFrames || []).length > {before}", timeout=600_000)
    wait_idle(page)
    frame = frames(page)[before]
    pressed, pressed_at = page.evaluate("globalThis.ganKitInputs.at(-1)")
    total = frame["decoded"] - pressed
    decode = frame["decoded"] - frame["received"]
    transport = total - frame["render_ms"] - frame["encode_ms"] - decode
    # The same machine's wall clock on both sides: where the transport time goes.
    kernel = frame["sent_at"] - frame["requested_at"] - frame["render_ms"] - frame["encode_ms"]
    return {
        "total": total,
        "render": frame["render_ms"],
        "encode": frame["encode_ms"],
        "decode": decode,
        "transport": transport,
        "to_kernel": frame["requested_at"] - pressed_at,
        "in_kernel": kernel,
        "to_page": frame["received_at"] - frame["sent_at"],
        "bytes": frame["bytes"],
    }


def drag_for(page, handle, seconds: float) -> dict:
    """Drag the handle to and fro for `seconds`: frames drawn per second, and their render
    time."""
    wait_idle(page)
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    before = len(frames(page))
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:  # to and fro, 40 px each way
        page.mouse.move(x + 40 * math.sin(2 * math.pi * elapsed / 1.5), y)
        page.wait_for_timeout(15)
    elapsed = time.monotonic() - started
    page.mouse.up()
    drawn = frames(page)[before:]
    renders = [frame["render_ms"] for frame in drawn]
    # What the pacing costs a drag: how long the kernel sat idle between sending a frame
    # and starting the next render, when that next state was already waiting (asked for
    # before the frame went out), i.e. the round trip of the frame and its "drawn" reply.
    waits = [
        after["sent_at"] - after["render_ms"] - after["encode_ms"] - before["sent_at"]
        for before, after in itertools.pairwise(drawn)
        if after["requested_at"] < before["sent_at"]
    ]
    return {
        "fps": len(drawn) / elapsed,
        "drag_frames": len(drawn),
        "drag_render_ms": statistics.median(renders) if renders else float("nan"),
        "drag_wait_ms": statistics.median(waits) if waits else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=["demo-stylegan2", "demo-biggan", "stylegan2-512", "biggan-256"],
    )
    parser.add_argument("--steps", type=int, default=15, help="single key presses per model")
    parser.add_argument("--drag-seconds", type=float, default=3.0)
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(f"CPU: {cpu}, {os.cpu_count()} cores; torch {torch.__version__}; chromium headless\n")
    print(
        "| model | one step: input to pixels | render | encode | transport (to kernel + in "
        "kernel + to page) | decode | pacing over render | JPEG kB | drag: frames/s "
        "| drag: render | drag: kernel idle between frames |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.models:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            kind, model = checkpoint(name, folder)
            result = measure(kind, model, folder, args.steps, args.drag_seconds)
        steps = result["steps"]

        def median(key: str, steps=steps) -> float:
            return statistics.median(step[key] for step in steps)

        pacing = statistics.median(step["total"] - step["render"] for step in steps)
        print(
            f"| {name} | {median('total'):.0f} ms | {median('render'):.0f} ms "
            f"| {median('encode'):.1f} ms | {median('transport'):.1f} ms "
            f"({median('to_kernel'):.1f} + {median('in_kernel'):.1f} + {median('to_page'):.1f}) "
            f"| {median('decode'):.1f} ms | {pacing:.1f} ms | {median('bytes') / 1000:.0f} "
            f"| {result['fps']:.1f} | {result['drag_render_ms']:.0f} ms "
            f"| {result['drag_wait_ms']:.1f} ms |"
        )


if __name__ == "__main__":
    main()
