"""The README's main command (`gan-kit demo`): a sample grid PNG and a looping GIF.

By default it renders the two demo models that ship with gan_kit, so it works offline in
well under a minute on a CPU; any other model (zoo name, URL or path) works the same way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from gan_kit.errors import InvalidInputError
from gan_kit.explore import explorer
from gan_kit.explore.animation import checked_scale, save_animation
from gan_kit.explore.grids import sample_grid
from gan_kit.export.paths import checked_output_path
from gan_kit.files import make_folder


@dataclass(frozen=True)
class Showcase:
    """The files written for one model."""

    grid: Path
    animation: Path


def showcase_paths(
    models: Sequence[str | os.PathLike[str]], folder: str | os.PathLike[str], *, overwrite: bool
) -> list[Showcase]:
    """The files `write_showcase` writes for each model, checked before any work: writable,
    not overwritten unless asked, and no two models writing the same names."""
    folder = Path(folder).expanduser()
    showcases = []
    for model in models:
        name = Path(str(model)).stem or "model"  # a zoo name, or a file name without suffix
        showcases.append(Showcase(folder / f"{name}-grid.png", folder / f"{name}-loop.gif"))
    names = [showcase.grid for showcase in showcases]
    if len(set(names)) < len(names):
        raise InvalidInputError(
            "two of the models would write the same files (their names end alike): "
            "run gan-kit demo once per model, with a different --out each"
        )
    make_folder(folder)
    for showcase in showcases:
        for path in (showcase.grid, showcase.animation):
            checked_output_path(path, path.suffix, overwrite=overwrite)
    return showcases


def write_showcase(
    model: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    psi: float | None = None,
    keyframes: int = 4,
    frames_per_segment: int = 16,
    scale: int = 3,
    overwrite: bool = False,
    device: str | torch.device | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> Showcase:
    """Write `<name>-grid.png` and `<name>-loop.gif` for `model` (a zoo name, URL or path,
    loaded onto `device`) into `folder`; existing files are replaced only with `overwrite`.

    The grid shows 16 seeds (a conditional model: seeds across, up to 6 classes down); the
    GIF loops through `keyframes` seeds (a conditional model: each with its own class),
    `frames_per_segment` frames from one to the next, upscaled `scale` times so that small
    models are visible; both at `psi` (None: the model's `psi_default`). `batch_size` and
    `progress` as `Explorer.render`. Every argument is checked before anything is written.
    """
    checked_scale(scale)
    (showcase,) = showcase_paths([model], folder, overwrite=overwrite)
    model_explorer = explorer(model, device)
    psi = model_explorer.psi_default if psi is None else psi
    n_class = model_explorer.n_class
    styles = model_explorer.interpolate(
        model_explorer.latents(range(keyframes)),  # a conditional model: each seed's class
        frames_per_segment,
        loop=True,
        easing="ease-in-out",
        psi=psi,
    )
    rendering = dict(psi=psi, batch_size=batch_size, progress=progress)
    if n_class:
        classes = list(range(min(n_class, 6)))
        grid = sample_grid(
            model_explorer, range(6), classes=classes, rows="class", columns="seed", **rendering
        )
    else:
        grid = sample_grid(model_explorer, range(16), num_columns=8, labels=False, **rendering)
    grid.save_png(showcase.grid, overwrite=overwrite)
    save_animation(
        model_explorer,
        styles,
        showcase.animation,
        fps=15,
        scale=scale,
        overwrite=overwrite,
        batch_size=batch_size,
        progress=progress,
    )
    return showcase
