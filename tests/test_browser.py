"""A real browser, as a user meets the explorers: JupyterLab and Voila serve the StyleGAN2
explorer notebook on loopback, on the demo model, and Debian's chromium (driven by
Playwright, no browser download) renders it. Every kernel holds the Colab rule: a widget
message sent from a thread other than the main one is recorded and dropped, as Colab
drops it (tests/colab_rule.py), and none may be.

- JupyterLab (on ipywidgets 8; on Colab's ipywidgets 7.7.1, the classic Notebook 6.5
  that Colab's page is built on): run the notebook, drag the psi slider with the mouse
  for about 2 s; the pane must end on exactly the bytes of a direct render of the final
  state, the kernel must have rendered no more than one frame that was never drawn, and
  the browser console must stay free of errors.
- Voila: 20 quick key presses on the slider; the final state is drawn.
- Voila with the pane's JavaScript blocked: the explorer falls back to a static preview
  that renders when the slider is released, and says so.

On ipywidgets 7.7.1 (Colab's; `.ci/run` runs these tests there too) neither JupyterLab
4's nor Voila 0.5's page renders the widgets: the drag runs in the classic Notebook 6.5
and the Voila tests skip.

Screenshots stay in each test's tmp_path. Skipped, with the reason, where chromium,
Playwright, JupyterLab or Voila is missing.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import colab_rule
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
TIMEOUT_MS = 120_000
DRAG_SECONDS = 2.0

# The state notebook 02 leaves its explorer in before the user touches it: seed 0, mix
# seed 1, the coarse slots swapped in ("The same from code"); psi is what the drag sets.
NOTEBOOK_SEED, NOTEBOOK_MIX_SEED, NOTEBOOK_MIX_LAYERS = 0, 1, "coarse"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    url: str
    folder: Path
    rule_log: Path
    ready: str = "true"  # JavaScript: true once the notebook's kernel can run cells
    run_all: str = ""  # JavaScript that runs every cell


def serve(command: list[str], folder: Path, port: int, url: str, **page: str) -> Iterator[Server]:
    """Run a notebook server in `folder` on the demo model, its kernels under the Colab
    rule and on one thread (as this test process, so that pixels match exactly)."""
    rule_log = folder / "colab-rule.log"
    env = {
        **os.environ,
        "GAN_KIT_STYLEGAN2_MODEL": "demo-stylegan2",
        "GAN_KIT_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        **colab_rule.kernel_environment(folder, rule_log),
    }
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start:\n{(folder / 'server.log').read_text()}")
                time.sleep(0.5)
        yield Server(url, folder, rule_log, **page)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def needs(*modules: str) -> None:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    for module in ("playwright", *modules):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install {module})")


def ipywidgets_7() -> bool:
    import ipywidgets

    return ipywidgets.__version__.startswith("7.")


def jupyterlab(folder: Path, notebook: str) -> Iterator[Server]:
    """JupyterLab 4, whose page renders ipywidgets 8 widgets, open on `notebook`."""
    needs("jupyterlab")
    settings = folder / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    quiet = {"fetchNews": "false", "checkForUpdates": False}  # no popups, no network
    (settings / "notification.jupyterlab-settings").write_text(json.dumps(quiet))
    port = free_port()
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root"]
    command += [f"--port={port}", "--ip=127.0.0.1", "--IdentityProvider.token="]
    command += ["--ServerApp.password=", "--LabApp.expose_app_in_browser=True"]
    command += [f"--LabApp.user_settings_dir={folder / 'lab-settings'}"]
    command += [f"--LabApp.workspaces_dir={folder / 'lab-workspaces'}"]  # none to restore
    command += [f"--ServerApp.root_dir={folder}"]
    url = f"http://127.0.0.1:{port}/lab/tree/{notebook}"
    kernel = "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
    yield from serve(
        command,
        folder,
        port,
        url,
        ready=f"{kernel}?.status === 'idle'",
        run_all="window.jupyterapp.commands.execute('notebook:run-all-cells')",
    )


def classic_notebook(folder: Path, notebook: str) -> Iterator[Server]:
    """The classic Notebook 6.5, whose page renders ipywidgets 7 widgets, as Colab's page
    (built on it) does, open on `notebook`."""
    server = pytest.importorskip("notebook", reason="the classic notebook is not installed")
    if not server.__version__.startswith("6."):
        pytest.skip(f"ipywidgets 7 needs the classic Notebook 6.5 page, not {server.__version__}")
    port = free_port()
    command = [sys.executable, "-m", "notebook", "--no-browser", "--allow-root"]
    command += [f"--port={port}", "--ip=127.0.0.1", "--NotebookApp.token="]
    command += ["--NotebookApp.password=", f"--NotebookApp.notebook_dir={folder}"]
    yield from serve(
        command,
        folder,
        port,
        f"http://127.0.0.1:{port}/notebooks/{notebook}",
        ready="window.Jupyter?.notebook?.kernel?.is_connected()",
        run_all="Jupyter.notebook.execute_all_cells()",
    )


def in_a_notebook_page(notebook: Path, folder: Path) -> Iterator[Server]:
    """`notebook` in the page that renders this ipywidgets: JupyterLab for ipywidgets 8;
    the classic Notebook 6.5 for Colab's ipywidgets 7.7.1 (JupyterLab 4's page renders
    ipywidgets 8 widgets only)."""
    shutil.copy(notebook, folder)
    yield from (classic_notebook if ipywidgets_7() else jupyterlab)(folder, notebook.name)


@pytest.fixture
def notebook_page(tmp_path: Path) -> Iterator[Server]:
    """The StyleGAN2 explorer notebook in a notebook page."""
    yield from in_a_notebook_page(NOTEBOOK, tmp_path)


@pytest.fixture
def studio_page(tmp_path: Path) -> Iterator[Server]:
    """The interpolation studio notebook in a notebook page."""
    yield from in_a_notebook_page(NOTEBOOK.parent / "04_interpolation_studio.ipynb", tmp_path)


NOTEBOOK_7_EXTENSIONS = '["@jupyter-notebook/lab-extension"]'


def voila_serving(notebook: Path, folder: Path) -> Iterator[Server]:
    needs("voila")
    if ipywidgets_7():
        pytest.skip("Voila 0.5's page renders ipywidgets 8 widgets only")
    shutil.copy(notebook, folder)
    port = free_port()
    command = [sys.executable, "-m", "voila", notebook.name, "--no-browser", f"--port={port}"]
    command.append("--Voila.ip=127.0.0.1")
    # Notebook 7's own page extension (installed with the `notebooks` extra's `jupyter`)
    # fails to start inside Voila's page with a module-federation error of its own; it has
    # no part in a dashboard, so it stays out, and any other console error still fails.
    command.append(f"--VoilaConfiguration.extension_denylist={NOTEBOOK_7_EXTENSIONS}")
    yield from serve(command, folder, port, f"http://127.0.0.1:{port}/")


@pytest.fixture
def voila(tmp_path: Path) -> Iterator[Server]:
    """The StyleGAN2 explorer notebook in Voila."""
    yield from voila_serving(NOTEBOOK, tmp_path)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


# Voila's page template links Font Awesome from a CDN; nothing else may leave loopback.
TEMPLATE_ASSETS = "https://cdn.jsdelivr.net/npm/@fortawesome/"


def open_page(browser, errors: list[str]):
    """A page that records console errors and uncaught exceptions in `errors`; a request
    off loopback is an error too (gan_kit loads nothing from a CDN), except the template's
    style sheets, which are answered empty."""
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    def off_loopback(route) -> None:
        url = route.request.url
        if url.startswith(TEMPLATE_ASSETS):
            route.fulfill(status=200, content_type="text/css", body="")
        else:
            errors.append(f"a request left loopback: {url}")
            route.abort()

    page.route(lambda url: not url.startswith("http://127.0.0.1"), off_loopback)
    return page


def live_pane(page, errors: list[str]):
    """The live pane's <img>, once it shows (its JavaScript ran and said hello)."""
    from playwright.sync_api import expect

    pane = page.locator("img.gan-kit-frame").first
    try:
        expect(pane).to_be_visible(timeout=TIMEOUT_MS)
    except AssertionError:
        pytest.fail(f"the live pane never showed; browser console errors: {errors}")
    return pane


