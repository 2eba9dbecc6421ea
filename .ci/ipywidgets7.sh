#!/usr/bin/env bash
# The widget and notebook tests again on ipywidgets 7.7.1 (what Colab ships); the main run covers
# ipywidgets 8 from the dev extra. A throw-away venv sees this Python's packages (torch,
# numpy, Pillow, moviepy, pytest, IPython) and adds only ipywidgets 7.7.1 and its
# widgetsnbextension 3.x on top. Needs PyPI. Takes about 60 s.
# (Not the browser test: Voila 0.5's page speaks only the ipywidgets 8 protocol.)
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
# ipywidgets 7 warns about ipykernel's deprecated Comm class on every widget: noise here.
"$python" -m pytest tests/test_widgets.py tests/test_notebooks.py -q -W ignore::DeprecationWarning
