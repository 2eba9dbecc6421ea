"""`gan_kit.explorer`: the explorer of a model reference or a loaded generator."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from gan_kit.explore.base import Explorer
from gan_kit.explore.biggan import BigGANExplorer
from gan_kit.explore.stylegan2 import StyleGAN2Explorer
from gan_kit.generators.kinds import kind_of
from gan_kit.loading import checkpoint_exists
from gan_kit.zoo import load, registry_entry

EXPLORERS: dict[str, type[Explorer]] = {
    explorer_type.kind: explorer_type for explorer_type in (StyleGAN2Explorer, BigGANExplorer)
}


def model_reference(model: str | Path) -> str:
    """How a recipe records `model`: an existing local path made absolute (so the recipe
    works from any folder), a zoo name or URL as given."""
    path = Path(model).expanduser()
    return str(path.absolute()) if checkpoint_exists(path) else str(model)


def explorer(model: str | Path | nn.Module, device: str | torch.device | None = None) -> Explorer:
    """The explorer of `model`: a zoo name, URL, `hf://` address or path (loaded with
    `gan_kit.load`, the one place references are resolved; a registered model's explorer
    carries its registry entry), or an already loaded generator (moved to `device` if
    given; no entry). `device` as for `gan_kit.load`."""
    if isinstance(model, nn.Module):
        generator = model if device is None else model.to(device)
        return EXPLORERS[kind_of(generator)](generator)
    generator = load(model, device)
    return EXPLORERS[kind_of(generator)](generator, model_reference(model), registry_entry(model))
