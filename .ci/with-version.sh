#!/usr/bin/env bash
# Runs tests again with one package pinned to another version (the one Colab ships), in a
# throw-away venv that sees the packages of the Python running this script (torch, numpy,
# pytest...: those of the active virtual environment, if any) and adds only that package
# and what it needs. Needs PyPI.
#   usage: .ci/with-version.sh NAME==VERSION PYTEST_ARGS...
set -euo pipefail
cd "$(dirname "$0")/.."

spec=$1
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

"$python" -m pip install --quiet --disable-pip-version-check "$spec"
"$python" - "$spec" <<'PY'
import sys
from importlib.metadata import version

name, wanted = sys.argv[1].split("==")
assert version(name) == wanted, f"{name} {version(name)} is installed, not {wanted}"
print(f"with {name} {wanted}")
PY
"$python" -m pytest -q "$@"