def expected_jpeg(psi: float) -> bytes:
    """A direct render of the notebook's explorer state at `psi`, encoded as the pane's."""
    import gan_kit
    from gan_kit.widgets import ImageState, jpeg_bytes, render_state

    explorer = gan_kit.explorer("demo-stylegan2", device="cpu")
    layers = explorer.slot_groups[NOTEBOOK_MIX_LAYERS]
    state = ImageState(seed=NOTEBOOK_SEED, psi=psi, mix_seed=NOTEBOOK_MIX_SEED, mix_layers=layers)
    return jpeg_bytes(render_state(explorer, state))


def shown_bytes(page, image) -> bytes:
    """The JPEG bytes an <img> shows (the pane's blob URL, or a core widget's data URL)."""
    encoded = page.evaluate(
        """async (img) => {
            const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
            let text = "";
            for (const byte of bytes) text += String.fromCharCode(byte);
            return btoa(text);
        }""",
        image.element_handle(),
    )
    return base64.b64decode(encoded)


def frames_logged(page) -> list[dict]:
    return page.evaluate("globalThis.ganKitFrames || []")


def settle(page, image, seconds: float = 1.0) -> None:
    """Wait until the pane has drawn nothing new for `seconds`."""
    last, since = None, time.monotonic()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        seq = image.get_attribute("data-seq")
        if seq != last:
            last, since = seq, time.monotonic()
        elif time.monotonic() - since > seconds:
            return
        time.sleep(0.1)
    pytest.fail("the pane kept drawing")


