"""The `gan-kit` command line (also `python -m gan_kit`): list models, render seed grids,
style-mixing matrices and interpolation animations, render a saved PNG's recipe again,
and `demo`: a grid and a looping GIF from the demo models that ship with gan_kit.

Every rendering command takes `--model` (a zoo name, URL or path, resolved by
`gan_kit.load` through `gan_kit.explorer`, the one resolver) and `--device`. Bad input
exits with status 2 and a one-line message, never a traceback. gan_kit's errors give
advice in Python's words (`overwrite=True`); `cli_words` turns it into flags, here only.

The parser is built without torch (rendering modules are imported by the commands that
use them), so that `--help` and `--version` answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from gan_kit.cli_directions import (
    add_directions_parser,
    add_edit_option,
    command_edits,
    run_directions,
)
from gan_kit.cli_projection import add_best_of_option, add_project_parser, best_of, run_project
from gan_kit.errors import GanKitError, InvalidInputError
from gan_kit.names import (
    ATLAS_BATCH_SIZE,
    ATLAS_COLUMNS,
    ATLAS_PAGE_SIZE,
    DEFAULT_PSI,
    DEMO_MODELS,
    EASING_NAMES,
    INTERPOLATION_METHODS,
    NOISE_MODES,
)
from gan_kit.version import __version__

PSI_HELP = f"truncation psi (default: the model's, as `gan-kit models` lists; else {DEFAULT_PSI})"

# Advice in gan_kit's errors, in Python's words -> the same advice on the command line.
PYTHON_TO_CLI = (
    ("pass overwrite=True", "pass --overwrite"),
    ("overwrite=True", "--overwrite"),
    ("device=None to pick automatically", "leave --device out to pick automatically"),
    ("device='cpu'", "--device cpu"),
    ("pass model=...", "pass --model"),
    ("trust_model=True", "--trust-recipe-model"),
    ("pass the file's path to gan_kit.load", "pass the file's path as --model"),
    ("pass the file to gan_kit.load", "pass the file as --model"),
    (" (or pass max_bytes to download_url)", ""),
    ("gan_kit.convert", "gan-kit convert"),
)


def cli_words(message: str) -> str:
    """`message` (a gan_kit error's) with its Python advice in command-line words."""
    for python, cli in PYTHON_TO_CLI:
        message = message.replace(python, cli)
    return message


def _argument(parser: str) -> Callable[[str], object]:
    """An argparse type from the parser `parser` ("module:function", imported when first
    used: not for --help) that raises InvalidInputError, keeping its message."""
    module, _, name = parser.partition(":")

    def parse_argument(text: str) -> object:
        try:
            return getattr(importlib.import_module(module), name)(text)
        except InvalidInputError as error:
            raise argparse.ArgumentTypeError(cli_words(str(error))) from None

    parse_argument.__name__ = name
    return parse_argument


def parse_scale(text: str) -> int:
    """An animation's enlargement (argparse type): a whole number from 1 to 16."""
    from gan_kit.explore.animation import checked_scale

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
    _quiet_option(parser)


def _quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bars or warnings: only errors"
    )


