"""The layers of the package: each folder imports only from the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gan_kit"

# folder -> the gan_kit modules it must not import (names and everything below them)
FORBIDDEN = {
    # model math does no file I/O
    "generators": (
        "gan_kit.loading",
        "gan_kit.zoo",
        "gan_kit.explore",
        "gan_kit.files",
        "os",
        "pathlib",
    ),
    "latents": ("gan_kit.generators", "gan_kit.loading", "gan_kit.zoo", "gan_kit.explore"),
    "loading": ("gan_kit.zoo", "gan_kit.explore", "gan_kit.widgets", "gan_kit.cli"),
    "zoo": ("gan_kit.explore", "gan_kit.widgets", "gan_kit.cli"),
    "explore": ("gan_kit.widgets", "gan_kit.cli", "ipywidgets"),
}


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement of `path` names (at any depth in the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_from_the_layers_above(folder):
    modules = sorted((PACKAGE / folder).glob("*.py"))
    assert modules
    for module in modules:
        for name in imported_modules(module):
            for forbidden in FORBIDDEN[folder]:
                assert not (name == forbidden or name.startswith(f"{forbidden}.")), (
                    f"{module.relative_to(PACKAGE.parent)} imports {name}"
                )


def test_no_layer_imports_the_whole_package():
    """`import gan_kit` inside a layer would load every layer (the zoo included); only the
    demo, which sits on top of everything, uses the package's front door."""
    for module in PACKAGE.rglob("*.py"):
        if module.parent.name == "demo" or module == PACKAGE / "__init__.py":
            continue
        names = imported_modules(module)
        assert "gan_kit" not in names, f"{module.relative_to(PACKAGE.parent)} imports gan_kit"
