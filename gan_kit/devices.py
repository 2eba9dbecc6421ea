"""Choosing the torch device a model runs on."""

from __future__ import annotations

import torch

from gan_kit.errors import GanKitError


def first_words(error: BaseException, limit: int = 200) -> str:
    """The first line of `error`'s message, cut at a space to at most `limit` characters
    (never mid-word or mid-URL); its type's name when it has no message."""
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    line = lines[0].strip()
    if len(line) <= limit:
        return line
    cut = line.rfind(" ", 0, limit)
    return line[: cut if cut > 0 else limit].rstrip(" ,;:") + " [...]"


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
        raise GanKitError(
            f"device {device!r} was asked for but is not available here ({first_words(exc)}): "
            "use device='cpu' (or device=None to pick automatically)"
        ) from exc
    return resolved
