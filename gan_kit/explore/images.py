"""Image conversions: float tensors in [0, 1] -> uint8 HxWx3 arrays -> PIL images."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Images [B, 3, H, W] in [0, 1] -> uint8 [B, H, W, 3], rounded and clipped."""
    scaled = images.detach().float().mul(255).add_(0.5).clamp_(0, 255)
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def to_pil(image: np.ndarray) -> Image.Image:
    """A uint8 HxWx3 array as an RGB PIL image."""
    return Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
