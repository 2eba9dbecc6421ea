"""Directions (unit vectors in a model's style space) and the edits made with them.

A `Directions` holds orthonormal vectors [top, dim] for some slots of one model; an `Edit`
is one of them at a strength, recorded with its displacement vector itself, so that a
recipe re-renders the same pixels without recomputing anything. Strengths are in
standard deviations of the model's untruncated codes along the direction (`scales`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import torch

from gan_kit.errors import InvalidInputError
from gan_kit.values import is_finite_number, is_number, is_whole_number

MAX_ABS_STRENGTH = 100.0  # standard deviations; far past any useful edit (about -5..5)
MAX_NAME_LENGTH = 80


def checked_strength(strength: object) -> float:
    """`strength` as a float, refusing NaN, infinities, non-numbers and absurd sizes."""
    if not is_finite_number(strength):
        raise InvalidInputError(f"an edit's strength must be a finite number, got {strength!r}")
    if abs(strength) > MAX_ABS_STRENGTH:
        raise InvalidInputError(
            f"an edit's strength must be between -{MAX_ABS_STRENGTH:g} and "
            f"{MAX_ABS_STRENGTH:g} (standard deviations), got {strength:g}; useful "
            "strengths are about -5 to 5"
        )
    return float(strength)


def checked_name(name: object) -> str:
    """A direction's name: a non-empty single line of at most MAX_NAME_LENGTH characters."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"a direction's name must be text of 1 to {MAX_NAME_LENGTH} characters, got {name!r}"
        )
    if not name.isprintable():
        raise InvalidInputError(
            f"a direction's name must be one line of printable text, got {name!r}"
        )
    return name.strip()


@dataclass(frozen=True)
class Edit:
    """One direction at one strength: `vector` is the displacement of strength 1 (the
    unit direction times its scale, after any projection), added `strength` times to
    every slot in `slots` of a model whose weights have `fingerprint`. `method`, `index`
    and `name` say where it came from (for labels and recipes)."""

    method: str
    slots: tuple[str, ...]
    index: int
    strength: float
    vector: tuple[float, ...] = field(repr=False)
    fingerprint: str
    name: str | None = None

    @property
    def label(self) -> str:
        """How a caption names it: its name, else "method index"; with its strength."""
        return f"{self.name or f'{self.method} {self.index}'} {self.strength:+g}"

    def to_dict(self) -> dict:
        """The edit as JSON-ready values (what `from_dict` reads)."""
        return {
            "method": self.method,
            "slots": list(self.slots),
            "index": self.index,
            "strength": self.strength,
            "vector": list(self.vector),
            "fingerprint": self.fingerprint,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, data: object, what: str = "the edit") -> Edit:
        """The edit `to_dict` wrote, read back from JSON as `data` (hostile: every field
        checked, named by `what` in errors)."""
        fields = {"method", "slots", "index", "strength", "vector", "fingerprint", "name"}
        if not isinstance(data, dict) or set(data) != fields:
            keys = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise InvalidInputError(
                f"{what} must have exactly the fields {sorted(fields)}, got {keys}"
            )
        text = (lambda v: isinstance(v, str) and 0 < len(v) <= MAX_NAME_LENGTH, "a short text")
        rules = {
            "method": text,
            "fingerprint": text,
            "slots": (
                lambda v: isinstance(v, list) and v and all(text[0](s) for s in v),
                "a list of slot names",
            ),
            "index": (lambda v: is_whole_number(v) and v >= 0, "a whole number >= 0"),
            "strength": (is_number, "a number"),
            "vector": (
                lambda v: isinstance(v, list) and v and all(map(is_finite_number, v)),
                "a list of finite numbers",
            ),
            "name": (lambda v: v is None or text[0](v), "a short text or null"),
        }
        for name, (test, description) in rules.items():
            if not test(data[name]):
                raise InvalidInputError(
                    f"{what}'s {name} must be {description}, got {data[name]!r}"
                )
        return cls(
            method=data["method"],
            slots=tuple(data["slots"]),
            index=data["index"],
            strength=checked_strength(data["strength"]),
            vector=tuple(float(value) for value in data["vector"]),
            fingerprint=data["fingerprint"],
            name=data["name"],
        )


