"""Default arguments of a TF network's build function, read from its pickled source.

NVIDIA's TF pickles store only the keyword arguments a training config passed
(`static_kwargs`); every other setting is the default in the build function's source,
which the pickle carries as text (`build_module_src`). Forks changed those defaults:
StyleGAN2-ext (This Anime Does Not Exist) turns latent normalisation off there. The
source is parsed, never run, and only literal defaults (numbers, strings, lists) are read.
"""

from __future__ import annotations

import ast
from typing import Any

from gan_kit.errors import UnsupportedCheckpointError

MAX_SOURCE_CHARS = 1_000_000


def build_function_defaults(source: str, build_func_name: str) -> dict[str, Any]:
    """The literal keyword defaults of the function `build_func_name` names in `source`.

    `build_func_name` is the dotted name the pickle stores (e.g.
    'training.networks_stylegan2.G_mapping'). An empty or unparsable source, or one
    without that function, gives {}: the caller then falls back to NVIDIA's defaults.
    A source over `MAX_SOURCE_CHARS` is refused unparsed.
    """
    if len(source) > MAX_SOURCE_CHARS:  # parsing takes some 500 bytes of memory per char
        raise UnsupportedCheckpointError(
            f"the pickle's build source is {len(source):,} characters long, far beyond "
            f"NVIDIA's (about 40,000; gan_kit reads up to {MAX_SOURCE_CHARS:,}): this is not "
            "a network snapshot gan_kit reads"
        )
    function_name = build_func_name.rsplit(".", 1)[-1]
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    for node in reversed(tree.body):  # as in Python, the last definition counts
        if isinstance(node, ast.FunctionDef) and node.name == function_name:
            return _literal_defaults(node.args)
    return {}


def _literal_defaults(arguments: ast.arguments) -> dict[str, Any]:
    positional = [*arguments.posonlyargs, *arguments.args]
    with_default = positional[len(positional) - len(arguments.defaults) :]
    pairs = list(zip(with_default, arguments.defaults, strict=True))
    pairs += [
        (argument, default)
        for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
        if default is not None
    ]
    defaults = {}
    for argument, default in pairs:
        try:
            defaults[argument.arg] = ast.literal_eval(default)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            continue  # not a literal (e.g. `dnnlib.EasyDict()`): nothing to read
    return defaults
