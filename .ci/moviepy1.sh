#!/usr/bin/env bash
# The export tests again on moviepy 1.0.3 (what Colab has); the main run covers moviepy 2.x
# from the dev extra. A throw-away venv sees this Python's packages (torch, numpy, Pillow,
# imageio-ffmpeg, pytest) and adds only moviepy 1.0.3 and its decorator<5 on top.
# Needs PyPI (moviepy 1.0.3 is an sdist). Takes about 20 s.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv --system-site-packages "$work/venv"
python="$work/venv/bin/python"
"$python" -m pip install --quiet --disable-pip-version-check "moviepy==1.0.3"
"$python" - <<'PY'
import moviepy, numpy, PIL
assert moviepy.__version__ == "1.0.3", moviepy.__version__
print(f"moviepy {moviepy.__version__}, numpy {numpy.__version__}, Pillow {PIL.__version__}")
PY
"$python" -m pytest tests/test_export.py -q
