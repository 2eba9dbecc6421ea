"""Projection: find the style code whose image matches a given picture, with no network
but the model's own generator and discriminator.

`project(explorer, image)` optimises w (one for all layers, or per layer: w+) and the
generator's noise maps so that the rendered image matches the target. The loss is a
multi-scale pixel distance + (1 - multi-scale SSIM) + the distance between the
discriminator's intermediate features of the two images, plus NVIDIA's noise
regularisation. As in NVIDIA's projector, w starts near the average w (here the best of
`starts` random ws under the same loss), is perturbed by a decaying noise early on,
and Adam's learning rate ramps up then down; noise maps are renormalised each step.
Runs are deterministic for a `seed` on one device.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.func import functional_call

from gan_kit.discriminators.stylegan2 import StyleGAN2Discriminator
from gan_kit.errors import InvalidInputError
from gan_kit.explore.base import Explorer
from gan_kit.explore.image_distances import (
    multiscale_pixel_distance,
    multiscale_ssim,
    noise_regularization,
)
from gan_kit.explore.target_image import ImageInput, target_pixels
from gan_kit.export.png import write_png
from gan_kit.generators.stylegan2 import StyleConv, StyleGAN2Generator
from gan_kit.recipes import Recipe
from gan_kit.values import is_whole_number

__all__ = ["Projection", "ProjectionLoss", "project"]

Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class ProjectionLoss:
    """The weights of the loss terms: `pixel` (multi-scale mean squared error), `ssim`
    (1 - multi-scale SSIM), `discriminator` (relative squared distance of D's features;
    0 leaves D out), `noise` (NVIDIA's noise regularisation, 1e5 as theirs)."""

    pixel: float = 1.0
    ssim: float = 0.5
    discriminator: float = 0.5
    noise: float = 1e5


@dataclass
class Projection:
    """A projected picture: `styles` [1, num_ws, w_dim] (on the CPU), the optimised
    `noise` maps (name -> tensor), `target` and `image` (uint8 [R, R, 3]; the image
    rendered with the optimised noise), `losses` (one per step), `recipe` (the styles
    inline: renders, mixes and animates like a seed; rendered with the model's own noise
    maps, so fine detail may differ slightly from `image`), and the `frames` kept."""

    styles: torch.Tensor
    noise: dict[str, torch.Tensor]
    target: np.ndarray
    image: np.ndarray
    losses: list[float]
    recipe: Recipe
    frames: list[np.ndarray] = field(default_factory=list)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write `image` as a PNG at `path` carrying the recipe (`gan-kit rerender` reads
        it); an existing file is replaced only with `overwrite`."""
        return write_png(self.image, path, text=self.recipe.png_text(), overwrite=overwrite)

    def side_by_side(self) -> np.ndarray:
        """The target and the projection side by side, uint8 [R, 2R, 3]."""
        return np.concatenate([self.target, self.image], axis=1)


class _Objective:
    """The projection loss of images [B, 3, R, R] in [0, 1] against one target."""

    def __init__(
        self,
        target: torch.Tensor,
        weights: ProjectionLoss,
        discriminator: StyleGAN2Discriminator | None,
    ):
        self.target = target
        self.weights = weights
        self.discriminator = discriminator if weights.discriminator else None
        if self.discriminator is not None:
            with torch.no_grad():
                self.target_features = self.discriminator.features(target * 2 - 1)
            self.scales = [float(f.square().mean()) + 1e-8 for f in self.target_features]

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """The loss [B] of each image (D sees each image alone: a group of one)."""
        target = self.target.expand_as(images)
        loss = self.weights.pixel * multiscale_pixel_distance(images, target)
        if self.weights.ssim:
            loss = loss + self.weights.ssim * (1 - multiscale_ssim(images, target))
        if self.discriminator is not None:
            per_image = []
            for image in images:
                features = self.discriminator.features(image[None] * 2 - 1)
                distance = sum(
                    (f - t).square().mean() / s
                    for f, t, s in zip(features, self.target_features, self.scales, strict=True)
                )
                per_image.append(distance / len(features))
            loss = loss + self.weights.discriminator * torch.stack(per_image)
        return loss


def _noise_buffers(generator: StyleGAN2Generator) -> dict[str, torch.Tensor]:
    """The synthesis network's stored noise maps, by their names in its state dict."""
    return {
        f"{name}.noise_const": module.noise_const
        for name, module in generator.synthesis.named_modules()
        if isinstance(module, StyleConv)
    }


def _checked(steps: object, starts: object, discriminator_needed: bool, explorer: Explorer) -> None:
    if not isinstance(explorer.generator, StyleGAN2Generator):
        raise InvalidInputError(
            f"projection works on StyleGAN2 models; this explorer holds a {explorer.kind} model"
        )
    for name, value, low in (("steps", steps, 1), ("starts", starts, 1)):
        if not is_whole_number(value) or not low <= value <= 100_000:
            raise InvalidInputError(
                f"{name} must be a whole number from {low} to 100000, got {value!r}"
            )
    if discriminator_needed and explorer.model is None:
        raise InvalidInputError(
            "the explorer records no model file to read the discriminator from: pass "
            "discriminator=gan_kit.load_discriminator(path), or loss weight discriminator=0"
        )


def project(
    explorer: Explorer,
    image: ImageInput,
    *,
    steps: int = 300,
    w_plus: bool = False,
    starts: int = 256,
    seed: int = 0,
    loss: ProjectionLoss = ProjectionLoss(),
    discriminator: StyleGAN2Discriminator | None = None,
    optimize_noise: bool = True,
    learning_rate: float = 0.1,
    frame_every: int = 0,
    progress: Progress | None = None,
) -> Projection:
    """Project `image` into the StyleGAN2 model of `explorer`.

    `image`: a path, PIL image, array or tensor of any size and mode (see
    `gan_kit.explore.target_image.target_pixels`: centre crop to a square, resize).
    `steps` of Adam at `learning_rate` (ramped up over the first 5 %, down over the last
    25 %); `w_plus` optimises one w per layer (closer fits, less editable) instead of one
    w for all; `starts` random ws are scored and the best starts the search; `seed` fixes
    them and the perturbations; `loss` weighs the terms; `discriminator` is the model's D
    (None: `gan_kit.load_discriminator(explorer.model)`, read when `loss.discriminator`
    is not 0); `optimize_noise` also fits the noise maps (regularised as NVIDIA's);
    `frame_every` keeps the image every that many steps (0: none) for a video;
    `progress(step, steps, loss)` is called after each step.
    """
    _checked(steps, starts, bool(loss.discriminator) and discriminator is None, explorer)
    generator: StyleGAN2Generator = explorer.generator
    device = explorer.device
    if loss.discriminator and discriminator is None:
        from gan_kit.zoo.discriminator import load_discriminator

        discriminator = load_discriminator(explorer.model, device=device)
    if discriminator is not None and discriminator.resolution != generator.resolution:
        raise InvalidInputError(
            f"the discriminator scores {discriminator.resolution} px images, the generator "
            f"makes {generator.resolution} px: pass the model's own discriminator"
        )
    pixels = target_pixels(image, generator.resolution)
    target = torch.from_numpy(pixels).permute(2, 0, 1)[None].float().div(255).to(device)
    objective = _Objective(target, loss, discriminator)
    random = torch.Generator(device="cpu").manual_seed(seed)

    with torch.no_grad():
        z = torch.randn(max(starts, 64), generator.z_dim, generator=random).to(device)
        candidates = generator.mapping(z)[:, :1]  # [N, 1, w_dim]
        w_avg = generator.w_avg.view(1, 1, -1)
        w_std = float((candidates - w_avg).square().sum(dim=2).mean().sqrt())
        candidates = candidates[:starts]
        scores = torch.cat(
            [
                objective(
                    generator.synthesis(c.expand(-1, generator.num_ws, -1), noise_mode="const")
                    .add(1)
                    .div(2)
                )
                for c in candidates.split(8)
            ]
        )
        start = candidates[int(scores.argmin())][None]  # [1, 1, w_dim]
    w = start.repeat(1, generator.num_ws if w_plus else 1, 1).clone().requires_grad_(True)
    noise = {
        name: buffer.detach().clone().requires_grad_(optimize_noise)
        for name, buffer in _noise_buffers(generator).items()
    }
    optimizer = torch.optim.Adam(
        [w, *noise.values()] if optimize_noise else [w], lr=learning_rate, betas=(0.9, 0.999)
    )

    def render(ws: torch.Tensor) -> torch.Tensor:
        broadcast = ws.expand(-1, generator.num_ws, -1) if ws.shape[1] == 1 else ws
        images = functional_call(
            generator.synthesis, noise, (broadcast,), {"noise_mode": "const"}, strict=False
        )
        return images.add(1).div(2)

    losses: list[float] = []
    frames: list[np.ndarray] = []
    for step in range(steps):
        t = step / steps
        ramp = 0.5 - 0.5 * math.cos(math.pi * min(1.0, (1 - t) / 0.25))
        ramp *= min(1.0, (step + 1) / (0.05 * steps))
        for group in optimizer.param_groups:
            group["lr"] = learning_rate * ramp
        perturbation = w_std * 0.05 * max(0.0, 1 - t / 0.75) ** 2
        jitter = torch.randn(w.shape, generator=random).to(device) * perturbation
        images = render(w + jitter)
        value = objective(images).sum()
        if optimize_noise and loss.noise:
            value = value + loss.noise * noise_regularization(list(noise.values()))
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
        with torch.no_grad():
            for buffer in noise.values():
                buffer.sub_(buffer.mean()).div_(buffer.std() + 1e-8)
        losses.append(float(value.detach()))
        if frame_every and (step % frame_every == 0 or step == steps - 1):
            frames.append(_uint8(images.detach()))
        if progress is not None:
            progress(step + 1, steps, losses[-1])

    with torch.no_grad():
        ws = w.detach().expand(-1, generator.num_ws, -1) if not w_plus else w.detach()
        image_pixels = _uint8(render(ws))
    styles = ws.cpu().clone()
    recipe = Recipe(
        model=explorer.model,
        kind=explorer.kind,
        layout="grid",
        seeds=(0,),
        psi=(1.0,),
        labels=False,
        styles=tuple(tuple(float(v) for v in row) for row in styles[0].tolist()),
    )
    return Projection(
        styles=styles,
        noise={name: buffer.detach().cpu() for name, buffer in noise.items()},
        target=pixels,
        image=image_pixels,
        losses=losses,
        recipe=recipe,
        frames=frames,
    )


def _uint8(images: torch.Tensor) -> np.ndarray:
    return (images[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
