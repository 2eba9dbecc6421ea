"""A short fingerprint of a generator's weights: what directions, archetypes and their
caches are keyed by, so that nothing computed on one model is applied to another."""

from __future__ import annotations

import hashlib
import weakref

from torch import nn

VALUES_PER_TENSOR = 4096  # evenly spaced values hashed per tensor (names and shapes: all)
_memo: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[int, ...], str]] = (
    weakref.WeakKeyDictionary()
)


def weights_fingerprint(module: nn.Module) -> str:
    """16 hex digits from every parameter's name and shape and up to VALUES_PER_TENSOR
    evenly spaced values of each (fast on full-size models, the same on every device);
    remembered until a parameter changes in place."""
    parameters = list(module.named_parameters())
    versions = tuple(parameter._version for _, parameter in parameters)
    remembered = _memo.get(module)
    if remembered is not None and remembered[0] == versions:
        return remembered[1]
    digest = hashlib.sha256()
    for name, parameter in parameters:
        flat = parameter.detach().reshape(-1)
        step = max(1, flat.numel() // VALUES_PER_TENSOR)
        digest.update(f"{name}:{tuple(parameter.shape)};".encode())
        digest.update(flat[::step].float().cpu().numpy().tobytes())
    fingerprint = digest.hexdigest()[:16]
    _memo[module] = (versions, fingerprint)
    return fingerprint
