"""A short name for a generator's weights, so that what is cached for one model (a class
atlas, directions) is never read back for another: a hash of every parameter and buffer,
with its name, shape and dtype."""

from __future__ import annotations

import hashlib

import torch
from torch import nn


def weights_fingerprint(generator: nn.Module) -> str:
    """16 hex digits that change whenever any weight of `generator` does (a SHA-256 of
    its state dict, names and shapes included)."""
    digest = hashlib.sha256()
    for name, tensor in generator.state_dict().items():
        data = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{data.dtype}:{list(data.shape)};".encode())
        digest.update(data.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
