"""Build a generator from a local checkpoint file, recognising its format by its contents."""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from gan_kit.errors import CheckpointNotFoundError, UnsupportedCheckpointError
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
            return checkpoint_format.build(checkpoint)
    if not checkpoint_exists(checkpoint):
        raise CheckpointNotFoundError(f"no checkpoint at {checkpoint}: check the path")
    names = ", ".join(f.description for f in CHECKPOINT_FORMATS)
    raise UnsupportedCheckpointError(
        f"{checkpoint} is not a checkpoint format gan_kit reads (it reads: {names})"
    )
