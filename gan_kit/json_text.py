"""JSON read from files gan_kit did not write (PNG recipes): nesting bounded before
parsing, so that a few kilobytes of brackets cannot exhaust Python's recursion limit."""

from __future__ import annotations

import json
import re
from itertools import accumulate

from gan_kit.errors import InvalidInputError

MAX_JSON_DEPTH = 32  # a recipe nests 3 deep
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of JSON `text` nest (strings do not count)."""
    steps = (1 if bracket in "[{" else -1 for bracket in _BRACKET.findall(_STRING.sub("", text)))
    return max(accumulate(steps, initial=0))


def load_json(text: str, what: str) -> object:
    """`text` parsed as JSON, else an InvalidInputError naming `what` ("the recipe"), also
    when it nests deeper than MAX_JSON_DEPTH (checked first)."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InvalidInputError(
            f"{what} nests deeper than {MAX_JSON_DEPTH} levels: it was not written by gan_kit"
        )
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise InvalidInputError(f"{what} is not valid JSON: {error}") from None
