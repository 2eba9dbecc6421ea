"""What a wheel carries: `pip install` from git (Colab) must get the demo models too."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_the_demo_models(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "gan_kit", source / "gan_kit", symlinks=True, ignore=ignore)
    shutil.copytree(ROOT / "assets", source / "assets", ignore=ignore)
    assert (source / "gan_kit" / "demo" / "checkpoints").is_symlink()

    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--quiet", "--wheel-dir", str(tmp_path / "wheels"), str(source)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]

    (wheel,) = (tmp_path / "wheels").glob("gan_kit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            Path(name).name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("gan_kit/demo/checkpoints/")
        }
    assert set(shipped) == {"demo-stylegan2.pkl", "demo-biggan.pt"}  # models, not images
    for name, content in shipped.items():
        assert content == (ROOT / "assets" / "demo" / name).read_bytes()
