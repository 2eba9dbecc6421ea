"""The `gan-kit` command line (also `python -m gan_kit`): list models, render seed grids,
style-mixing matrices and interpolation animations, render a saved PNG's recipe again,
and `demo`: a grid and a looping GIF from the demo models that ship with gan_kit.

Every rendering command takes `--model` (a zoo name, URL or path, resolved by
`gan_kit.load` through `gan_kit.explorer`, the one resolver) and `--device`. Bad input
exits with status 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from gan_kit.demo.showcase import DEMO_MODELS, showcase_paths, write_showcase
from gan_kit.directions import ganspace, sefa
from gan_kit.directions.record import Edit
from gan_kit.errors import GanKitError, InvalidInputError
from gan_kit.explore import NOISE_MODES, explorer, model_reference
from gan_kit.explore.animation import animation_writer, checked_scale, save_animation
from gan_kit.explore.base import DEFAULT_PSI, Explorer
from gan_kit.explore.grids import mixing_matrix, render_recipe, sample_grid
from gan_kit.explore.strips import DEFAULT_STRENGTHS, direction_strip
from gan_kit.export.paths import checked_output_path
from gan_kit.latents.classes import parse_class
from gan_kit.latents.interpolation import EASINGS, INTERPOLATIONS
from gan_kit.latents.seeds import parse_seeds
from gan_kit.recipes import recipe_from_png

PSI_HELP = f"truncation psi (default: the model's, as `gan-kit models` lists; else {DEFAULT_PSI})"


def _argument(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse type from a parser that raises InvalidInputError, keeping its message."""

    def parse_argument(text: str) -> object:
        try:
            return parse(text)
        except InvalidInputError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse_argument.__name__ = parse.__name__
    return parse_argument


def parse_scale(text: str) -> int:
    """An animation's enlargement (argparse type): a whole number from 1 to 16."""
    try:
        scale = int(text)
    except ValueError:
        raise InvalidInputError(f"scale must be a whole number, got {text!r}") from None
    return checked_scale(scale)


