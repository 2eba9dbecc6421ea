"""Stamp the Colab set-up from its one source of truth, pyproject.toml's [project.urls].

The repository's public address is written once, as `Repository` under [project.urls]. This
script writes it into every notebook's install cell (the first code cell, whose whole text
is `INSTALL_CELL`) and into README.md's "Open in Colab" links (between the two
`colab-links` markers). `--check` changes nothing and fails when a file disagrees (CI and
the tests run it so); without it the files are rewritten.

    python3 .ci/colab_setup.py          # after changing the address
    python3 .ci/colab_setup.py --check
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER_OWNER = "GAN_KIT_OWNER"  # until the address is known
README_START, README_END = "<!-- colab-links:start -->", "<!-- colab-links:end -->"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"

# The first code cell of every notebook. In Colab it installs gan_kit and pins what
# Colab imported at start to the versions there, so that pip upgrades none of them.
INSTALL_CELL = '''\
# Colab only: install gan_kit, keeping the torch, numpy, ipywidgets 7.7.1, anywidget and
# moviepy 1.0.3 that Colab imported at start (pinned to the versions there: pip upgrades
# none of them). Elsewhere: pip install -e ".[notebooks]" in a clone of the repository.
import sys

REPOSITORY = "{repository}"

if "google.colab" in sys.modules:
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    from google.colab import files

    source = f"git+{{REPOSITORY}}"
    if "{placeholder}" in REPOSITORY:
        print("This notebook does not know gan_kit's GitHub address yet: set REPOSITORY above, "
              "or choose a gan_kit wheel (.whl) to upload now.")
        wheels = [name for name in files.upload() if name.endswith(".whl")]
        source = f"./{{wheels[0]}}" if wheels else None
    pins = []
    for name in ("torch", "numpy", "ipywidgets", "anywidget", "moviepy", "pillow"):
        try:
            pins.append(f"{{name}}=={{version(name)}}")
        except PackageNotFoundError:
            pass
    with open("/tmp/gan_kit_colab_pins.txt", "w") as file:
        file.write("\\n".join(pins))
    if source:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", source,
               "--constraint", "/tmp/gan_kit_colab_pins.txt"]
        done = subprocess.run(pip, capture_output=True, text=True)
        reason = (done.stderr.strip().splitlines() or ["pip said nothing"])[-1]
        print("gan_kit is installed" if done.returncode == 0
              else f"gan_kit was not installed ({{reason}}): check REPOSITORY, or upload a wheel")'''


def repository_url(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """`Repository` under [project.urls] (read as text: Python 3.10 has no tomllib)."""
    text = pyproject.read_text()
    section = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    match = section and re.search(r'^Repository\s*=\s*"([^"]+)"', section.group(1), re.M)
    if not match:
        raise SystemExit(f"{pyproject} has no Repository under [project.urls]")
    return match.group(1).rstrip("/")


def install_cell(repository: str) -> str:
    return INSTALL_CELL.format(repository=repository, placeholder=PLACEHOLDER_OWNER)


def colab_links(repository: str, notebooks: list[Path]) -> str:
    """The README block: a Colab link per notebook, or how to get them."""
    if PLACEHOLDER_OWNER in repository:
        return (
            "Colab links appear here once the repository's public address is set as "
            "`Repository` under `[project.urls]` in `pyproject.toml` (then run "
            "`python3 .ci/colab_setup.py`); until then, each notebook's first cell installs "
            "gan_kit from a wheel you upload (build one in a clone: `python3 -m pip wheel "
            "--no-deps -w dist .`)."
        )
    path = repository.removeprefix("https://github.com/")
    return " ".join(
        f"[![{notebook.stem} in Colab]({BADGE})]"
        f"(https://colab.research.google.com/github/{path}/blob/main/notebooks/{notebook.name})"
        for notebook in notebooks
    )


def stamped_notebook(path: Path, cell: str) -> str:
    notebook = json.loads(path.read_text())
    first = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    first["source"] = cell.splitlines(keepends=True)
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def stamped_readme(text: str, block: str) -> str:
    start, end = text.index(README_START), text.index(README_END)
    return f"{text[: start + len(README_START)]}\n{block}\n{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether files agree")
    args = parser.parse_args(argv)
    repository = repository_url()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    cell = install_cell(repository)
    wanted = {path: stamped_notebook(path, cell) for path in notebooks}
    readme = ROOT / "README.md"
    wanted[readme] = stamped_readme(readme.read_text(), colab_links(repository, notebooks))
    stale = [path for path, text in wanted.items() if path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} disagrees with [project.urls] Repository: run "
                  "python3 .ci/colab_setup.py", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"stamped {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
