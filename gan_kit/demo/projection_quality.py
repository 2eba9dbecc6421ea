"""What projection recovers on the demo StyleGAN2, and whether its D sees defects.

    python -m gan_kit.demo.projection_quality [--count 20] [--steps 40]

- 20 faces the model generated itself (seeds 5000.., psi 0.7: their w is known): PSNR
  and SSIM of the recovered image, and the distance of the recovered w from the true one
  (relative to the spread of random ws);
- 20 procedural faces (`gan_kit.demo.faces`) of seeds 1_000_000.., never used in
  training (it drew seeds below 100_000);
each projected with pixel distance + MS-SSIM only, and with the discriminator's features
added. Then the critic: over 64 seeds at psi 1, the rank correlation of D's score with
the checkerboard energy of the image (high-frequency artefacts; negative: D dislikes
them), and D's scores of faces vs the same faces with a checkerboard added.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

import numpy as np
import torch

import gan_kit
from gan_kit.demo.faces import draw_face
from gan_kit.explore.base import Explorer
from gan_kit.explore.critic import seed_scores
from gan_kit.explore.image_distances import ssim
from gan_kit.explore.projection import ProjectionLoss, project

__all__ = ["checkerboard_energy", "main", "measure_projection", "psnr"]

SELF_SEEDS = 5000
UNSEEN_FACE_SEEDS = 1_000_000


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-12)))


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    as_tensor = lambda x: torch.from_numpy(np.array(x)).permute(2, 0, 1)[None].float() / 255  # noqa: E731
    return float(ssim(as_tensor(a), as_tensor(b)))


def checkerboard_energy(image: np.ndarray) -> float:
    """Mean absolute response of the 2x2 checker filter [[1, -1], [-1, 1]] / 4 on the
    luminance (0..1): the energy at the highest spatial frequency."""
    y = image.astype(np.float64).mean(axis=2) / 255
    response = (y[:-1, :-1] - y[1:, :-1] - y[:-1, 1:] + y[1:, 1:]) / 4
    return float(np.abs(response).mean())


@dataclass
class _Row:
    psnr: float
    ssim: float
    w_distance: float | None = None


def measure_projection(
    explorer: Explorer,
    targets: list[np.ndarray],
    true_ws: torch.Tensor | None,
    steps: int,
    use_d: bool,
) -> list[_Row]:
    """Project each target; PSNR, SSIM and (with `true_ws`) relative w distance."""
    generator = explorer.generator
    with torch.no_grad():
        spread = generator.mapping(
            torch.randn(512, generator.z_dim, generator=torch.Generator().manual_seed(1))
        )[:, 0]
        w_std = float((spread - spread.mean(0)).norm(dim=1).mean())
    loss = ProjectionLoss() if use_d else ProjectionLoss(discriminator=0.0)
    rows = []
    for index, target in enumerate(targets):
        projection = project(explorer, target, steps=steps, starts=64, loss=loss)
        row = _Row(psnr(projection.image, target), _ssim(projection.image, target))
        if true_ws is not None:
            row.w_distance = float((projection.styles[0, 0] - true_ws[index]).norm()) / w_std
        rows.append(row)
    return rows


def _summary(rows: list[_Row]) -> dict[str, float]:
    out = {
        "psnr_mean": round(float(np.mean([r.psnr for r in rows])), 2),
        "psnr_min": round(float(np.min([r.psnr for r in rows])), 2),
        "ssim_mean": round(float(np.mean([r.ssim for r in rows])), 3),
    }
    if rows[0].w_distance is not None:
        out["w_distance_mean"] = round(float(np.mean([r.w_distance for r in rows])), 3)
    return out


def _spearman(a: list[float], b: list[float]) -> float:
    ranks = lambda x: np.argsort(np.argsort(x))  # noqa: E731
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def critic_report(explorer: Explorer, count: int = 64) -> dict[str, float]:
    """D's score vs checkerboard energy over `count` seeds at psi 1, and with a checker
    pattern (amplitude 0.1) added to 16 faces: how often D scores the damaged one lower."""
    critic = gan_kit.load_discriminator(explorer.model, device=explorer.device)
    seeds = list(range(count))
    scores = seed_scores(explorer, seeds, psi=1.0, discriminator=critic)
    images = explorer.render_uint8(explorer.seed_styles(seeds, psi=1.0))
    energies = [checkerboard_energy(image) for image in images]
    faces = explorer.render(explorer.seed_styles(range(16), psi=0.7)) * 2 - 1
    checker = (torch.arange(64)[:, None] + torch.arange(64)[None]) % 2 * 2 - 1
    damaged = faces + 0.1 * checker.float()
    with torch.no_grad():
        clean = [float(critic(f[None])) for f in faces]
        hurt = [float(critic(f[None])) for f in damaged]
    return {
        "spearman_score_vs_checker_energy": round(_spearman(scores, energies), 3),
        "checkered_scored_lower": sum(h < c for h, c in zip(hurt, clean, strict=True)) / len(clean),
        "mean_score_drop": round(float(np.mean(clean) - np.mean(hurt)), 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    explorer = gan_kit.explorer("demo-stylegan2", "cpu")
    true_ws = explorer.seed_styles(range(SELF_SEEDS, SELF_SEEDS + args.count), psi=0.7)
    own = list(explorer.render_uint8(true_ws))
    faces = [
        np.asarray(draw_face(UNSEEN_FACE_SEEDS + i)[0].convert("RGB")) for i in range(args.count)
    ]
    report = {}
    for name, targets, ws in (
        ("self-generated", own, true_ws[:, 0]),
        ("unseen faces", faces, None),
    ):
        for use_d in (False, True):
            key = f"{name}, {'with D features' if use_d else 'pixel + MS-SSIM only'}"
            report[key] = _summary(measure_projection(explorer, targets, ws, args.steps, use_d))
            print(key, json.dumps(report[key]), flush=True)
    report["critic"] = critic_report(explorer)
    print("critic", json.dumps(report["critic"]))


if __name__ == "__main__":
    main()
