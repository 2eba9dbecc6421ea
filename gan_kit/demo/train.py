"""Train the demo StyleGAN2 or BigGAN on procedural anime faces and export it.

    python -m gan_kit.demo.train stylegan2|biggan --out DIR --minutes N --seed S

Recipes (known-good, kept simple):
- StyleGAN2: non-saturating logistic loss, lazy R1 on reals (gamma 0.5 every 4 steps),
  style mixing (p 0.9), Adam (lr 0.0025, betas (0, 0.99)), equalized learning rate.
- BigGAN: hinge loss, projection discriminator, spectral norm in G and D, Adam
  (G 2e-4, D 4e-4, betas (0, 0.999)).
Both: one generator forward per step, whose images train D (detached) and then G; an
exponential moving average of G's weights (half-life ramped up to 10k images) is the
model exported. Sample grids of the average go to DIR every `--sample-every` steps.

At the end the average is written in its published format (`demo-stylegan2.pkl`, an
NVIDIA TF pickle; `demo-biggan.pt`, a HighCWu-layout state dict), loaded back through
`gan_kit.load`, and its images compared with the in-memory generator's; the untrained
model goes through the same check first, so a broken export stops the run at once.

Runs are reproducible: the seed fixes initialisation, latents, noise and the data order,
so the first k steps of any two runs with one seed (on one device) are the same; `--steps`
ends after exactly k steps, `--minutes` at a time budget.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn
from tqdm.auto import tqdm

from gan_kit.demo.export import verify_export
from gan_kit.demo.faces import NUM_CLASSES, face_batch, to_tensor
from gan_kit.demo.networks import (
    MAPPING_LR_MULTIPLIER,
    STYLEGAN2_CONFIG,
    Discriminator,
    biggan_config,
    trainable_biggan,
    trainable_stylegan2,
)
from gan_kit.demo.weights import inference_copy, update_ema
from gan_kit.generators.biggan import BigGANGenerator
from gan_kit.generators.stylegan2 import StyleGAN2Generator
from gan_kit.loading.biggan_highcwu_writer import write_highcwu
from gan_kit.loading.stylegan2_tf import write_generator

__all__ = [
    "MAX_FILE_BYTES",
    "BigGANRecipe",
    "StyleGAN2Recipe",
    "TrainingReport",
    "face_seeds",
    "main",
    "save_grid",
    "train",
]

MAX_FILE_BYTES = 10 * 1024 * 1024
EXPORT_TOLERANCE = 1e-4  # max abs image difference between the generator and its reload
DATASET_SIZE = 100_000  # distinct faces (seeds 0..N-1), reshuffled every epoch
EMA_HALF_LIFE_IMAGES = 10_000
EMA_RAMPUP = 0.1  # the half-life is at most this fraction of the images seen so far
GRID_COLUMNS = 8


def face_seeds(seed: int, batch_size: int, dataset_size: int = DATASET_SIZE) -> Iterator[list[int]]:
    """Batches of face seeds: the data set in a fresh seeded permutation each epoch."""
    rng = np.random.default_rng(seed)
    pending: list[int] = []
    while True:
        while len(pending) < batch_size:
            pending += rng.permutation(dataset_size).tolist()
        batch, pending = pending[:batch_size], pending[batch_size:]
        yield batch


class _Recipe:
    """A generator, its moving average, a discriminator and their optimizers."""

    file_name: str
    learning_rates: tuple[float, float]  # G, D
    betas: tuple[float, float]

    def __init__(self, device: torch.device, seed: int) -> None:
        torch.manual_seed(seed)  # initialisation, and the synthesis noise drawn later
        generator, discriminator = self.build_networks()
        self.generator = generator.to(device).train()
        self.average = copy.deepcopy(self.generator).eval()
        self.discriminator = discriminator.to(device).train()
        g_rate, d_rate = self.learning_rates
        self.g_optimizer = torch.optim.Adam(generator.parameters(), g_rate, self.betas)
        self.d_optimizer = torch.optim.Adam(discriminator.parameters(), d_rate, self.betas)
        self.device = device
        self.latents = torch.Generator(device).manual_seed(seed)
        self.images_seen = 0

    def build_networks(self) -> tuple[nn.Module, Discriminator]:
        """A fresh trainable generator and discriminator."""
        raise NotImplementedError

    def step(self, reals: Tensor, labels: Tensor) -> dict[str, float]:
        """One D step and one G step on a batch of reals [B, 3, 64, 64] in [-1, 1]."""
        raise NotImplementedError

    def _optimize(self, optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def _generator_step(self, loss: Tensor) -> None:
        self.discriminator.requires_grad_(False)
        self._optimize(self.g_optimizer, loss)
        self.discriminator.requires_grad_(True)

    def update_average(self, batch_size: int) -> None:
        self.images_seen += batch_size
        half_life = min(EMA_HALF_LIFE_IMAGES, EMA_RAMPUP * self.images_seen)
        update_ema(self.average, self.generator, 0.5 ** (batch_size / half_life))

    def plain_generator(self) -> nn.Module:
        """A fresh parametrization-free generator of the architecture being trained."""
        raise NotImplementedError

    def inference_generator(self) -> nn.Module:
        """The moving average as a plain gan_kit generator on the CPU, to sample and export."""
        with torch.random.fork_rng(devices=[]):  # its throwaway init must not shift training's
            plain = self.plain_generator()
        return inference_copy(self.average, plain.to(self.device)).cpu()

    def grid(self, generator: nn.Module) -> Tensor:
        """Sample images [N, 3, 64, 64] in [-1, 1] for the progress grid (fixed latents)."""
        raise NotImplementedError

    def export(self, path: Path, generator: nn.Module) -> None:
        """Write `generator` (an `inference_generator`) to `path` in its published format."""
        raise NotImplementedError


class StyleGAN2Recipe(_Recipe):
    """Non-saturating loss + lazy R1, style mixing, equalized lr (StyleGAN2's recipe)."""

    file_name = "demo-stylegan2.pkl"
    r1_gamma = 0.5
    r1_interval = 4
    style_mixing_probability = 0.9
    w_avg_beta = 0.995

    learning_rates = (0.0025, 0.0025)
    betas = (0.0, 0.99)

    def __init__(self, device: torch.device, seed: int) -> None:
        super().__init__(device, seed)
        self.steps = 0

    def build_networks(self) -> tuple[StyleGAN2Generator, Discriminator]:
        return trainable_stylegan2(), Discriminator()

    def _ws(self, batch: int) -> Tensor:
        """Latents mapped to ws, two of them mixed at a random layer most of the time."""
        mapping = self.generator.mapping
        z = torch.randn(2 * batch, mapping.z_dim, generator=self.latents, device=self.device)
        ws, other = mapping(z).chunk(2)
        with torch.no_grad():
            mapping.w_avg.lerp_(ws[:, 0].mean(dim=0), 1.0 - self.w_avg_beta)
        mix = torch.rand((), generator=self.latents, device=self.device)
        if float(mix) < self.style_mixing_probability:
            cutoff = int(
                torch.randint(1, mapping.num_ws, (), generator=self.latents, device=self.device)
            )
            ws = torch.cat([ws[:, :cutoff], other[:, cutoff:]], dim=1)
        return ws

    def step(self, reals: Tensor, labels: Tensor) -> dict[str, float]:
        del labels  # unconditional
        fakes = self.generator.synthesis(
            self._ws(reals.shape[0]), noise_mode="random", one_by_one=False
        )
        regularize = self.steps % self.r1_interval == 0
        reals.requires_grad_(regularize)
        real_scores = self.discriminator(reals)
        d_loss = F.softplus(self.discriminator(fakes.detach())).mean()
        d_loss = d_loss + F.softplus(-real_scores).mean()
        losses = {"d_loss": float(d_loss.detach())}
        if regularize:
            (gradient,) = torch.autograd.grad(real_scores.sum(), reals, create_graph=True)
            penalty = gradient.square().sum(dim=(1, 2, 3)).mean()
            d_loss = d_loss + penalty * (self.r1_gamma / 2 * self.r1_interval)
            losses["r1"] = float(penalty.detach())
        self._optimize(self.d_optimizer, d_loss)
        g_loss = F.softplus(-self.discriminator(fakes)).mean()
        self._generator_step(g_loss)
        self.steps += 1
        return {**losses, "g_loss": float(g_loss.detach())}

    def plain_generator(self) -> StyleGAN2Generator:
        return StyleGAN2Generator(STYLEGAN2_CONFIG)

    def grid(self, generator: StyleGAN2Generator) -> Tensor:
        z = torch.randn(
            4 * GRID_COLUMNS, generator.z_dim, generator=torch.Generator().manual_seed(0)
        )
        return generator(z, noise_mode="const")

    def export(self, path: Path, generator: StyleGAN2Generator) -> None:
        write_generator(path, generator, mapping_lrmul=MAPPING_LR_MULTIPLIER)


class BigGANRecipe(_Recipe):
    """Hinge loss, projection D, spectral norm everywhere, TTUR (BigGAN's recipe)."""

    file_name = "demo-biggan.pt"
    statistics_batches = 32  # standing BN statistics: averaged over this many batches of 32

    learning_rates = (2e-4, 4e-4)
    betas = (0.0, 0.999)

    def build_networks(self) -> tuple[BigGANGenerator, Discriminator]:
        return trainable_biggan(NUM_CLASSES), Discriminator(n_class=NUM_CLASSES, spectral=True)

    def step(self, reals: Tensor, labels: Tensor) -> dict[str, float]:
        batch = reals.shape[0]
        z = torch.randn(batch, self.generator.z_dim, generator=self.latents, device=self.device)
        classes = torch.randint(NUM_CLASSES, (batch,), generator=self.latents, device=self.device)
        with self.generator.collecting_statistics():  # batch statistics, as BN trains
            fakes = self._generate(z, classes)
        d_loss = F.relu(1 - self.discriminator(reals, labels)).mean()
        d_loss = d_loss + F.relu(1 + self.discriminator(fakes.detach(), classes)).mean()
        self._optimize(self.d_optimizer, d_loss)
        g_loss = -self.discriminator(fakes, classes).mean()
        self._generator_step(g_loss)
        return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}

    def _generate(self, z: Tensor, classes: Tensor) -> Tensor:
        """G's images in [-1, 1] (BigGANGenerator gives [0, 1])."""
        return self.generator(z, classes) * 2 - 1

    def plain_generator(self) -> BigGANGenerator:
        return BigGANGenerator(biggan_config(NUM_CLASSES))

    def inference_generator(self) -> BigGANGenerator:
        generator = super().inference_generator()
        generator.recompute_standing_stats(
            n_samples=self.statistics_batches * 32, batch_size=32, seed=0, progress=False
        )
        return generator

    def grid(self, generator: BigGANGenerator) -> Tensor:
        """One row per class, the same latents in every row."""
        z = torch.randn(GRID_COLUMNS, generator.z_dim, generator=torch.Generator().manual_seed(0))
        classes = torch.arange(NUM_CLASSES).repeat_interleave(GRID_COLUMNS)
        return generator(z.repeat(NUM_CLASSES, 1), classes) * 2 - 1

    def export(self, path: Path, generator: BigGANGenerator) -> None:
        write_highcwu(path, generator, self.statistics_batches)


