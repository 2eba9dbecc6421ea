"""Train the demo StyleGAN2's discriminator against its frozen generator, and ship it.

    python -m gan_kit.demo.critic --pickle assets/demo/demo-stylegan2.pkl --steps 360

The demo generator was trained with a small residual discriminator of its own
(`gan_kit.demo.networks.Discriminator`), not NVIDIA's architecture, so the published
format has no place for it. This trains an NVIDIA-architecture `StyleGAN2Discriminator`
(what `gan_kit.load_discriminator` builds from real pickles) on the same procedural faces
against the finished, frozen generator: non-saturating logistic loss, R1 on the reals
(gamma 1, every 4 steps), equalized learning rate, Adam (lr 0.002, betas (0, 0.99)),
fakes from psi 1 and random noise. It is written into the pickle as its D, G and Gs left
byte for byte as they were; the run is reproducible for a seed (one thread).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import gan_kit
from gan_kit.demo.faces import face_batch, to_tensor
from gan_kit.demo.train import face_seeds
from gan_kit.demo.weights import equalize, inference_copy
from gan_kit.discriminators import StyleGAN2Discriminator, StyleGAN2DiscriminatorConfig
from gan_kit.loading.stylegan2_tf_discriminator import attach_discriminator
from gan_kit.loading.tf_network_pickle import read_networks

__all__ = ["CRITIC_CONFIG", "main", "train_critic"]

CRITIC_CONFIG = StyleGAN2DiscriminatorConfig(
    resolution=64, channels=(64, 64, 32, 32, 16), dense_width=64
)
R1_GAMMA = 1.0
R1_INTERVAL = 4


def trainable_critic(
    config: StyleGAN2DiscriminatorConfig = CRITIC_CONFIG,
) -> StyleGAN2Discriminator:
    """A fresh discriminator whose weights train with equalized lr (NVIDIA's init)."""
    critic = StyleGAN2Discriminator(config)
    layers = [m for m in critic.modules() if isinstance(getattr(m, "weight", None), torch.Tensor)]
    for module in layers:
        if getattr(module, "bias", None) is not None:
            torch.nn.init.zeros_(module.bias)
        equalize(module)
    return critic


def train_critic(
    pickle_path: Path, steps: int = 360, batch_size: int = 32, seed: int = 0
) -> tuple[StyleGAN2Discriminator, list[dict[str, float]]]:
    """Train a discriminator for `steps` against the generator of `pickle_path` (frozen)
    on faces in a seeded order; returns the plain (inference) discriminator and the mean
    losses every 50 steps."""
    torch.manual_seed(seed)
    generator = gan_kit.load(pickle_path, device="cpu")
    critic = trainable_critic().train()
    optimizer = torch.optim.Adam(critic.parameters(), 0.002, betas=(0.0, 0.99))
    latents = torch.Generator().manual_seed(seed)
    batches = face_seeds(seed + 1, batch_size)
    history, interval = [], []
    for step in range(steps):
        reals = to_tensor(face_batch(next(batches))[0])
        with torch.no_grad():
            z = torch.randn(batch_size, generator.z_dim, generator=latents)
            fakes = generator.synthesis(generator.mapping(z), noise_mode="random", one_by_one=False)
        regularize = step % R1_INTERVAL == 0
        reals.requires_grad_(regularize)
        real_scores = critic(reals)
        loss = F.softplus(critic(fakes)).mean() + F.softplus(-real_scores).mean()
        losses = {"d_loss": float(loss.detach())}
        if regularize:
            (gradient,) = torch.autograd.grad(real_scores.sum(), reals, create_graph=True)
            penalty = gradient.square().sum(dim=(1, 2, 3)).mean()
            loss = loss + penalty * (R1_GAMMA / 2 * R1_INTERVAL)
            losses["r1"] = float(penalty.detach())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        interval.append(losses)
        if (step + 1) % 50 == 0:
            keys = dict.fromkeys(k for entry in interval for k in entry)
            history.append(
                {"step": step + 1}
                | {k: float(np.mean([e[k] for e in interval if k in e])) for k in keys}
            )
            interval = []
    plain = inference_copy(critic, StyleGAN2Discriminator(CRITIC_CONFIG))
    return plain.requires_grad_(False), history


def main(argv: list[str] | None = None) -> None:
    """Train the critic and write it into the pickle as its D (G and Gs unchanged)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pickle", type=Path, required=True, help="the demo TF pickle")
    parser.add_argument("--steps", type=int, default=360)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    before = read_networks(args.pickle)
    started = time.perf_counter()
    critic, history = train_critic(args.pickle, args.steps, seed=args.seed)
    seconds = time.perf_counter() - started
    attach_discriminator(args.pickle, critic)
    after = read_networks(args.pickle)
    for old, new in ((before[0], after[0]), (before[2], after[2])):
        parts = [(old, new), *((old.components[k], new.components[k]) for k in old.components)]
        for a, b in parts:
            if a.variables.keys() != b.variables.keys() or not all(
                np.array_equal(a.variables[k], b.variables[k]) for k in a.variables
            ):
                raise RuntimeError("attaching D changed the generator's variables")
    for entry in history[-3:]:
        print(entry)
    print(
        f"{args.steps} steps in {seconds:.0f} s; wrote D into {args.pickle} "
        f"({args.pickle.stat().st_size / 1e6:.2f} MB)"
    )


if __name__ == "__main__":
    main()
