"""`gan_kit.load`: find a checkpoint (zoo name, URL or path), recognise it, build its generator."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from gan_kit.devices import resolve_device
from gan_kit.zoo.resolve import open_reference

__all__ = ["load"]


def load(reference: str | Path, device: str | torch.device | None = None) -> nn.Module:
    """Load a generator onto `device`, in eval mode, without gradients.

    `reference` is one of:
    - a model name from `gan_kit.models()` (e.g. "tadne-512"): downloaded into the cache
      the first time (Hugging Face files through huggingface_hub's cache), then converted
      to gan_kit's safetensors format, which later loads read instead, without pickle;
    - an http(s) URL: downloaded (resumed, verified) and converted the same way;
    - a local path: an NVIDIA TF pickle (`(G, D, Gs)`, the generator built is `Gs`), a
      PyTorch state dict, a TF checkpoint (folder or prefix), or a gan_kit converted file;
      the format is read from the file itself, not its name.
    `device=None` picks CUDA when available, else the CPU.
    """
    target = resolve_device(device)
    generator = open_reference(reference)
    generator.requires_grad_(False)
    return generator.eval().to(target)