RECIPES: dict[str, type[_Recipe]] = {
    StyleGAN2Generator.kind: StyleGAN2Recipe,
    BigGANGenerator.kind: BigGANRecipe,
}


def save_grid(images: Tensor, path: Path, columns: int = GRID_COLUMNS) -> None:
    """Write images [N, 3, H, W] in [-1, 1] as a PNG grid of `columns` columns."""
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    count, _, height, width = pixels.shape
    rows = math.ceil(count / columns)
    canvas = torch.zeros(3, rows * height, columns * width, dtype=torch.uint8)
    for index, image in enumerate(pixels):
        row, column = divmod(index, columns)
        canvas[:, row * height : (row + 1) * height, column * width : (column + 1) * width] = image
    Image.fromarray(canvas.permute(1, 2, 0).numpy()).save(path)


def _mean_losses(steps: list[dict[str, float]]) -> dict[str, float]:
    """Each loss averaged over the steps that report it (R1 runs on some steps only)."""
    keys = dict.fromkeys(key for losses in steps for key in losses)
    return {key: float(np.mean([s[key] for s in steps if key in s])) for key in keys}


@dataclass
class TrainingReport:
    """What a run did: written to `training.json` beside the model."""

    model: str
    seed: int
    steps: int
    batch_size: int
    training_seconds: float
    images_per_second: float
    losses: list[dict[str, float]]  # means over each logging interval, with the step
    checkpoint: str
    checkpoint_bytes: int
    export_max_abs_diff: float


