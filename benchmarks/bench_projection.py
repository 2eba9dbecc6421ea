"""Projection speed: seconds per 100 optimisation steps at 64 px (the demo StyleGAN2
with its discriminator) and 512 px (a random full-size config-f generator and
discriminator), with and without the discriminator's features, on the CPU (and CUDA when
available).

    python benchmarks/bench_projection.py [--steps-64 20] [--steps-512 3] [--threads 1]

Each case times `--steps-*` steps after one warm-up run of 2 steps (the best-of-starts
search, 8 random ws, is left out of the timing: it is a fixed cost, not per step) and
reports the time scaled to 100 steps.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

import gan_kit
from gan_kit.discriminators import StyleGAN2Discriminator, StyleGAN2DiscriminatorConfig
from gan_kit.explore.projection import ProjectionLoss, project
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator


def _random_512(device: str) -> tuple[gan_kit.Explorer, StyleGAN2Discriminator]:
    """A full-size generator and discriminator with NVIDIA's initial weights, folded:
    N(0, 1/fan_in) kernels, style biases 1, N(0, 1) constant input and noise maps."""
    torch.manual_seed(0)
    generator = StyleGAN2Generator(StyleGAN2Config())
    discriminator = StyleGAN2Discriminator(StyleGAN2DiscriminatorConfig())
    with torch.no_grad():
        for module in (generator, discriminator):
            for name, tensor in module.state_dict().items():
                if name.endswith("weight") and tensor.ndim >= 2:
                    tensor.normal_(0, 1 / np.sqrt(tensor[0].numel()))
                elif name.endswith("affine.bias"):
                    tensor.fill_(1.0)
                elif name.endswith(("noise_const", ".const")):
                    tensor.normal_()
    generator.requires_grad_(False).eval()
    discriminator.requires_grad_(False).eval()
    return gan_kit.explorer(generator.to(device)), discriminator.to(device)


def _seconds_per_100(explorer, discriminator, steps: int, use_d: bool) -> float:
    target = np.random.default_rng(0).integers(0, 256, (explorer.resolution,) * 2 + (3,))
    loss = ProjectionLoss() if use_d else ProjectionLoss(discriminator=0.0)
    options = dict(starts=8, loss=loss, discriminator=discriminator if use_d else None)
    project(explorer, target.astype(np.uint8), steps=2, **options)  # warm-up
    ticks: list[float] = []
    project(
        explorer,
        target.astype(np.uint8),
        steps=steps,
        progress=lambda step, total, value: ticks.append(time.perf_counter()),
        **options,
    )
    per_step = (ticks[-1] - ticks[0]) / max(1, len(ticks) - 1)
    return round(per_step * 100, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps-64", type=int, default=20)
    parser.add_argument("--steps-512", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = []
    for device in devices:
        demo = gan_kit.explorer("demo-stylegan2", device)
        demo_d = gan_kit.load_discriminator("demo-stylegan2", device=device)
        big, big_d = _random_512(device)
        for name, (explorer, critic), steps in (
            ("64 px demo", (demo, demo_d), args.steps_64),
            ("512 px config-f", (big, big_d), args.steps_512),
        ):
            for use_d in (False, True):
                results.append(
                    {
                        "device": device,
                        "case": name,
                        "loss": "pixel + MS-SSIM + D features" if use_d else "pixel + MS-SSIM",
                        "timed_steps": steps,
                        "seconds_per_100_steps": _seconds_per_100(explorer, critic, steps, use_d),
                    }
                )
                print(json.dumps(results[-1]), flush=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s)"
    )


if __name__ == "__main__":
    main()