def psi_slider(page):
    return page.locator(".widget-hslider", has_text="psi").first


def psi_readout(page) -> float:
    return float(psi_slider(page).locator(".widget-readout").first.inner_text())


def test_dragging_psi_in_a_notebook_draws_exactly_the_final_state(notebook_page, browser):
    from playwright.sync_api import expect

    errors: list[str] = []
    page = open_page(browser, errors)
    page.goto(notebook_page.url, timeout=TIMEOUT_MS)
    page.wait_for_function(notebook_page.ready, timeout=TIMEOUT_MS)
    page.evaluate(notebook_page.run_all)
    pane = live_pane(page, errors)
    status = page.locator(".widget-label", has_text=" ms").first
    expect(status).to_contain_text("psi 0.70", timeout=TIMEOUT_MS)
    settle(page, pane)
    assert "static" not in status.inner_text()
    before = frames_logged(page)

    handle = psi_slider(page).locator(".noUi-handle, .ui-slider-handle").first
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < DRAG_SECONDS:  # to and fro, 45 px each way
        page.mouse.move(x + 45 * math.sin(2 * math.pi * elapsed / 1.6), y)
        page.wait_for_timeout(15)
    page.mouse.up()
    final = psi_readout(page)
    expect(status).to_contain_text(f"psi {final:.2f}", timeout=TIMEOUT_MS)
    settle(page, pane)
    page.screenshot(path=notebook_page.folder / "after-drag.png")

    assert final != 0.7, "the drag did not move psi"
    assert shown_bytes(page, pane) == expected_jpeg(final)
    during = frames_logged(page)[len(before) :]
    rendered = during[-1]["rendered"] - before[-1]["rendered"]
    assert len(during) >= 3, "the pane drew fewer than 3 frames during a 2 s drag"
    assert rendered <= len(during) + 1  # at most one frame rendered and never drawn
    assert errors == [], f"browser console errors: {errors}"
    assert notebook_page.rule_log.read_text() == "", "widget messages sent off the main thread"
    assert colab_rule.kernel_versions(notebook_page.rule_log) == colab_rule.widget_versions()


def test_quick_key_presses_in_voila_end_on_the_final_state(voila, browser):
    from playwright.sync_api import expect

    errors: list[str] = []
    page = open_page(browser, errors)
    page.goto(voila.url, timeout=TIMEOUT_MS)
    pane = live_pane(page, errors)
    status = page.locator(".widget-label", has_text=" ms").first
    expect(status).to_contain_text("psi 0.70", timeout=TIMEOUT_MS)
    psi_slider(page).locator(".noUi-handle, .ui-slider-handle").first.focus()
    for _ in range(20):  # psi 0.70 -> 0.90, one step per key press
        page.keyboard.press("ArrowRight")
    expect(status).to_contain_text("psi 0.90", timeout=TIMEOUT_MS)
    settle(page, pane)
    page.screenshot(path=voila.folder / "voila.png", full_page=True)
    assert shown_bytes(page, pane) == expected_jpeg(0.9)
    assert errors == [], f"browser console errors: {errors}"
    assert voila.rule_log.read_text() == ""