def train(
    model: str,
    out_dir: Path,
    minutes: float = 60.0,
    seed: int = 0,
    steps: int | None = None,
    batch_size: int = 32,
    device: str = "cpu",
    sample_every: int = 500,
    log_every: int = 50,
    progress: bool = True,
) -> TrainingReport:
    """Train `model` ("stylegan2" or "biggan") for `minutes` (or exactly `steps`), export it
    to `out_dir` in its published format and check that `gan_kit.load` reproduces it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    recipe = RECIPES[model](torch.device(device), seed)
    path = out_dir / recipe.file_name
    _export_and_verify(recipe, path)  # fail now, not after the training, if the format breaks
    batches = face_seeds(seed, batch_size)
    deadline = time.monotonic() + minutes * 60
    history: list[dict[str, float]] = []
    interval: list[dict[str, float]] = []
    training_seconds = 0.0
    step = 0
    with tqdm(total=steps, desc=f"training {model}", unit="step", disable=not progress) as bar:
        while (step < steps) if steps is not None else (time.monotonic() < deadline):
            started = time.perf_counter()
            images, labels = face_batch(next(batches))
            reals = to_tensor(images).to(device)
            interval.append(recipe.step(reals, torch.from_numpy(labels).to(device)))
            recipe.update_average(batch_size)
            training_seconds += time.perf_counter() - started
            step += 1
            if step % log_every == 0:
                history.append({"step": step, **_mean_losses(interval)})
                interval = []
                bar.set_postfix({k: f"{v:.3f}" for k, v in history[-1].items() if k != "step"})
            if step % sample_every == 0:
                with torch.no_grad():
                    grid = recipe.grid(recipe.inference_generator())
                save_grid(grid, out_dir / f"samples-{step:06d}.png")
            bar.update()
    if interval:
        history.append({"step": step, **_mean_losses(interval)})
    generator, checkpoint_bytes, difference = _export_and_verify(recipe, path)
    with torch.no_grad():
        save_grid(recipe.grid(generator), out_dir / "samples-final.png")
    report = TrainingReport(
        model=model,
        seed=seed,
        steps=step,
        batch_size=batch_size,
        training_seconds=round(training_seconds, 1),
        images_per_second=round(step * batch_size / max(training_seconds, 1e-9), 2),
        losses=history,
        checkpoint=str(path),
        checkpoint_bytes=checkpoint_bytes,
        export_max_abs_diff=difference,
    )
    (out_dir / "training.json").write_text(json.dumps(asdict(report), indent=1))
    return report


def _export_and_verify(recipe: _Recipe, path: Path) -> tuple[nn.Module, int, float]:
    """Export the moving average to `path` and check the file: (generator, bytes, max abs
    image difference after `gan_kit.load`). Raises if it is too big or loads differently."""
    generator = recipe.inference_generator()
    recipe.export(path, generator)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise RuntimeError(f"{path} is {size} bytes, over the 10 MB limit")
    difference = verify_export(path, generator)
    if not difference <= EXPORT_TOLERANCE:
        raise RuntimeError(
            f"{path} loads back as a different generator (max abs diff {difference:.2e} > "
            f"{EXPORT_TOLERANCE:.0e})"
        )
    return generator, size, difference


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=sorted(RECIPES))
    parser.add_argument("--out", type=Path, required=True, help="folder for grids and the model")
    parser.add_argument("--minutes", type=float, default=60.0, help="training time budget")
    parser.add_argument("--steps", type=int, default=None, help="exact step count (overrides)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--sample-every", type=int, default=500, help="steps between grids")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    report = train(
        args.model,
        args.out,
        minutes=args.minutes,
        seed=args.seed,
        steps=args.steps,
        batch_size=args.batch_size,
        device=args.device,
        sample_every=args.sample_every,
    )
    print(
        f"{report.steps} steps, {report.images_per_second} images/s; wrote {report.checkpoint} "
        f"({report.checkpoint_bytes / 1e6:.2f} MB), reload max abs diff "
        f"{report.export_max_abs_diff:.2e}"
    )


if __name__ == "__main__":
    main()
