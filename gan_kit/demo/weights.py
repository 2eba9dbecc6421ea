"""Training-time weight parametrizations, and the plain inference copy that drops them.

gan_kit's generators hold final weights. Training wants them reparametrized:
- StyleGAN2's equalized learning rate trains N(0, 1) raw weights scaled at run time by
  `lr_multiplier / sqrt(fan_in)`, so that Adam's step is the same size for every layer;
- BigGAN's spectral norm trains raw kernels divided at run time by their largest
  singular value, estimated by one power-iteration step per training forward.
Both are `torch.nn.utils.parametrize` parametrizations of a module's existing weight, so
the generator classes are used unchanged; `inference_copy` bakes them into plain weights.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

__all__ = [
    "EqualizedLearningRate",
    "SpectralNorm",
    "equalize",
    "inference_copy",
    "spectral_normalise",
    "update_ema",
]


class EqualizedLearningRate(nn.Module):
    """final = raw * gain."""

    def __init__(self, gain: float) -> None:
        super().__init__()
        self.gain = gain

    def forward(self, raw: Tensor) -> Tensor:
        return raw * self.gain

    def right_inverse(self, final: Tensor) -> Tensor:
        return final / self.gain


def equalize(module: nn.Module, name: str = "weight", lr_multiplier: float = 1.0) -> None:
    """Train `module.<name>` with an equalized learning rate.

    A weight restarts from a raw N(0, 1/lr_multiplier²) draw scaled by
    `lr_multiplier / sqrt(fan_in)` (fan-in: everything but dim 0); a bias (1-D) keeps its
    value and is scaled by `lr_multiplier` alone.
    """
    tensor = getattr(module, name)
    is_bias = tensor.dim() == 1
    gain = lr_multiplier if is_bias else lr_multiplier / math.sqrt(math.prod(tensor.shape[1:]))
    parametrize.register_parametrization(module, name, EqualizedLearningRate(gain))
    if not is_bias:
        with torch.no_grad():
            module.parametrizations[name].original.normal_(0.0, 1.0 / lr_multiplier)


class SpectralNorm(nn.Module):
    """final = raw / sigma(raw), sigma the largest singular value of raw as [out, rest].

    Each training-mode forward refines `u` (the top left singular vector) by one
    power-iteration step (Miyato et al. 2018); evaluation uses `u` as it stands, and
    `make_exact` sets it to the exact vector, so sigma is exact from then on.
    `transposed` marks transposed-convolution weights, laid out [in, out, ...].
    """

    def __init__(self, raw: Tensor, transposed: bool = False) -> None:
        super().__init__()
        self.transposed = transposed
        outputs = raw.shape[1] if transposed else raw.shape[0]
        self.register_buffer("u", F.normalize(torch.randn(outputs), dim=0))

    def _matrix(self, raw: Tensor) -> Tensor:
        return (raw.transpose(0, 1) if self.transposed else raw).flatten(1)

    def forward(self, raw: Tensor) -> Tensor:
        matrix = self._matrix(raw)
        with torch.no_grad():
            if self.training:
                self.u.copy_(F.normalize(matrix @ F.normalize(matrix.T @ self.u, dim=0), dim=0))
            u = self.u.clone()
            v = F.normalize(matrix.T @ u, dim=0)
        return raw / torch.dot(u, matrix @ v)

    @torch.no_grad()
    def make_exact(self, raw: Tensor) -> None:
        """Set `u` to the exact top left singular vector of `raw`."""
        left, _, _ = torch.linalg.svd(self._matrix(raw).double(), full_matrices=False)
        self.u.copy_(left[:, 0].to(self.u.dtype))


def spectral_normalise(module: nn.Module, name: str = "weight", transposed: bool = False) -> None:
    """Train `module.<name>` under spectral normalisation (its current value is the raw init)."""
    raw = getattr(module, name)
    parametrize.register_parametrization(module, name, SpectralNorm(raw, transposed))


@torch.no_grad()
def inference_copy(model: nn.Module, plain: nn.Module) -> nn.Module:
    """`plain`, a parametrization-free instance of `model`'s architecture, loaded with
    `model`'s effective weights (spectral norms made exact first), in eval mode.

    A fresh instance rather than removing the parametrizations from a deep copy: the copy
    shares its parametrized classes with `model`, which removal would break.
    """
    model.eval()
    for module in model.modules():
        if parametrize.is_parametrized(module):
            for entry in module.parametrizations.values():
                for parametrization in entry:
                    if isinstance(parametrization, SpectralNorm):
                        parametrization.make_exact(entry.original)
    state = {}
    for key in plain.state_dict():
        owner, _, name = key.rpartition(".")
        state[key] = getattr(model.get_submodule(owner), name)
    plain.load_state_dict(state)
    return plain.eval()


@torch.no_grad()
def update_ema(average: nn.Module, model: nn.Module, beta: float) -> None:
    """average = beta * average + (1 - beta) * model for parameters; buffers are copied."""
    for mean, current in zip(average.parameters(), model.parameters(), strict=True):
        mean.lerp_(current, 1.0 - beta)
    for mean, current in zip(average.buffers(), model.buffers(), strict=True):
        mean.copy_(current)