def _sampling_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="zoo name, URL or checkpoint path")
    parser.add_argument("--cutoff", type=int, help="StyleGAN2: truncate only the first N ws")
    parser.add_argument("--noise", choices=NOISE_MODES, default="const", help="StyleGAN2 noise")
    _output_options(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gan-kit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"gan-kit {__version__}")
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
    generate.add_argument(
        "--seeds",
        type=_argument("gan_kit.latents.seeds:parse_seeds"),
        required=True,
        help="e.g. 0-7,12",
    )
    generate.add_argument("--psi", type=parse_psi, nargs="+", help=f"one or several; {PSI_HELP}")
    generate.add_argument(
        "--classes",
        type=_argument("gan_kit.latents.classes:parse_class"),
        nargs="+",
        help='BigGAN classes: 3 or blends "3:0.5+7:0.5"',
    )
    generate.add_argument("--columns", type=int, help="columns when only one axis varies")
    generate.add_argument("--no-labels", action="store_true", help="leave out the labels")
    add_best_of_option(generate)
    add_edit_option(generate, _argument)
    add_directions_parser(commands, _sampling_options, parse_psi, PSI_HELP)

    mix = commands.add_parser("mix", help="a style-mixing matrix PNG (sources x destinations)")
    _sampling_options(mix)
    mix.add_argument("--psi", type=parse_psi, help=PSI_HELP)
    mix.add_argument(
        "--sources",
        type=_argument("gan_kit.latents.seeds:parse_seeds"),
        required=True,
        help="seeds down the side",
    )
    mix.add_argument(
        "--destinations",
        type=_argument("gan_kit.latents.seeds:parse_seeds"),
        required=True,
        help="seeds on top",
    )
    mix.add_argument("--layers", nargs="+", required=True, help="slots or groups to take")
    mix.add_argument("--no-labels", action="store_true", help="leave out the labels")

    animate = commands.add_parser("interpolate", help="keyframe seeds -> a GIF or MP4")
    _sampling_options(animate)
    animate.add_argument("--psi", type=parse_psi, help=PSI_HELP)
    animate.add_argument(
        "--seeds",
        type=_argument("gan_kit.latents.seeds:parse_seeds"),
        required=True,
        help="keyframes, >= 2",
    )
    animate.add_argument(
        "--classes",
        type=_argument("gan_kit.latents.classes:parse_class"),
        nargs="+",
        help="one, or one per seed",
    )
    animate.add_argument("--frames", type=int, default=24, help="frames per segment (24)")
    animate.add_argument("--loop", action="store_true", help="return to the first keyframe")
    animate.add_argument(
        "--method", choices=sorted(INTERPOLATION_METHODS), help="default: slerp in z"
    )
    animate.add_argument("--space", choices=("z", "w"), default="z", help="w: StyleGAN2 only")
    animate.add_argument("--easing", choices=sorted(EASING_NAMES), default="linear")
    animate.add_argument("--layers", nargs="+", help="animate only these slots or groups")
    animate.add_argument("--fps", type=float, default=15.0, help="frames per second (15)")
    animate.add_argument(
        "--scale",
        type=_argument("gan_kit.cli:parse_scale"),
        default=1,
        help="enlarge frames N times (1)",
    )
    add_edit_option(animate, _argument)

    add_project_parser(commands)

    rerender = commands.add_parser("rerender", help="render a gan_kit PNG again from its recipe")
    rerender.add_argument("image", type=Path, help="a PNG saved by gan_kit")
    rerender.add_argument("--model", help="use this model instead of the recipe's")
    rerender.add_argument(
        "--trust-recipe-model",
        action="store_true",
        help="load the path or URL the PNG names (by default only zoo models are)",
    )
    _output_options(rerender)

    convert = commands.add_parser(
        "convert", help="a checkpoint -> gan_kit's .safetensors file (fast loads, no pickle)"
    )
    convert.add_argument("source", help="zoo name, URL, hf:// address or checkpoint path")
    convert.add_argument("--out", type=Path, required=True, help="the .safetensors file")
    convert.add_argument("--overwrite", action="store_true", help="replace an existing file")
    _quiet_option(convert)
    _add_atlas_command(commands)
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
    from gan_kit.explore import explorer, sample_grid

    model = explorer(args.model, args.device)
    psi = args.psi or [model.psi_default]
    classes = args.classes
    rows, columns = grid_axes(len(args.seeds), len(psi), len(classes or ()))
    grid = sample_grid(
        model,
        best_of(model, args.seeds, args.best_of, psi[0]),
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
    return run_directions(args, _render_options(args))


def _mix(args: argparse.Namespace) -> Path:
    from gan_kit.explore import explorer, mixing_matrix

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
    from gan_kit.explore import explorer, save_animation

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
    from gan_kit.demo.showcase import showcase_paths, write_showcase

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


def _check_before_work(args: argparse.Namespace) -> None:
    """Fail on a bad output path, frame count or fps before loading or rendering anything."""
    from gan_kit.export.paths import checked_output_path

    suffix = ".safetensors" if args.command == "convert" else ".png"
    if args.command == "interpolate":
        from gan_kit.explore.animation import animation_writer
        from gan_kit.export.frames import check_fps
        from gan_kit.export.gif import check_gif_fps
        from gan_kit.latents.interpolation import path_frame_count

        animation_writer(args.out)
        suffix = args.out.suffix.lower()
        (check_gif_fps if suffix == ".gif" else check_fps)(args.fps)
        path_frame_count(len(args.seeds), args.frames, loop=args.loop)
    checked_output_path(args.out, suffix, overwrite=args.overwrite)


def _rerender(args: argparse.Namespace) -> Path:
    from gan_kit.explore import render_recipe
    from gan_kit.recipes import recipe_from_png

    grid = render_recipe(
        recipe_from_png(args.image),
        model=args.model,
        trust_model=args.trust_recipe_model,
        device=args.device,
        batch_size=args.batch_size,
        progress=not args.quiet,
    )
    return grid.save_png(args.out, overwrite=args.overwrite)


def _convert(args: argparse.Namespace) -> Path:
    from gan_kit.zoo import convert

    return convert(args.source, args.out, overwrite=args.overwrite)


def _add_atlas_command(commands: argparse._SubParsersAction) -> None:
    """`gan-kit atlas`: one page of a conditional model's class atlas as a PNG."""
    atlas = commands.add_parser(
        "atlas", help="a page of thumbnails of every class (BigGAN), with its recipe"
    )
    atlas.add_argument("--model", required=True, help="zoo name, URL or checkpoint path")
    atlas.add_argument("--seed", type=int, default=0, help="the seed of every thumbnail (0)")
    atlas.add_argument("--psi", type=parse_psi, help=PSI_HELP)
    atlas.add_argument("--page", type=int, default=0, help="the page, from 0 (0)")
    atlas.add_argument(
        "--page-size", type=int, default=ATLAS_PAGE_SIZE, help=f"classes a page ({ATLAS_PAGE_SIZE})"
    )
    atlas.add_argument(
        "--columns", type=int, default=ATLAS_COLUMNS, help=f"columns a page ({ATLAS_COLUMNS})"
    )
    atlas.add_argument("--like", type=int, help="order the classes by closeness to this one")
    _output_options(atlas)


def _atlas(args: argparse.Namespace) -> Path:
    from gan_kit.explore import explorer
    from gan_kit.explore.atlas import ClassAtlas

    atlas = ClassAtlas(explorer(args.model, args.device), seed=args.seed, psi=args.psi)
    order = None if args.like is None else atlas.similar(args.like)
    atlas.page_classes(args.page, order, args.page_size)  # a bad page fails before rendering
    from tqdm.auto import tqdm

    with tqdm(total=100, unit="%", desc="atlas", disable=args.quiet or atlas.complete) as bar:
        for fraction in atlas.render_steps(args.batch_size or ATLAS_BATCH_SIZE):
            bar.update(round(100 * fraction) - bar.n)
    grid = atlas.page_grid(args.page, order, page_size=args.page_size, columns=args.columns)
    return grid.save_png(args.out, overwrite=args.overwrite)


COMMANDS = {
    "atlas": _atlas,
    "demo": _demo,
    "generate": _generate,
    "directions": _directions,
    "mix": _mix,
    "interpolate": _interpolate,
    "rerender": _rerender,
    "convert": _convert,
    "project": run_project,
}


@contextmanager
def _quiet(quiet: bool) -> Iterator[None]:
    """With `quiet`, no download bars and no warnings within the block (errors still)."""
    if not quiet:
        yield
        return
    from gan_kit.zoo.download import progress_bars

    with warnings.catch_warnings(), progress_bars(False):
        warnings.simplefilter("ignore")
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, or 2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "models":
            print(list_models())
            return 0
        with _quiet(args.quiet):
            if args.command not in ("demo", "project"):  # these check their own files
                _check_before_work(args)
            written = COMMANDS[args.command](args)
    except GanKitError as error:
        print(f"gan-kit: error: {cli_words(str(error))}", file=sys.stderr)
        return 2
    print(written)
    return 0