def test_without_the_pane_the_explorer_renders_on_release(voila, browser):
    """The pane's front end cannot load (here: its JavaScript is blocked, as a viewer
    without the extension would leave it): the core image renders on slider release."""
    from playwright.sync_api import expect

    page = open_page(browser, [])
    page.route("**/anywidget/**", lambda route: route.abort())
    page.goto(voila.url, timeout=TIMEOUT_MS)
    image = page.locator("img.widget-image").first
    status = page.locator(".widget-label", has_text=" ms").first
    expect(status).to_contain_text("static preview: updates when a slider is released")
    expect(image).to_be_visible(timeout=TIMEOUT_MS)
    before = shown_bytes(page, image)
    handle = psi_slider(page).locator(".noUi-handle, .ui-slider-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] / 2, steps=10)
    page.mouse.up()
    final = psi_readout(page)
    expect(status).to_contain_text(f"psi {final:.2f}", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    page.screenshot(path=voila.folder / "static.png", full_page=True)
    shown = shown_bytes(page, image)
    assert shown != before and shown == expected_jpeg(final)
    assert voila.rule_log.read_text() == ""


def test_the_studio_shows_progress_and_cancels_between_steps(studio_page, browser):
    """On a long path, "render all" fills the progress bar while the page stays live, and
    "cancel" (read by the kernel between two steps) stops it."""
    from playwright.sync_api import expect

    errors: list[str] = []
    page = open_page(browser, errors)
    page.goto(studio_page.url, timeout=TIMEOUT_MS)
    page.wait_for_function(studio_page.ready, timeout=TIMEOUT_MS)
    page.evaluate(studio_page.run_all)
    live_pane(page, errors)
    last_cell = page.get_by_text("a moviepy clip of").first  # every cell has run
    expect(last_cell).to_be_visible(timeout=TIMEOUT_MS)
    status = page.locator(".widget-label", has_text="loop through seeds").first
    expect(status).to_contain_text("loop through seeds 1, 2, 3", timeout=TIMEOUT_MS)
    frames = page.locator(".widget-hslider", has_text="frames").first
    handle = frames.locator(".noUi-handle, .ui-slider-handle").first
    track = frames.locator(".noUi-target, .ui-slider").first.bounding_box()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] + 20, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    expect(frames.locator(".widget-readout")).to_have_text("60", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="render all").click()
    bar = page.locator(".widget-hprogress .progress-bar").first
    expect(page.locator(".widget-hprogress").first).to_be_visible(timeout=TIMEOUT_MS)
    widths: list[float] = []
    deadline = time.monotonic() + 60
    while len(set(widths)) < 3 and time.monotonic() < deadline:  # the bar fills, step by step
        widths.append(bar.evaluate("bar => parseFloat(bar.style.width) || 0"))
        page.wait_for_timeout(100)
    assert len(set(widths)) >= 3 and widths == sorted(widths), widths
    page.get_by_role("button", name="cancel").click()
    expect(page.locator(".widget-label", has_text="cancelled").first).to_have_text(
        "rendering cancelled: nothing was written", timeout=TIMEOUT_MS
    )
    assert widths[-1] < 100
    page.screenshot(path=studio_page.folder / "studio.png", full_page=True)
    assert errors == [], f"browser console errors: {errors}"
    assert studio_page.rule_log.read_text() == ""


def test_clicking_a_child_in_voila_makes_it_the_parent(tmp_path, browser):
    """The breeding studio in Voila: a click on the lower-right child of the grid (one
    clickable pane) makes that child the parent, drawn exactly as a direct render."""
    import nbformat
    from playwright.sync_api import expect

    import gan_kit
    from gan_kit.explore import Genome, mutate
    from gan_kit.widgets import jpeg_bytes

    source = tmp_path / "source"
    source.mkdir()
    code = (
        "import gan_kit\nfrom gan_kit.widgets import BreedingStudio\n"
        'ex = gan_kit.explorer("demo-stylegan2", device="cpu")\n'
        "BreedingStudio(ex, seed=5, psi=0.7, children=4, columns=2, genes=0)"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbformat.write(notebook, source / "breeding.ipynb")
    served = tmp_path / "served"
    served.mkdir()
    server = voila_serving(source / "breeding.ipynb", served)
    voila_server = next(server)
    try:
        errors: list[str] = []
        page = open_page(browser, errors)
        page.goto(voila_server.url, timeout=TIMEOUT_MS)
        live_pane(page, errors)
        panes = page.locator("img.gan-kit-frame")
        expect(panes).to_have_count(3, timeout=TIMEOUT_MS)  # parent, children, crossbreed
        parent, children = panes.nth(0), panes.nth(1)
        expect(children).to_have_attribute("src", re.compile("^blob:"), timeout=TIMEOUT_MS)
        box = children.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.8)
        status = page.locator(".widget-label", has_text="parent ·").first
        expect(status).to_contain_text("2 steps", timeout=TIMEOUT_MS)
        settle(page, parent)
        ex = gan_kit.explorer("demo-stylegan2", device="cpu")
        child = mutate(ex, Genome.from_seed(ex, 5, psi=0.7), 4, radius=0.5, psi=0.7)[3]
        page.screenshot(path=served / "breeding.png", full_page=True)
        assert shown_bytes(page, parent) == jpeg_bytes(ex.render_uint8(child.batch())[0])
        expect(page.get_by_role("button", name="undo")).to_be_enabled()
        assert errors == [], f"browser console errors: {errors}"
        assert voila_server.rule_log.read_text() == ""
    finally:
        server.close()
