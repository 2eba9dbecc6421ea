#!/usr/bin/env bash
# The widget, notebook and browser tests again on ipywidgets 7.7.1 (what Colab ships); the main run covers
# ipywidgets 8 from the dev extra. A throw-away venv sees this Python's packages (torch,
# numpy, Pillow, moviepy, pytest, IPython) and adds only ipywidgets 7.7.1 and its
# widgetsnbextension 3.x on top. Needs PyPI. Takes about 25 s.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv --system-site-packages "$work/venv"
python="$work/venv/bin/python"
"$python" -m pip install --quiet --disable-pip-version-check "ipywidgets==7.7.1"
"$python" - <<'PY'
import ipywidgets
assert ipywidgets.__version__ == "7.7.1", ipywidgets.__version__
print(f"ipywidgets {ipywidgets.__version__}")
PY
# Voila's templates are data files of this Python's prefix, which the venv does not see.
export JUPYTER_PATH="$(python3 -c 'import sys; print(sys.prefix)')/share/jupyter"
# ipywidgets 7 warns about ipykernel's deprecated Comm class on every widget: noise here.
"$python" -m pytest tests/test_widgets.py tests/test_notebooks.py tests/test_browser.py -q -W ignore::DeprecationWarning
