"""The command line's steering parts: `gan-kit directions` (a labelled strip of the
discovered directions) and `--edit METHOD:INDEX=STRENGTH` on `generate` and `interpolate`
(kept apart from `gan_kit.cli`, which wires them in)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gan_kit.errors import InvalidInputError
from gan_kit.names import DEFAULT_STRENGTHS, DIRECTION_METHODS

if TYPE_CHECKING:  # the parser is built without torch (`--help`); the commands import it
    from gan_kit.directions import Directions, Edit
    from gan_kit.explore.base import Explorer

__all__ = ["add_directions_parser", "add_edit_option", "command_edits", "run_directions"]

EditSpec = tuple[
    str, "str | None", int, float
]  # method, slots (comma list) or None, index, strength
EDIT_HELP = (
    "move every image along a direction: METHOD:INDEX=STRENGTH (sefa:0=2), METHOD@SLOTS"
    ":INDEX=STRENGTH for chosen slots (ganspace@coarse:1=-1.5); repeatable"
)


def parse_edit(text: str) -> EditSpec:
    """An --edit value (argparse type): (method, slots or None, index, strength)."""
    head, _, strength = text.partition("=")
    method_slots, _, index = head.partition(":")
    method, _, slots = method_slots.partition("@")
    if method not in DIRECTION_METHODS or not index or not strength:
        raise InvalidInputError(
            f"--edit takes METHOD:INDEX=STRENGTH with METHOD {' or '.join(DIRECTION_METHODS)}"
            f" (e.g. sefa:0=2), got {text!r}"
        )
    try:
        return method, slots or None, int(index), float(strength)
    except ValueError:
        raise InvalidInputError(
            f"--edit {text!r}: INDEX must be a whole number and STRENGTH a number"
        ) from None


def add_edit_option(parser: argparse.ArgumentParser, argument: Callable) -> None:
    """`--edit` (repeatable) on `parser`; `argument` makes the argparse type of a parser
    named "module:function" (`gan_kit.cli._argument`)."""
    parser.add_argument(
        "--edit", type=argument("gan_kit.cli_directions:parse_edit"), action="append",
        help=EDIT_HELP,
    )  # fmt: skip


def _found_directions(model: Explorer, method: str, slots: Sequence[str] | None, top: int):
    from gan_kit.directions import ganspace, sefa

    return {"sefa": sefa, "ganspace": ganspace}[method](model, slots, top=top)


def command_edits(model: Explorer, specs: Sequence[EditSpec] | None) -> list[Edit]:
    """The `Edit` records of --edit values on `model` (directions cached per model)."""
    edits = []
    for method, slots, index, strength in specs or ():
        if index < 0:
            raise InvalidInputError(f"--edit {method}:{index}: INDEX must be 0 or more")
        slot_list = None if slots is None else slots.split(",")
        directions: Directions = _found_directions(model, method, slot_list, index + 1)
        edits.append(directions.edit(index, strength))
    return edits


def add_directions_parser(
    commands: argparse._SubParsersAction,
    sampling_options: Callable[[argparse.ArgumentParser], None],
    parse_number: Callable[[str], float],
    psi_help: str,
) -> None:
    """The `gan-kit directions --model M --method sefa|ganspace --out strip.png` subcommand;
    `sampling_options` adds --model, --device, --out and the like, `parse_number` is the
    argparse type of psi and strengths."""
    parser = commands.add_parser(
        "directions", help="a strip PNG: rows of directions, columns of strengths, with recipe"
    )
    sampling_options(parser)
    parser.add_argument("--method", choices=DIRECTION_METHODS, default="sefa")
    parser.add_argument("--top", type=int, default=8, help="directions (rows), 8")
    parser.add_argument("--slots", nargs="+", help="slots or groups to move (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="the sample to move (0)")
    parser.add_argument("--psi", type=parse_number, help=psi_help)
    parser.add_argument(
        "--strengths",
        type=parse_number,
        nargs="+",
        default=list(DEFAULT_STRENGTHS),
        help="columns, in standard deviations (-3 to 3)",
    )
    parser.add_argument("--no-labels", action="store_true", help="leave out the labels")


def run_directions(args: argparse.Namespace, render_options: dict) -> Path:
    """Write the strip of `gan-kit directions`."""
    from gan_kit.explore import direction_strip, explorer

    if args.cutoff is not None:
        raise InvalidInputError("--cutoff is not used by directions: leave it out")
    model = explorer(args.model, args.device)
    found = _found_directions(model, args.method, args.slots, args.top)
    grid = direction_strip(
        model,
        found,
        args.seed,
        strengths=args.strengths,
        psi=args.psi,
        labels=not args.no_labels,
        **render_options,
    )
    return grid.save_png(args.out, overwrite=args.overwrite)
