"""Build a generator from a local checkpoint file, recognising its format by its contents."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from gan_kit.errors import (
    CheckpointNotFoundError,
    CorruptCheckpointError,
    UnsupportedCheckpointError,
)
from gan_kit.loading.formats import CHECKPOINT_FORMATS


def checkpoint_exists(path: Path) -> bool:
    """Whether `path` names something on disk: a file or folder, or a TF checkpoint prefix."""
    return path.exists() or Path(f"{path}.index").exists()


def build_from_file(checkpoint: Path) -> nn.Module:
    """The generator in `checkpoint` (a file, a TF checkpoint folder or prefix), on the CPU."""
    if checkpoint.exists() and not os.access(checkpoint, os.R_OK):
        raise CheckpointNotFoundError(
            f"cannot read {checkpoint}: permission denied; make it readable or copy it to a "
            "place you can read"
        )
    for checkpoint_format in CHECKPOINT_FORMATS:
        if checkpoint_format.recognises(checkpoint):
            generator = checkpoint_format.build(checkpoint)
            if checkpoint_format.checked_when_written:
                return generator
            return _finite(generator, checkpoint)
    if not checkpoint_exists(checkpoint):
        raise CheckpointNotFoundError(f"no checkpoint at {checkpoint}: check the path")
    names = ", ".join(f.description for f in CHECKPOINT_FORMATS)
    raise UnsupportedCheckpointError(
        f"{checkpoint} is not a checkpoint format gan_kit reads (it reads: {names})"
    )


def _finite(generator: nn.Module, checkpoint: Path) -> nn.Module:
    """`generator`, once every weight is known to be a number: NaN or infinite weights
    would only ever draw black images."""
    for name, tensor in generator.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CorruptCheckpointError(
                f"{checkpoint}: {name} holds NaN or infinite values; the file is damaged: "
                "download it again"
            )
    return generator