def parse_psi(text: str) -> float:
    """A psi value (argparse type): a number; NaN and infinities are refused later."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"psi must be a number, got {text!r}") from None


DIRECTION_METHODS = {"sefa": sefa, "ganspace": ganspace}
EDIT_HELP = (
    "move every image along a direction: METHOD:INDEX=STRENGTH (sefa:0=2), METHOD@SLOTS"
    ":INDEX=STRENGTH for chosen slots (ganspace@coarse:1=-1.5); repeatable"
)


def parse_edit(text: str) -> tuple[str, str | None, int, float]:
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


def command_edits(model: Explorer, specs: Sequence[tuple] | None) -> list[Edit]:
    """The `Edit` records of --edit values on `model` (directions cached per model)."""
    edits = []
    for method, slots, index, strength in specs or ():
        slot_list = None if slots is None else slots.split(",")
        if index < 0:
            raise InvalidInputError(f"--edit {method}:{index}: INDEX must be 0 or more")
        directions = DIRECTION_METHODS[method](model, slot_list, top=index + 1)
        edits.append(directions.edit(index, strength))
    return edits


def grid_axes(seeds: int, psis: int, classes: int) -> tuple[str, str | None]:
    """(rows, columns) for a grid: the axes with several values, in the order seed, psi,
    class; one such axis goes down (wrapped into columns), two make rows and columns."""
    varying = [axis for axis, n in (("seed", seeds), ("psi", psis), ("class", classes)) if n > 1]
    if len(varying) > 2:
        raise InvalidInputError("give several values for at most two of seeds, psi and classes")
    rows = varying[0] if varying else "seed"
    return rows, (varying[1] if len(varying) == 2 else None)


def _output_options(parser: argparse.ArgumentParser, folder: Path | None = None) -> None:
    """Device, batching and output options; `folder`: --out is a folder, this by default."""
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA if available)")
    parser.add_argument("--batch-size", type=int, help="images per batch (default: automatic)")
    if folder is None:
        parser.add_argument("--out", type=Path, required=True, help="the file to write")
    else:
        parser.add_argument("--out", type=Path, default=folder, help=f"folder ({folder})")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _sampling_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="zoo name, URL or checkpoint path")
    parser.add_argument("--cutoff", type=int, help="StyleGAN2: truncate only the first N ws")
    parser.add_argument("--noise", choices=NOISE_MODES, default="const", help="StyleGAN2 noise")
    _output_options(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gan-kit", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("models", help="list the models and checkpoint formats gan_kit loads")

    demo = commands.add_parser(
        "demo", help="a grid PNG and a looping GIF per model (default: the offline demo models)"
    )
    demo.add_argument(
        "--model",
        nargs="+",
        default=list(DEMO_MODELS),
        help=f"zoo names, URLs or paths (default: {' '.join(DEMO_MODELS)})",
    )
    demo.add_argument("--psi", type=parse_psi, help=PSI_HELP)
    _output_options(demo, folder=Path("gan_kit_demo"))

    generate = commands.add_parser("generate", help="seeds -> a labelled grid PNG with recipe")
    _sampling_options(generate)
    generate.add_argument("--seeds", type=_argument(parse_seeds), required=True, help="e.g. 0-7,12")
    generate.add_argument("--psi", type=parse_psi, nargs="+", help=f"one or several; {PSI_HELP}")
    generate.add_argument(
        "--classes",
        type=_argument(parse_class),
        nargs="+",
        help='BigGAN classes: 3 or blends "3:0.5+7:0.5"',
    )
    generate.add_argument("--columns", type=int, help="columns when only one axis varies")
    generate.add_argument("--no-labels", action="store_true", help="leave out the labels")
    generate.add_argument("--edit", type=_argument(parse_edit), action="append", help=EDIT_HELP)

    directions = commands.add_parser(
        "directions", help="a strip PNG: rows of directions, columns of strengths, with recipe"
    )
    _sampling_options(directions)
    directions.add_argument("--method", choices=sorted(DIRECTION_METHODS), default="sefa")
    directions.add_argument("--top", type=int, default=8, help="directions (rows), 8")
    directions.add_argument("--slots", nargs="+", help="slots or groups to move (default: all)")
    directions.add_argument("--seed", type=int, default=0, help="the sample to move (0)")
    directions.add_argument("--psi", type=parse_psi, help=PSI_HELP)
    directions.add_argument(
        "--strengths",
        type=parse_psi,
        nargs="+",
        default=list(DEFAULT_STRENGTHS),
        help="columns, in standard deviations (-3 to 3)",
    )
    directions.add_argument("--no-labels", action="store_true", help="leave out the labels")

    mix = commands.add_parser("mix", help="a style-mixing matrix PNG (sources x destinations)")
    _sampling_options(mix)
    mix.add_argument("--psi", type=parse_psi, help=PSI_HELP)
    mix.add_argument(
        "--sources", type=_argument(parse_seeds), required=True, help="seeds down the side"
    )
    mix.add_argument(
        "--destinations", type=_argument(parse_seeds), required=True, help="seeds on top"
    )
    mix.add_argument("--layers", nargs="+", required=True, help="slots or groups to take")
    mix.add_argument("--no-labels", action="store_true", help="leave out the labels")

    animate = commands.add_parser("interpolate", help="keyframe seeds -> a GIF or MP4")
    _sampling_options(animate)
    animate.add_argument("--psi", type=parse_psi, help=PSI_HELP)
    animate.add_argument(
        "--seeds", type=_argument(parse_seeds), required=True, help="keyframes, >= 2"
    )
    animate.add_argument(
        "--classes", type=_argument(parse_class), nargs="+", help="one, or one per seed"
    )
    animate.add_argument("--frames", type=int, default=24, help="frames per segment (24)")
    animate.add_argument("--loop", action="store_true", help="return to the first keyframe")
    animate.add_argument("--method", choices=sorted(INTERPOLATIONS), help="default: slerp in z")
    animate.add_argument("--space", choices=("z", "w"), default="z", help="w: StyleGAN2 only")
    animate.add_argument("--easing", choices=sorted(EASINGS), default="linear")
    animate.add_argument("--layers", nargs="+", help="animate only these slots or groups")
    animate.add_argument("--fps", type=float, default=15.0, help="frames per second (15)")
    animate.add_argument(
        "--scale", type=_argument(parse_scale), default=1, help="enlarge frames N times (1)"
    )
    animate.add_argument("--edit", type=_argument(parse_edit), action="append", help=EDIT_HELP)

    rerender = commands.add_parser("rerender", help="render a gan_kit PNG again from its recipe")
    rerender.add_argument("image", type=Path, help="a PNG saved by gan_kit")
    rerender.add_argument("--model", help="use this model instead of the recipe's")
    _output_options(rerender)
    return parser


def list_models() -> str:
    """The zoo's models and the local checkpoint formats, as text."""
    from gan_kit.loading.formats import CHECKPOINT_FORMATS
    from gan_kit.zoo import MODELS

    lines = ["Models by name (--model NAME):"]
    lines += [
        f"  {entry.name:<22} {entry.kind:<9} {entry.resolution:>4} px  psi {entry.psi_default:<4g}"
        f"  {entry.description}"
        for entry in MODELS.values()
    ]
    lines += ["", "Local files (--model PATH), recognised by content:"]
    lines += [f"  - {checkpoint_format.description}" for checkpoint_format in CHECKPOINT_FORMATS]
    lines += ["", "and http(s) URLs of such files (--model URL)."]
    return "\n".join(lines)


