"""What a (demo) model has learnt, in numbers: do seeds differ, are interpolations smooth,
and does swapping coarse layers change shape while swapping fine layers changes colour?

- colour: total-variation distance between 8x8x8-bin RGB histograms (0: the same colours,
  1: none shared), blind to where the colours are;
- shape: mean absolute difference between Sobel edge maps of the luminance, each scaled
  to mean 1 (so blind to overall contrast), halved: 0 for the same edges.
A swap's effect is relative to the distance between the two images it mixes: 1 means
the swap changed as much as replacing the whole image.

    python -m gan_kit.demo.quality [MODEL ...]   (default: the two demo models)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gan_kit.explore import Explorer, explorer
from gan_kit.names import DEMO_MODELS

HISTOGRAM_BINS = 8
PSI = 0.7
SWAP_PAIRS = 48
SPREAD_SEEDS = 32
PATH_KEYFRAMES = 8
PATH_FRAMES = (16, 32, 64)
_SOBEL = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
_LUMA = torch.tensor([0.299, 0.587, 0.114])


def colour_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per image [B]: histogram distance between images a, b [B, 3, H, W] in [0, 1]."""
    return 0.5 * (_colour_histogram(a) - _colour_histogram(b)).abs().sum(dim=1)


def shape_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per image [B]: edge-map distance between images a, b [B, 3, H, W] in [0, 1]."""
    return 0.5 * (_edge_map(a) - _edge_map(b)).abs().mean(dim=(1, 2, 3))


def _colour_histogram(images: torch.Tensor) -> torch.Tensor:
    levels = (images.clamp(0, 1) * (HISTOGRAM_BINS - 1e-6)).long()
    cells = (levels[:, 0] * HISTOGRAM_BINS + levels[:, 1]) * HISTOGRAM_BINS + levels[:, 2]
    counts = torch.stack(
        [torch.bincount(image.flatten(), minlength=HISTOGRAM_BINS**3) for image in cells]
    ).float()
    return counts / counts.sum(dim=1, keepdim=True)


def _edge_map(images: torch.Tensor) -> torch.Tensor:
    luminance = torch.einsum("bchw,c->bhw", images, _LUMA.to(images)).unsqueeze(1)
    kernel = _SOBEL.to(images)[None, None]
    across = F.conv2d(luminance, kernel)
    down = F.conv2d(luminance, kernel.transpose(2, 3))
    magnitude = torch.sqrt(across.square() + down.square())
    return magnitude / magnitude.mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-8)


@dataclass(frozen=True)
class SwapEffect:
    """Mean change from swapping one group of slots, relative to replacing the image."""

    colour: float
    shape: float


def swap_effects(
    model_explorer: Explorer, pairs: int = SWAP_PAIRS, psi: float = PSI
) -> dict[str, SwapEffect]:
    """For each slot group (but 'all'): take it from seed 100 + i into seed i, i < pairs."""
    destinations = model_explorer.styles(model_explorer.latents(range(pairs)), psi)
    sources = model_explorer.styles(model_explorer.latents(range(100, 100 + pairs)), psi)
    destination_images = model_explorer.render(destinations)
    source_images = model_explorer.render(sources)
    # Pairs that render alike (never seen in practice) must not divide by zero.
    whole_colour = colour_distance(destination_images, source_images).clamp_min(1e-6)
    whole_shape = shape_distance(destination_images, source_images).clamp_min(1e-6)
    effects = {}
    for group in model_explorer.slot_groups:
        if group == "all":
            continue
        mixed = model_explorer.render(model_explorer.mix(destinations, sources, [group]))
        effects[group] = SwapEffect(
            colour=float((colour_distance(destination_images, mixed) / whole_colour).mean()),
            shape=float((shape_distance(destination_images, mixed) / whole_shape).mean()),
        )
    return effects


@dataclass(frozen=True)
class Smoothness:
    """Largest frame-to-frame change of an interpolation (mean absolute pixel difference)
    at each frame count, and the mean change between consecutive keyframes. On a
    continuous path the largest step halves when the frames per segment double; a jump
    (a cut between two looks) would not shrink."""

    largest_steps: dict[int, float]
    keyframe_jump: float


def interpolation_smoothness(
    model_explorer: Explorer,
    keyframes: int = PATH_KEYFRAMES,
    frames_per_segment: Sequence[int] = PATH_FRAMES,
    psi: float = PSI,
) -> Smoothness:
    """Linear-speed slerp through seeds 0..keyframes-1 and back (conditional models: the
    class of each seed too)."""
    latents = model_explorer.latents(range(keyframes))
    largest = {}
    for frames in frames_per_segment:
        path = model_explorer.interpolate(latents, frames, loop=True, psi=psi)
        largest[frames] = float(_consecutive_changes(model_explorer.render(path)).max())
    keys = model_explorer.render(model_explorer.styles(latents, psi))
    return Smoothness(largest, float(_consecutive_changes(keys).mean()))


def _consecutive_changes(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of each image to the next, the last to the first (a loop)."""
    return (images.roll(-1, dims=0) - images).abs().mean(dim=(1, 2, 3))


@dataclass(frozen=True)
class SeedSpread:
    """Mean absolute pixel difference between the images of different seeds."""

    closest: float
    mean: float


def seed_spread(
    model_explorer: Explorer, seeds: int = SPREAD_SEEDS, psi: float = PSI
) -> SeedSpread:
    """How far apart the images of seeds 0..seeds-1 are: the closest pair and the mean."""
    images = model_explorer.render(model_explorer.styles(model_explorer.latents(range(seeds)), psi))
    flat = images.flatten(1)
    distances = torch.cdist(flat, flat, p=1) / flat.shape[1]
    off_diagonal = distances[~torch.eye(seeds, dtype=torch.bool)]
    return SeedSpread(float(off_diagonal.min()), float(off_diagonal.mean()))


def report(models: Sequence[str] = DEMO_MODELS) -> str:
    """The measurements of each model, as Markdown."""
    lines = []
    for model in models:
        model_explorer = explorer(model, "cpu")
        spread = seed_spread(model_explorer)
        smooth = interpolation_smoothness(model_explorer)
        lines += [
            f"### {model}",
            f"- seeds differ: closest pair of {SPREAD_SEEDS} seeds {spread.closest:.3f}, mean "
            f"{spread.mean:.3f} (mean absolute pixel difference, pixels in [0, 1])",
            f"- interpolation through {PATH_KEYFRAMES} seeds, looped: largest frame-to-frame "
            "change with "
            + " / ".join(f"{frames}" for frames in smooth.largest_steps)
            + " frames per segment: "
            + " / ".join(f"{step:.3f}" for step in smooth.largest_steps.values())
            + f" (between keyframes: {smooth.keyframe_jump:.3f} on average)",
            "",
            f"| swapped group ({SWAP_PAIRS} pairs, psi {PSI}) | colour change | shape change "
            "| colour / shape |",
            "|---|---|---|---|",
        ]
        for group, effect in swap_effects(model_explorer).items():
            lines.append(
                f"| {group} | {effect.colour:.2f} | {effect.shape:.2f} | "
                f"{effect.colour / max(effect.shape, 1e-6):.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=list(DEMO_MODELS))
    args = parser.parse_args(argv)
    torch.set_grad_enabled(False)
    print(report(args.models))


if __name__ == "__main__":
    main()
