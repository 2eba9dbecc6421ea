#!/usr/bin/env bash
# Runs tests again with packages pinned to other versions (the ones Colab ships), in a
# throw-away venv that sees the packages of the Python running this script (torch, numpy,
# pytest...: those of the active virtual environment, if any) and adds only those packages
# and what they need. Needs PyPI.
#   usage: .ci/with-version.sh "NAME==VERSION [NAME==VERSION...]" PYTEST_ARGS...
set -euo pipefail
cd "$(dirname "$0")/.."

read -r -a specs <<<"$1"
shift
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# `venv --system-site-packages` would see the base interpreter's packages, not an active
# venv's: the new venv reads this Python's own site folders instead, through a .pth file
# (after its own, so the pinned version wins), with their .pth files (editable installs).
python3 -m venv "$work/venv"
python="$work/venv/bin/python"
outer_sites="$(python3 -c '
import sys
print([p for p in sys.path if p.endswith(("site-packages", "dist-packages"))])
')"
inner_site="$("$python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
echo "import site; list(map(site.addsitedir, $outer_sites))" >"$inner_site/outer-env.pth"

# Jupyter servers started by the tests find the front-end extensions (widgets, anywidget)
# of this venv first, then those of the outer environment.
JUPYTER_PATH="$("$python" -c 'import sys; print(sys.prefix)')/share/jupyter:$(python3 -c 'import sys; print(sys.prefix)')/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export JUPYTER_PATH

"$python" -m pip install --quiet --disable-pip-version-check "${specs[@]}"
"$python" - "${specs[@]}" <<'PY'
import sys
from importlib.metadata import version

for spec in sys.argv[1:]:
    name, wanted = spec.split("==")
    assert version(name) == wanted, f"{name} {version(name)} is installed, not {wanted}"
    print(f"with {name} {wanted}")
PY
"$python" -m pytest -q "$@"
