"""What counts as a number where users and files give settings: bools are not numbers here
(Python treats True as 1, which would make `seed=True` or `cutoff=False` pass silently)."""

from __future__ import annotations

import math
import numbers


def is_whole_number(value: object) -> bool:
    """An int (or numpy integer), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """An int or float (or numpy scalar), not a bool; NaN and infinities included."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_finite_number(value: object) -> bool:
    """A number that is neither NaN nor infinite."""
    return is_number(value) and math.isfinite(value)
