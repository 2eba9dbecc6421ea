"""The notebooks: committed clean, and run top to bottom (nbmake) on the demo models that
ship with gan_kit, chosen by the environment variables their parameters cells read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import colab_rule
import nbformat
import pytest

from gan_kit.recipes import recipe_from_png

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
MODEL_VARIABLES = ("GAN_KIT_STYLEGAN2_MODEL", "GAN_KIT_BIGGAN_MODEL")


def test_the_numbered_notebooks_are_there():
    names = [path.name for path in NOTEBOOKS]
    assert names == [
        "01_quick_start.ipynb",
        "02_stylegan2_explorer.ipynb",
        "03_biggan_explorer.ipynb",
        "04_interpolation_studio.ipynb",
        "05_favourites.ipynb",
        "06_breeding_studio.ipynb",
        "07_class_atlas.ipynb",
        "08_project_your_picture.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_clean(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    setup, _device, parameters = code[:3]
    assert 'if "google.colab" in sys.modules:' in setup.source  # installs in Colab only
    assert "parameters" in parameters.metadata.get("tags", [])
    assert sum(variable in parameters.source for variable in MODEL_VARIABLES) == 1


def test_notebooks_run_on_the_demo_models(tmp_path: Path):
    """Under the Colab rule: their kernels record every widget message sent off the main
    thread (and drop it, as Colab would); none may be."""
    for path in NOTEBOOKS:  # run copies, so that their files land in tmp_path
        shutil.copy(path, tmp_path)
    rule_log = tmp_path / "colab-rule.log"
    env = {
        **os.environ,
        "GAN_KIT_STYLEGAN2_MODEL": "demo-stylegan2",
        "GAN_KIT_BIGGAN_MODEL": "demo-biggan",
        "GAN_KIT_OFFLINE": "1",
        **colab_rule.kernel_environment(tmp_path / "kernel", rule_log),
    }
    command = [sys.executable, "-m", "pytest", "--nbmake", "-q", "-p", "no:cacheprovider"]
    command += ["--rootdir", str(tmp_path), str(tmp_path)]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"{len(NOTEBOOKS)} passed" in result.stdout
    assert (tmp_path / "psi_sweep.png").is_file()
    assert {p.name for p in (tmp_path / "animations").iterdir()} >= {
        "interpolation.gif",
        "interpolation.mp4",
        "eased.gif",
    }
    assert list((tmp_path / "favourites").glob("stylegan2-seed7-*.png"))
    assert len(list((tmp_path / "favourites").glob("stylegan2-bred-*.png"))) == 3
    assert (tmp_path / "atlas.png").is_file()
    assert recipe_from_png(tmp_path / "projected.png").styles is not None
    assert (tmp_path / "projected-loop.gif").is_file()
    assert rule_log.read_text() == "", "widget messages sent off the main thread"
    assert colab_rule.kernel_versions(rule_log) == colab_rule.widget_versions()


def test_a_model_that_cannot_be_downloaded_falls_back_to_the_demo(tmp_path: Path):
    """No network and nothing cached: the model cell says so in one line and goes on with
    the bundled model, instead of a long traceback."""
    shutil.copy(NOTEBOOK_DIR / "01_quick_start.ipynb", tmp_path)
    env = {
        **os.environ,
        "GAN_KIT_STYLEGAN2_MODEL": "tadne-512",
        "GAN_KIT_OFFLINE": "1",
        "GAN_KIT_CACHE": str(tmp_path / "cache"),
        "HF_HUB_CACHE": str(tmp_path / "hub"),
    }
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute"]
    command += ["--output", "ran.ipynb", "01_quick_start.ipynb"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    ran = nbformat.read(tmp_path / "ran.ipynb", as_version=4)
    model_cell = next(c for c in ran.cells if "gan_kit.explorer(MODEL" in c.source)
    printed = "".join(output.get("text", "") for output in model_cell.outputs).splitlines()
    assert printed[0].startswith("tadne-512 cannot be downloaded here (")
    assert printed[0].endswith("using the bundled demo-stylegan2")
    assert printed[1] == "stylegan2, 64 px; slots w0, w1, w2, w3, w4, w5, w6, w7, w8, w9"


def test_the_colab_set_up_agrees_with_pyproject():
    """The install cells and README's Colab links are stamped from [project.urls]."""
    script = NOTEBOOK_DIR.parent / ".ci" / "colab_setup.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def run_install_cell(monkeypatch, repository: str | None, uploaded: dict, pip_fails: bool = False):
    """The install cell's code as Colab runs it: `google.colab` imported, the user's
    upload answered with `uploaded`; pip's run is recorded instead of run (it would
    install into this environment). Returns (what it printed, the pip command, the pins)."""
    import types

    source = nbformat.read(NOTEBOOKS[0], as_version=4).cells[2].source
    if repository is not None:
        source = source.replace("https://github.com/GAN_KIT_OWNER/gan_kit", repository)
    colab = types.ModuleType("google.colab")
    colab.files = types.SimpleNamespace(upload=lambda: uploaded)
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    commands: list[list[str]] = []

    def run(command, **kwargs):
        commands.append(command)
        error = "ERROR: No matching distribution found for gan_kit" if pip_fails else ""
        return subprocess.CompletedProcess(command, int(pip_fails), "", error)

    monkeypatch.setattr(subprocess, "run", run)
    printed: list[str] = []
    monkeypatch.setattr("builtins.print", lambda *parts, **_: printed.append(" ".join(parts)))
    exec(compile(source, "install-cell", "exec"), {})
    pins = Path("/tmp/gan_kit_colab_pins.txt").read_text().splitlines()
    return printed, (commands[0] if commands else None), pins


def test_the_install_cell_pins_what_colab_imported(monkeypatch):
    from importlib.metadata import version

    printed, command, pins = run_install_cell(monkeypatch, "https://github.com/someone/gan_kit", {})
    assert command[-3:] == [
        "git+https://github.com/someone/gan_kit",
        "--constraint",
        "/tmp/gan_kit_colab_pins.txt",
    ]
    for name in ("torch", "numpy", "ipywidgets", "anywidget"):
        assert f"{name}=={version(name)}" in pins
    assert printed == ["gan_kit is installed"]


def test_the_install_cell_without_an_address_offers_a_wheel_upload(monkeypatch):
    printed, command, _ = run_install_cell(monkeypatch, None, {})  # the upload was cancelled
    assert len(printed) == 1 and "set REPOSITORY above" in printed[0] and command is None
    printed, command, _ = run_install_cell(
        monkeypatch, None, {"gan_kit-0.1.0-py3-none-any.whl": b""}
    )
    assert command[5] == "./gan_kit-0.1.0-py3-none-any.whl"
    printed, _, _ = run_install_cell(monkeypatch, "https://github.com/x/y", {}, pip_fails=True)
    assert printed == [
        "gan_kit was not installed (ERROR: No matching distribution found for gan_kit): "
        "check REPOSITORY, or upload a wheel"
    ]
