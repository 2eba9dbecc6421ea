"""The command line's projection and critic parts: `gan-kit project IMAGE` and
`gan-kit generate --best-of N` (kept apart from `gan_kit.cli`, which wires them in)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from gan_kit.errors import InvalidInputError

if TYPE_CHECKING:  # the parser is built without torch (`--help`); the commands import it
    from gan_kit.explore.base import Explorer

__all__ = ["add_best_of_option", "add_project_parser", "best_of", "run_project"]

PROJECTED, SIDE_BY_SIDE, VIDEO = "projected.png", "side-by-side.png", "projection.gif"


def add_best_of_option(generate: argparse.ArgumentParser) -> None:
    """`--best-of N` on `gan-kit generate`."""
    generate.add_argument(
        "--best-of",
        type=int,
        metavar="N",
        help="StyleGAN2: rank N seeds from the first of --seeds by the model's "
        "discriminator and show the best, as many as --seeds lists, best first",
    )


def best_of(model: Explorer, seeds: list[int], count: int | None, psi: float) -> list[int]:
    """`seeds`, or with `--best-of` the best `len(seeds)` of `count` seeds from the first."""
    from gan_kit.explore.critic import best_seeds

    if count is None:
        return seeds
    if count < len(seeds):
        raise InvalidInputError(
            f"--best-of {count} cannot pick {len(seeds)} seeds (one per --seeds entry): give "
            f"--best-of {len(seeds)} or more"
        )
    return [seed for seed, _ in best_seeds(model, count, len(seeds), first_seed=seeds[0], psi=psi)]


def add_project_parser(commands: argparse._SubParsersAction) -> None:
    """The `gan-kit project IMAGE --model M --out DIR` subcommand."""
    parser = commands.add_parser(
        "project", help="find a picture in a StyleGAN2 model: PNG with recipe, side-by-side"
    )
    parser.add_argument("image", type=Path, help="the picture (any size: centre crop, resize)")
    parser.add_argument("--model", required=True, help="zoo name or checkpoint path (with D)")
    parser.add_argument("--out", type=Path, required=True, help="the folder to write into")
    parser.add_argument("--steps", type=int, default=300, help="optimisation steps (300)")
    parser.add_argument("--starts", type=int, default=256, help="random ws to start from (256)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the starts and jitter")
    parser.add_argument("--w-plus", action="store_true", help="one w per layer (closer fit)")
    parser.add_argument(
        "--pixel-only", action="store_true", help="leave the discriminator's features out"
    )
    parser.add_argument("--video", action="store_true", help=f"also {VIDEO} of the search")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA if available)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_project(args: argparse.Namespace) -> str:
    """Project the picture and write the files; returns their paths, one a line."""
    import numpy as np
    from tqdm.auto import tqdm

    from gan_kit.explore import explorer
    from gan_kit.explore.projection import ProjectionLoss, project
    from gan_kit.export.gif import write_gif
    from gan_kit.export.paths import checked_output_path
    from gan_kit.export.png import write_png

    names = [PROJECTED, SIDE_BY_SIDE] + ([VIDEO] if args.video else [])
    if not args.image.is_file():
        raise InvalidInputError(f"no picture at {args.image}: check the IMAGE path")
    if args.out.exists() and not args.out.is_dir():
        raise InvalidInputError(f"--out {args.out} is a file: give a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    paths = [
        checked_output_path(args.out / name, Path(name).suffix, overwrite=args.overwrite)
        for name in names
    ]
    model = explorer(args.model, args.device)
    loss = ProjectionLoss(discriminator=0.0) if args.pixel_only else ProjectionLoss()
    with tqdm(total=args.steps, desc="projecting", unit="step", disable=args.quiet) as bar:

        def progress(step: int, steps: int, value: float) -> None:
            bar.update()
            bar.set_postfix(loss=f"{value:.4f}")

        projection = project(
            model,
            args.image,
            steps=args.steps,
            starts=args.starts,
            seed=args.seed,
            w_plus=args.w_plus,
            loss=loss,
            frame_every=max(1, args.steps // 60) if args.video else 0,
            progress=progress,
        )
    projection.save(paths[0], overwrite=args.overwrite)
    write_png(projection.side_by_side(), paths[1], overwrite=args.overwrite)
    if args.video:
        side = [np.concatenate([projection.target, frame], axis=1) for frame in projection.frames]
        write_gif(side, paths[2], fps=15, loop=False, overwrite=args.overwrite)
    return "\n".join(map(str, paths))