@dataclass(frozen=True, eq=False)
class Directions:
    """Orthonormal `vectors` [top, dim] (float32, CPU) found by `method` ("sefa",
    "ganspace") for the `slots` of the model whose weights have `fingerprint`, best
    first; `scales` [top] the standard deviation of the model's untruncated codes along
    each (strength 1 moves that far); `settings` what else they depend on ("samples=4096");
    `names` the users' names (None where unnamed)."""

    vectors: torch.Tensor = field(repr=False)
    scales: torch.Tensor = field(repr=False)
    slots: tuple[str, ...]
    method: str
    fingerprint: str
    settings: str = ""
    names: tuple[str | None, ...] | None = None

    def __len__(self) -> int:
        return self.vectors.shape[0]

    @property
    def dim(self) -> int:
        """The width of each vector (the width of one slot's code)."""
        return self.vectors.shape[1]

    @property
    def key(self) -> str:
        """What identifies these directions on their model (method, slots, settings): the
        name of their cache file and of their saved names."""
        parts = [self.method, "+".join(self.slots)]
        return "-".join(parts + ([self.settings] if self.settings else []))

    def label(self, index: int) -> str:
        """The name of direction `index`, else "method index"."""
        self._checked_index(index)
        name = None if self.names is None else self.names[index]
        return name or f"{self.method} {index}"

    def with_names(self, names: Mapping[int, str | None] | Sequence[str | None]) -> Directions:
        """A copy with `names` ({index: name}, or one per direction; None unnames)."""
        items = names.items() if isinstance(names, Mapping) else enumerate(names)
        current = list(self.names or [None] * len(self))
        for index, name in items:
            self._checked_index(index)
            current[index] = None if name is None else checked_name(name)
        return replace(self, names=tuple(current) if any(current) else None)

    def edit(
        self, index: int, strength: float, *, keep: Iterable[tuple[Directions, int]] = ()
    ) -> Edit:
        """Direction `index` at `strength` (standard deviations) as an `Edit`. With
        `keep`, (directions, index) pairs of this model, the direction is first projected
        off theirs (InterFaceGAN's conditional manipulation), so the edit leaves the
        codes' positions along them unchanged."""
        self._checked_index(index)
        vector = self.vectors[index].double()
        conditions = []
        for other, other_index in keep:
            if not isinstance(other, Directions):
                raise InvalidInputError(f"keep takes (Directions, index) pairs, got {other!r}")
            other._checked_index(other_index)
            self.check_compatible(other.fingerprint, other.dim, "a direction in keep")
            conditions.append(other.vectors[other_index].double())
        if conditions:
            basis, _ = torch.linalg.qr(torch.stack(conditions).T)
            vector = vector - basis @ (basis.T @ vector)
            norm = float(vector.norm())
            if norm < 1e-6:
                raise InvalidInputError(
                    f"{self.label(index)} lies in the span of the directions to keep: "
                    "projecting it off them leaves nothing; keep fewer"
                )
            vector = vector / norm
        step = (vector * float(self.scales[index])).float()
        return Edit(
            method=self.method,
            slots=self.slots,
            index=index,
            strength=checked_strength(strength),
            vector=tuple(step.tolist()),
            fingerprint=self.fingerprint,
            name=None if self.names is None else self.names[index],
        )

    def check_compatible(self, fingerprint: str, dim: int, what: str) -> None:
        """Refuse `what` (of weights `fingerprint`, width `dim`) unless it belongs to the
        same model as these directions."""
        if dim != self.dim:
            raise InvalidInputError(
                f"{what} has {dim} dimensions, these directions {self.dim}: it is from another "
                "model; compute it on this one"
            )
        if fingerprint != self.fingerprint:
            raise InvalidInputError(
                f"{what} is from the model with fingerprint {fingerprint}, these directions "
                f"from {self.fingerprint}: compute it on this model"
            )

    def _checked_index(self, index: object) -> int:
        if not is_whole_number(index) or not 0 <= index < len(self):
            raise InvalidInputError(
                f"direction index must be a whole number from 0 to {len(self) - 1}, got {index!r}"
            )
        return int(index)


def orthonormal_rows(vectors: torch.Tensor) -> torch.Tensor:
    """Rows of `vectors` (float64) made orthonormal in order (Gram-Schmidt by QR), each
    signed so that its largest entry is positive (deterministic across machines)."""
    basis, _ = torch.linalg.qr(vectors.T.double())
    rows = basis.T
    largest = rows.abs().argmax(dim=1)
    signs = torch.sign(rows[torch.arange(len(rows)), largest])
    return rows * signs[:, None]


def max_orthonormality_error(vectors: torch.Tensor) -> float:
    """max |V V^T - I| of `vectors` [top, dim]."""
    gram = vectors.double() @ vectors.double().T
    return float((gram - torch.eye(len(vectors), dtype=gram.dtype)).abs().max())
