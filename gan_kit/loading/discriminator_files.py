"""Build the discriminator stored in a checkpoint file, recognising its format by content.

The StyleGAN2 formats that keep D: NVIDIA TF pickles (`(G, D, Gs)`: D is the second
network), stylegan2-ada-pytorch pickles (`D`), rosinality training checkpoints (`d`).
Files that hold a generator only say so: gan_kit's converted safetensors, BigGAN files
(gan_kit reads no BigGAN discriminator), generator-only rosinality files.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from gan_kit.discriminators.stylegan2 import StyleGAN2Discriminator
from gan_kit.errors import (
    CheckpointNotFoundError,
    CorruptCheckpointError,
    UnsupportedCheckpointError,
)
from gan_kit.loading import (
    ada_discriminator,
    ada_pickle,
    biggan_highcwu,
    biggan_tf,
    converted,
    rosinality,
    rosinality_discriminator,
    stylegan2_tf_discriminator,
    tf_network_pickle,
)
from gan_kit.loading.reading import torch_file_keys
from gan_kit.loading.recognise import checkpoint_exists

__all__ = ["build_discriminator_from_file"]

_ROSINALITY_D_MARKER = b"final_linear.0.weight"


def build_discriminator_from_file(checkpoint: Path) -> StyleGAN2Discriminator:
    """The discriminator in `checkpoint`, on the CPU, or a clear error saying why none."""
    if not checkpoint_exists(checkpoint):
        raise CheckpointNotFoundError(f"no checkpoint at {checkpoint}: check the path")
    if checkpoint.is_file() and not os.access(checkpoint, os.R_OK):
        raise CheckpointNotFoundError(f"cannot read {checkpoint}: permission denied")
    if tf_network_pickle.recognises(checkpoint):
        discriminator = stylegan2_tf_discriminator.build_discriminator(checkpoint)
    elif ada_pickle.recognises(checkpoint):
        discriminator = ada_discriminator.build_discriminator(checkpoint)
    elif checkpoint.is_file() and _ROSINALITY_D_MARKER in torch_file_keys(checkpoint):
        discriminator = rosinality_discriminator.build_discriminator(checkpoint)
    elif checkpoint.is_file() and rosinality.recognises(checkpoint):
        raise UnsupportedCheckpointError(
            f"{checkpoint} holds rosinality's generator only (no 'd' entry): pass the "
            "training checkpoint that keeps the discriminator"
        )
    elif checkpoint.is_file() and converted.recognises(checkpoint):
        raise UnsupportedCheckpointError(
            f"{checkpoint} is a gan_kit converted file, which keeps the generator only: pass "
            "the original checkpoint (TF or ada pickle, rosinality .pt with 'd')"
        )
    elif biggan_highcwu.recognises_torch_file(checkpoint) or biggan_tf.recognises_tf_checkpoint(
        checkpoint
    ):
        raise UnsupportedCheckpointError(
            f"{checkpoint} is an anime BigGAN generator file: it holds no discriminator "
            "gan_kit reads (discriminators load from StyleGAN2 checkpoints only)"
        )
    else:
        raise UnsupportedCheckpointError(
            f"{checkpoint} is not a checkpoint with a discriminator gan_kit reads (NVIDIA TF "
            "StyleGAN2 pickle, stylegan2-ada-pytorch pickle, rosinality .pt with 'd')"
        )
    for name, tensor in discriminator.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CorruptCheckpointError(
                f"{checkpoint}: the discriminator's {name} holds NaN or infinite values; the "
                "file is damaged: download it again"
            )
    return discriminator
