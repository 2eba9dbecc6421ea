"""Output budgets and batch sizes: render as much at once as the device holds, and refuse
early (before any rendering) an output that cannot fit at all."""

from __future__ import annotations

import os

import torch
from PIL import Image

from gan_kit.errors import OutputTooLargeError

# On the CPU a batch renders no faster per image than one image alone (BigGAN at 256 px:
# ~0.2 s either way), and one at a time makes each image's pixels independent of what it
# is rendered with (batched convolutions round differently), so grids match single renders.
CPU_BATCH_SIZE = 1
MAX_GPU_BATCH_SIZE = 64
GPU_MEMORY_SHARE = 0.8  # of the free memory a batch may plan to use
# Pillow refuses to open images over 2x this (decompression-bomb guard) and warns above it;
# a grid larger than this could not be read back (recipes included).
DEFAULT_MAX_GRID_PIXELS = 89_478_485


def available_host_bytes() -> int | None:
    """Memory available to a new allocation on this machine (Linux's MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_host_memory(num_bytes: int, what: str) -> None:
    """Raise OutputTooLargeError if `num_bytes` exceed the memory available right now."""
    available = available_host_bytes()
    if available is not None and num_bytes > available:
        raise OutputTooLargeError(
            f"{what} needs {num_bytes / 2**30:.1f} GiB but only {available / 2**30:.1f} GiB of "
            "memory is free: ask for fewer or smaller images"
        )


def max_grid_pixels() -> int:
    """The pixel budget of one grid image: Pillow's decompression-bomb limit."""
    return Image.MAX_IMAGE_PIXELS or DEFAULT_MAX_GRID_PIXELS


def check_cell_count(cells: int, cell_size: int) -> None:
    """Refuse a grid of `cells` images of `cell_size` px whose images alone exceed the
    pixel budget: checked first, before labels are laid out (a recipe of a million seeds
    is refused at once)."""
    if cells * cell_size**2 > max_grid_pixels():
        raise OutputTooLargeError(
            f"the grid is too large for memory: {cells:,} images of {cell_size} px are over "
            f"the budget of {max_grid_pixels():,} pixels (Pillow's limit for reading an image "
            "back); use fewer seeds, psi values or classes"
        )


def check_grid_size(width: int, height: int) -> None:
    """Refuse a grid image over the pixel budget or over free memory, before rendering."""
    if width * height > max_grid_pixels():
        raise OutputTooLargeError(
            f"a {width} x {height} grid is too large for memory: it has {width * height:,} "
            f"pixels, over the budget of {max_grid_pixels():,} (Pillow's limit for reading an "
            "image back); use fewer rows or columns"
        )
    check_host_memory(width * height * 3, f"a {width} x {height} grid")


def gpu_batch_size(per_image_bytes: int, device: torch.device) -> int:
    """How many images fit in the GPU memory still free, given one image's peak use."""
    free, _ = torch.cuda.mem_get_info(device)
    reusable = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    budget = GPU_MEMORY_SHARE * (free + reusable)
    return int(max(1, min(MAX_GPU_BATCH_SIZE, budget // max(per_image_bytes, 1))))
