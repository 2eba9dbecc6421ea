"""`gan_kit.load`: recognise a checkpoint file by its contents and build its generator."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from gan_kit.devices import resolve_device
from gan_kit.errors import CheckpointNotFoundError, UnsupportedCheckpointError
from gan_kit.loading.formats import CHECKPOINT_FORMATS

__all__ = ["load"]


def load(path: str | Path, device: str | torch.device | None = None) -> nn.Module:
    """Load the generator stored at `path` onto `device`, in eval mode, without gradients.

    `path` may be an NVIDIA TF pickle (`(G, D, Gs)`, the generator built is `Gs`), a
    PyTorch state dict, or a TF checkpoint (folder or prefix); the format is read from the
    file itself, not its name. `device=None` picks CUDA when available, else the CPU.
    """
    target = resolve_device(device)
    checkpoint = Path(path).expanduser()
    for checkpoint_format in CHECKPOINT_FORMATS:
        if checkpoint_format.recognises(checkpoint):
            generator = checkpoint_format.build(checkpoint)
            break
    else:
        if not checkpoint.exists() and not Path(f"{checkpoint}.index").exists():
            raise CheckpointNotFoundError(f"no checkpoint at {checkpoint}: check the path")
        names = ", ".join(f.description for f in CHECKPOINT_FORMATS)
        raise UnsupportedCheckpointError(
            f"{checkpoint} is not a checkpoint format gan_kit reads (it reads: {names})"
        )
    generator.requires_grad_(False)
    return generator.eval().to(target)
