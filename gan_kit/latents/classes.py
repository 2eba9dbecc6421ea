"""Class choices for conditional models: one class, or a blend of several.

A class spec is an int (one class), a mapping {class: weight} (a blend; the weights are
used as given, so {3: 0.5, 7: 0.5} is the midpoint and they need not sum to 1), or a
vector [n_class]. Text form, for the CLI and labels: "3", or "3:0.5+7:0.5".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from gan_kit.errors import InvalidInputError
from gan_kit.values import is_number, is_whole_number

ClassSpec = int | Mapping[int, float] | torch.Tensor | np.ndarray
ClassChoice = int | dict[int, float]  # a spec normalised for JSON and labels


def normalised_class(spec: ClassSpec, n_class: int) -> ClassChoice:
    """`spec` as an int or a {class: weight} dict (a vector keeps its non-zero entries)."""
    if isinstance(spec, (torch.Tensor, np.ndarray)):
        vector = torch.as_tensor(spec).detach().cpu().double().flatten()
        if vector.numel() != n_class:
            raise InvalidInputError(f"a class vector needs {n_class} values, got {vector.numel()}")
        spec = {int(i): float(vector[i]) for i in torch.nonzero(vector).flatten()}
    if is_whole_number(spec):
        _check_index(int(spec), n_class)
        return int(spec)
    if isinstance(spec, Mapping):
        blend = {}
        for index, weight in spec.items():
            index = int(index)  # JSON keys come back as strings
            _check_index(index, n_class)
            if not is_number(weight):
                raise InvalidInputError(f"class weights must be numbers, got {weight!r}")
            if not math.isfinite(weight):
                raise InvalidInputError(f"class weights must be finite, got {weight}")
            blend[index] = float(weight)
        if not blend:
            raise InvalidInputError("a class blend needs at least one class")
        return blend
    raise InvalidInputError(
        f"a class is an index, a {{class: weight}} blend or a vector, got {spec!r}"
    )


def _check_index(index: int, n_class: int) -> None:
    if not 0 <= index < n_class:
        raise InvalidInputError(f"class indices must be in 0..{n_class - 1}, got {index}")


def class_vector(choice: ClassChoice, n_class: int) -> torch.Tensor:
    """The class vector [n_class] (float32) of a normalised choice."""
    vector = torch.zeros(n_class, dtype=torch.float32)
    for index, weight in ({choice: 1.0} if isinstance(choice, int) else choice).items():
        vector[index] = weight
    return vector


def class_choices(classes: ClassSpec | Sequence[ClassSpec], n_class: int) -> list[ClassChoice]:
    """Normalised choices: [one] for a single spec, one per item of a sequence (or of the
    rows of a [k, n_class] array)."""
    if isinstance(classes, (torch.Tensor, np.ndarray)) and classes.ndim == 2:
        classes = list(classes)
    if isinstance(classes, (list, tuple)):
        if not classes:
            raise InvalidInputError("give at least one class")
        return [normalised_class(spec, n_class) for spec in classes]
    return [normalised_class(classes, n_class)]


def per_sample_classes(
    classes: ClassSpec | Sequence[ClassSpec], batch: int, n_class: int
) -> list[ClassChoice]:
    """One normalised choice per sample: a single spec is repeated, a sequence gives one each."""
    choices = class_choices(classes, n_class)
    if len(choices) == 1:
        return choices * batch
    if len(choices) != batch:
        raise InvalidInputError(f"give one class or one per sample ({batch}), got {len(choices)}")
    return choices


def format_class(choice: ClassChoice) -> str:
    """Text form of a choice: "3" or "3:0.5+7:0.5"."""
    if isinstance(choice, int):
        return str(choice)
    return "+".join(f"{index}:{weight:g}" for index, weight in choice.items())


def parse_class(text: str) -> ClassChoice:
    """Read the text form ("3", "3:0.5+7:0.5"); the range is checked when it is used."""
    try:
        if ":" not in text:
            return int(text)
        parts = (part.split(":") for part in text.split("+"))
        return {int(index): float(weight) for index, weight in parts}
    except ValueError:
        raise InvalidInputError(
            f"cannot read the class {text!r}: write an index (3) or a blend (3:0.5+7:0.5)"
        ) from None
