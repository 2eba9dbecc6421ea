"""The README's main command (`gan-kit demo`): a sample grid PNG and a looping GIF.

By default it renders the two demo models that ship with gan_kit, so it works offline in
well under a minute on a CPU; any other model (zoo name, URL or path) works the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from gan_kit.errors import ExportError
from gan_kit.explore import explorer
from gan_kit.explore.animation import save_animation
from gan_kit.explore.grids import sample_grid
from gan_kit.export.paths import checked_output_path

DEMO_MODELS = ("demo-stylegan2", "demo-biggan")


@dataclass(frozen=True)
class Showcase:
    """The files written for one model."""

    grid: Path
    animation: Path


def write_showcase(
    model: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    psi: float = 0.7,
    keyframes: int = 4,
    frames_per_segment: int = 16,
    scale: int = 3,
    overwrite: bool = False,
    device: str | torch.device | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> Showcase:
    """Write `<name>-grid.png` and `<name>-loop.gif` for `model` into `folder`.

    The grid shows 16 seeds (a conditional model: seeds across, up to 6 classes down); the
    GIF loops through `keyframes` seeds (a conditional model: each with its own class),
    upscaled `scale` times so that small models are visible.
    """
    name = Path(str(model)).name.split(".")[0]
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot create the folder {folder}: {error}") from error
    paths = [folder / f"{name}-grid.png", folder / f"{name}-loop.gif"]
    for path in paths:  # before any rendering: both writable, neither overwritten unasked
        checked_output_path(path, path.suffix, overwrite=overwrite)
    model_explorer = explorer(model, device)
    n_class = model_explorer.n_class
    if n_class:
        classes = list(range(min(n_class, 6)))
        grid = sample_grid(
            model_explorer,
            range(6),
            psi=psi,
            classes=classes,
            rows="class",
            columns="seed",
            batch_size=batch_size,
            progress=progress,
        )
        keyframe_classes = [index % n_class for index in range(keyframes)]
    else:
        grid = sample_grid(
            model_explorer,
            range(16),
            psi=psi,
            num_columns=8,
            labels=False,
            batch_size=batch_size,
            progress=progress,
        )
        keyframe_classes = None
    grid_path = grid.save_png(paths[0], overwrite=overwrite)
    styles = model_explorer.interpolate(
        model_explorer.latents(range(keyframes), keyframe_classes),
        frames_per_segment,
        loop=True,
        easing="ease-in-out",
        psi=psi,
    )
    animation = save_animation(
        model_explorer,
        styles,
        paths[1],
        fps=15,
        scale=scale,
        overwrite=overwrite,
        batch_size=batch_size,
        progress=progress,
    )
    return Showcase(grid_path, animation)
