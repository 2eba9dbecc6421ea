#!/usr/bin/env bash
# Runs tests again with one package pinned to another version (the one Colab ships), in a
# throw-away venv that sees this Python's packages (torch, numpy, pytest...) and adds only
# that package and what it needs. Needs PyPI.
#   usage: .ci/with-version.sh NAME==VERSION PYTEST_ARGS...
set -euo pipefail
cd "$(dirname "$0")/.."

spec=$1
shift
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv --system-site-packages "$work/venv"
python="$work/venv/bin/python"
"$python" -m pip install --quiet --disable-pip-version-check "$spec"
"$python" - "$spec" <<'PY'
import sys
from importlib.metadata import version

name, wanted = sys.argv[1].split("==")
assert version(name) == wanted, f"{name} {version(name)} is installed, not {wanted}"
print(f"with {name} {wanted}")
PY
"$python" -m pytest -q "$@"
