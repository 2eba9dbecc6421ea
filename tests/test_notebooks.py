"""The notebooks: committed clean, and run top to bottom (nbmake) on the demo models that
ship with gan_kit, chosen by the environment variables their parameters cells read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

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
    for path in NOTEBOOKS:  # run copies, so that their files land in tmp_path
        shutil.copy(path, tmp_path)
    env = {
        **os.environ,
        "GAN_KIT_STYLEGAN2_MODEL": "demo-stylegan2",
        "GAN_KIT_BIGGAN_MODEL": "demo-biggan",
        "GAN_KIT_OFFLINE": "1",
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
