"""Choosing the torch device a model runs on."""

from __future__ import annotations

import torch

from gan_kit.errors import GanKitError


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Return `device` as a torch.device; None picks CUDA when available, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise GanKitError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'") from exc
    if resolved.type == "cpu":
        return resolved
    try:  # CUDA without a GPU, a missing ordinal, MPS off a Mac...
        torch.empty(0, device=resolved)
    except (RuntimeError, AssertionError, AttributeError) as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise GanKitError(
            f"device {device!r} was asked for but is not available here ({reason}): "
            "use device='cpu' (or device=None to pick automatically)"
        ) from exc
    return resolved
