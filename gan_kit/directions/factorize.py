"""The math of the two ways to find directions, from weights or samples: no file I/O.

- SeFa (Shen & Zhou, CVPR 2021): the eigenvectors of A^T A, A the weights that read the
  chosen slots' code stacked (each row scaled to unit length, as the paper's code does):
  the directions the first layers amplify most.
- GANSpace (Haerkoenen et al., NeurIPS 2020): principal components of sampled codes
  (StyleGAN2's w); for BigGAN, principal components of the activations of the layers
  that read z, regressed back onto z. Those layers are linear in their chunk, so the
  regression is exact: its directions are the eigenvectors of C A^T A (C the sampled
  codes' covariance), ordered by the activation variance they explain.
"""

from __future__ import annotations

import torch

from gan_kit.directions.record import orthonormal_rows


def sefa_basis(weights: list[torch.Tensor]) -> torch.Tensor:
    """All SeFa directions [dim, dim] (float64, orthonormal rows, strongest first) of the
    reading weights `weights` (each [out, dim])."""
    stacked = torch.cat([weight.detach().double().cpu() for weight in weights])
    stacked = stacked / stacked.norm(dim=1, keepdim=True).clamp_min(1e-12)
    values, vectors = torch.linalg.eigh(stacked.T @ stacked)
    return orthonormal_rows(vectors[:, values.argsort(descending=True)].T)


def pca_basis(codes: torch.Tensor) -> torch.Tensor:
    """All principal directions [dim, dim] (float64, orthonormal rows, largest variance
    first) of sampled `codes` [n, dim]."""
    centred = codes.double().cpu() - codes.double().cpu().mean(dim=0)
    values, vectors = torch.linalg.eigh(centred.T @ centred / max(len(codes) - 1, 1))
    return orthonormal_rows(vectors[:, values.argsort(descending=True)].T)


def regressed_pca_basis(codes: torch.Tensor, weights: list[torch.Tensor]) -> torch.Tensor:
    """GANSpace's BigGAN directions [dim, dim] (float64, orthonormal rows in order): the
    principal components of the activations `codes @ A^T` (A: `weights` stacked),
    regressed back onto the codes [n, dim]."""
    stacked = torch.cat([weight.detach().double().cpu() for weight in weights])
    centred = codes.double().cpu() - codes.double().cpu().mean(dim=0)
    covariance = centred.T @ centred / max(len(codes) - 1, 1)
    values, vectors = torch.linalg.eigh(covariance)
    root = vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T  # C^(1/2)
    explained, components = torch.linalg.eigh(root @ stacked.T @ stacked @ root)
    directions = root @ components[:, explained.argsort(descending=True)]  # C^(1/2) y
    return orthonormal_rows(directions.T)


def scales_along(codes: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """The standard deviation [top] (float32) of sampled `codes` [n, dim] along each row
    of `vectors` [top, dim]: the distance an edit of strength 1 moves."""
    projected = codes.double().cpu() @ vectors.double().T
    return projected.std(dim=0).clamp_min(1e-12).float()