def _render_options(args: argparse.Namespace) -> dict:
    return dict(noise_mode=args.noise, batch_size=args.batch_size, progress=not args.quiet)


def _generate(args: argparse.Namespace) -> Path:
    model = explorer(args.model, args.device)
    psi = args.psi or [model.psi_default]
    classes = args.classes
    rows, columns = grid_axes(len(args.seeds), len(psi), len(classes or ()))
    grid = sample_grid(
        model,
        args.seeds,
        psi=psi,
        classes=classes,
        rows=rows,
        columns=columns,
        num_columns=args.columns,
        cutoff=args.cutoff,
        labels=not args.no_labels,
        edits=command_edits(model, args.edit),
        **_render_options(args),
    )
    return grid.save_png(args.out, overwrite=args.overwrite)


def _directions(args: argparse.Namespace) -> Path:
    model = explorer(args.model, args.device)
    if args.cutoff is not None:
        raise InvalidInputError("--cutoff is not used by directions: leave it out")
    found = DIRECTION_METHODS[args.method](model, args.slots, top=args.top)
    grid = direction_strip(
        model,
        found,
        args.seed,
        strengths=args.strengths,
        psi=args.psi,
        labels=not args.no_labels,
        **_render_options(args),
    )
    return grid.save_png(args.out, overwrite=args.overwrite)


def _mix(args: argparse.Namespace) -> Path:
    model = explorer(args.model, args.device)
    grid = mixing_matrix(
        model,
        args.sources,
        args.destinations,
        args.layers,
        psi=model.psi_default if args.psi is None else args.psi,
        cutoff=args.cutoff,
        labels=not args.no_labels,
        **_render_options(args),
    )
    return grid.save_png(args.out, overwrite=args.overwrite)


def _interpolate(args: argparse.Namespace) -> Path:
    model = explorer(args.model, args.device)
    styles = model.interpolate(
        model.latents(args.seeds, args.classes),
        args.frames,
        loop=args.loop,
        method=args.method,
        space=args.space,
        easing=args.easing,
        psi=model.psi_default if args.psi is None else args.psi,
        cutoff=args.cutoff,
        layers=args.layers,
    )
    styles = model.apply_edits(styles, command_edits(model, args.edit))
    return save_animation(
        model,
        styles,
        args.out,
        fps=args.fps,
        scale=args.scale,
        overwrite=args.overwrite,
        **_render_options(args),
    )


def _demo(args: argparse.Namespace) -> str:
    showcase_paths(args.model, args.out, overwrite=args.overwrite)  # all, before any work
    written = []
    for model in args.model:
        showcase = write_showcase(
            model,
            args.out,
            psi=args.psi,
            overwrite=args.overwrite,
            device=args.device,
            batch_size=args.batch_size,
            progress=not args.quiet,
        )
        written += [showcase.grid, showcase.animation]
    return "\n".join(map(str, written))


def _check_output(args: argparse.Namespace) -> None:
    """Fail on a bad output path before loading or rendering anything."""
    suffix = ".png"
    if args.command == "interpolate":
        animation_writer(args.out)
        suffix = args.out.suffix.lower()
    checked_output_path(args.out, suffix, overwrite=args.overwrite)


def _rerender(args: argparse.Namespace) -> Path:
    recipe = recipe_from_png(args.image)
    if args.model is not None:
        recipe = replace(recipe, model=model_reference(args.model))
    grid = render_recipe(
        recipe, device=args.device, batch_size=args.batch_size, progress=not args.quiet
    )
    return grid.save_png(args.out, overwrite=args.overwrite)


COMMANDS = {
    "demo": _demo,
    "generate": _generate,
    "directions": _directions,
    "mix": _mix,
    "interpolate": _interpolate,
    "rerender": _rerender,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, or 2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "models":
            print(list_models())
            return 0
        if args.command != "demo":  # demo checks its own files, per model
            _check_output(args)
        written = COMMANDS[args.command](args)
    except GanKitError as error:
        print(f"gan-kit: error: {error}", file=sys.stderr)
        return 2
    print(written)
    return 0
