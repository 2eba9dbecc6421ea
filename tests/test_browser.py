"""A real browser: Voila serves the StyleGAN2 explorer notebook on loopback, Debian's
chromium (driven by Playwright, no browser download) renders it, a slider moves by
keyboard, and the preview image must change. The screenshots stay in the test's tmp_path.
Skipped, with the reason, where chromium, Playwright or Voila is missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_stylegan2_explorer.ipynb"
TIMEOUT_MS = 90_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def voila_url(tmp_path: Path) -> Iterator[str]:
    """The explorer notebook served by Voila on loopback, on the demo StyleGAN2."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    pytest.importorskip("playwright", reason="Playwright is not installed (pip install playwright)")
    pytest.importorskip("voila", reason="Voila is not installed (pip install voila)")
    shutil.copy(NOTEBOOK, tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "GAN_KIT_STYLEGAN2_MODEL": "demo-stylegan2",
        "GAN_KIT_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "voila", NOTEBOOK.name, "--no-browser", f"--port={port}"]
    command.append("--Voila.ip=127.0.0.1")
    log = (tmp_path / "voila.log").open("w")
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    break  # listening; the page itself runs the notebook when loaded
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Voila did not start:\n{(tmp_path / 'voila.log').read_text()}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_a_slider_moved_in_chromium_changes_the_image(voila_url: str, tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(voila_url, timeout=TIMEOUT_MS)
            image = page.locator("img.widget-image").first
            status = page.locator(".widget-label", has_text=" ms").first
            expect(status).to_contain_text("psi 0.70", timeout=TIMEOUT_MS)
            before = image.screenshot(path=tmp_path / "before.png")
            source = image.get_attribute("src")
            handle = page.locator(".widget-hslider", has_text="psi").locator(".noUi-handle")
            handle.focus()
            for _ in range(20):  # psi 0.70 -> 0.90, one step per key press
                page.keyboard.press("ArrowRight")
            expect(status).to_contain_text("psi 0.90", timeout=TIMEOUT_MS)
            expect(image).not_to_have_attribute("src", source or "", timeout=TIMEOUT_MS)
            after = image.screenshot(path=tmp_path / "after.png")
            page.screenshot(path=tmp_path / "explorer.png", full_page=True)
        finally:
            browser.close()
    assert before != after, f"the preview did not change; screenshots in {tmp_path}"
