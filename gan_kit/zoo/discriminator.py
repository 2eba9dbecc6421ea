"""`gan_kit.load_discriminator`: the discriminator of a model, by name or path."""

from __future__ import annotations

from pathlib import Path

import torch

from gan_kit.devices import resolve_device
from gan_kit.discriminators.stylegan2 import StyleGAN2Discriminator
from gan_kit.errors import CheckpointNotFoundError
from gan_kit.loading.discriminator_files import build_discriminator_from_file
from gan_kit.zoo.registry import MODELS
from gan_kit.zoo.resolve import bundled_path

__all__ = ["load_discriminator"]


def load_discriminator(
    reference: str | Path, device: str | torch.device | None = None
) -> StyleGAN2Discriminator:
    """Load the discriminator of a StyleGAN2 checkpoint onto `device`, in eval mode,
    without gradients.

    `reference` is a bundled model's name ("demo-stylegan2") or the path of an original
    checkpoint that keeps D: an NVIDIA TF pickle `(G, D, Gs)`, a stylegan2-ada-pytorch
    pickle, or a rosinality training `.pt` with `d`. Downloaded models are cached as
    generator-only conversions, so pass their original file's path. `device` as in
    `gan_kit.load` (None: CUDA when available).
    """
    if isinstance(reference, str) and reference in MODELS:
        source = MODELS[reference].default_source
        if source is None or source.kind != "bundled":
            raise CheckpointNotFoundError(
                f"gan_kit caches {reference} as its generator only: pass the path of the "
                "original checkpoint file, which keeps the discriminator"
            )
        path = bundled_path(source)
    else:
        path = Path(reference).expanduser()
    discriminator = build_discriminator_from_file(path)
    discriminator.requires_grad_(False)
    return discriminator.eval().to(resolve_device(device))
