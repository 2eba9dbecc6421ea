"""The public surface: what README and the notebooks use is declared in `__all__`, and
every public entry point documents each of its parameters."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The library's layers, and the widgets.
DOCUMENTED = [
    "gan_kit",
    "gan_kit.demo",
    "gan_kit.directions",
    "gan_kit.discriminators",
    "gan_kit.explore",
    "gan_kit.export",
    "gan_kit.generators",
    "gan_kit.latents",
    "gan_kit.loading",
    "gan_kit.recipes",
    "gan_kit.widgets",
    "gan_kit.zoo",
]


def python_snippets() -> list[tuple[str, str]]:
    """(where, code) of README's python blocks and the notebooks' code cells."""
    snippets = []
    readme = (ROOT / "README.md").read_text()
    for index, block in enumerate(re.findall(r"```python\n(.*?)```", readme, re.S)):
        snippets.append((f"README.md python block {index + 1}", block))
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
        snippets.append((notebook.name, "\n".join(code)))
    return snippets


def resolve(dotted: str) -> tuple[object, str | None]:
    """The object `dotted` (gan_kit.x.y) names, and the module whose `__all__` must list its
    last part (None when it is itself a module)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        owner = None
        for depth, name in enumerate(parts[end:]):
            owner = ".".join(parts[: end + depth])
            obj = getattr(obj, name)
        return obj, owner
    raise AssertionError(f"{dotted} names nothing")


def dotted_name(node: ast.expr) -> str:
    """`a.b.c` for a chain of attributes of a name, else ""."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def declared(owner: str, name: str) -> bool:
    return name in getattr(importlib.import_module(owner), "__all__", ())


@pytest.mark.parametrize(("where", "code"), python_snippets(), ids=lambda v: v[:40])
def test_readme_and_notebooks_import_only_declared_names(where, code):
    tree = ast.parse(code)
    used = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gan_kit"):
            used += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute) and dotted_name(node).startswith("gan_kit."):
            used.append(dotted_name(node))
    assert used, f"{where} uses nothing of gan_kit"
    for dotted in used:
        _, owner = resolve(dotted)
        if owner is not None:
            assert declared(owner, dotted.rsplit(".", 1)[1]), f"{where}: {dotted} is not public"


def test_the_readmes_inline_names_are_public():
    readme = (ROOT / "README.md").read_text()
    for dotted in set(re.findall(r"`[^`]*?(gan_kit\.[A-Za-z_][\w.]*[A-Za-z_0-9])", readme)):
        _, owner = resolve(dotted)
        if owner is not None:
            assert declared(owner, dotted.rsplit(".", 1)[1]), f"README: {dotted} is not public"


def parameters(function: object) -> list[str]:
    signature = inspect.signature(function)
    skipped = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [
        p.name for p in signature.parameters.values()
        if p.name not in ("self", "cls") and p.kind not in skipped
    ]  # fmt: skip


def mentions(doc: str | None, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", doc or "") is not None


def undocumented(qualified: str, obj: object) -> list[str]:
    """The parameters (and docstrings) `obj`, a public function or class, leaves out."""
    if inspect.isfunction(obj):
        if not obj.__doc__:
            return [f"{qualified}: no docstring"]
        return [f"{qualified}({p})" for p in parameters(obj) if not mentions(obj.__doc__, p)]
    missing = [] if obj.__doc__ else [f"{qualified}: no docstring"]
    doc = (obj.__doc__ or "") + (obj.__init__.__doc__ or "")
    fields = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
    for name in fields or parameters(obj):
        if not mentions(doc, name):
            missing.append(f"{qualified}({name})")
    for name, member in vars(obj).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            missing += [] if member.fget.__doc__ else [f"{qualified}.{name}: no docstring"]
        elif inspect.isfunction(getattr(member, "__func__", member)):
            missing += undocumented(f"{qualified}.{name}", getattr(member, "__func__", member))
    return missing


@pytest.mark.parametrize("module", DOCUMENTED)
def test_every_public_entry_point_documents_its_parameters(module):
    imported = importlib.import_module(module)
    assert imported.__all__
    missing = []
    for name in imported.__all__:
        obj = getattr(imported, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert obj.__doc__, name
        elif inspect.isfunction(obj) or inspect.isclass(obj):
            missing += undocumented(f"{module}.{name}", obj)
    assert not missing, "\n".join(missing)
