"""The `d` entry of a rosinality stylegan2-pytorch checkpoint -> `StyleGAN2Discriminator`.

Its training script saves `{"g": ..., "d": ..., "g_ema": ..., ...}`; `d` is the state
dict of its `Discriminator`: `convs.0` (1x1 from RGB), `convs.1..N` residual blocks
(`conv1`, blurred strided `conv2`, blurred strided `skip`), `final_conv`, `final_linear`
(dense, output). Weights are raw (the 1/sqrt(fan_in) gains, lr multiplier 1, applied at
run time), folded here; the minibatch stddev is its fixed group of 4, one feature.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from gan_kit.discriminators.stylegan2 import StyleGAN2Discriminator, StyleGAN2DiscriminatorConfig
from gan_kit.errors import CheckpointMismatchError, UnsupportedCheckpointError
from gan_kit.loading.reading import read_torch_file
from gan_kit.loading.rosinality import _RecordingDict  # remembers which keys were read

__all__ = ["build_discriminator", "discriminator_from_state_dict"]

_TAPS = torch.tensor([1.0, 3.0, 3.0, 1.0])


def _conv(state: Mapping[str, Tensor], name: str) -> Tensor:
    weight = state[name].float()
    return weight / math.sqrt(math.prod(weight.shape[1:]))


def _state(state: Mapping[str, Tensor], blocks: int) -> dict[str, Tensor]:
    ours = {
        "from_rgb.weight": _conv(state, "convs.0.0.weight"),
        "from_rgb.bias": state["convs.0.1.bias"],
    }
    for k in range(blocks):
        source, target = f"convs.{k + 1}", f"blocks.{k}"
        ours[f"{target}.conv0.weight"] = _conv(state, f"{source}.conv1.0.weight")
        ours[f"{target}.conv0.bias"] = state[f"{source}.conv1.1.bias"]
        ours[f"{target}.conv1.weight"] = _conv(state, f"{source}.conv2.1.weight")
        ours[f"{target}.conv1.bias"] = state[f"{source}.conv2.2.bias"]
        ours[f"{target}.skip.weight"] = _conv(state, f"{source}.skip.1.weight")
    ours["conv.weight"] = _conv(state, "final_conv.0.weight")
    ours["conv.bias"] = state["final_conv.1.bias"]
    for i, target in enumerate(("dense", "output")):
        ours[f"{target}.weight"] = _conv(state, f"final_linear.{i}.weight")
        ours[f"{target}.bias"] = state[f"final_linear.{i}.bias"]
    return {name: tensor.float().contiguous() for name, tensor in ours.items()}


def discriminator_from_state_dict(
    state: Mapping[str, Tensor], source: str = "state dict"
) -> StyleGAN2Discriminator:
    """A `StyleGAN2Discriminator` from rosinality's discriminator state dict."""
    if not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in state.items()):
        raise CheckpointMismatchError(f"{source}: 'd' does not map tensor names to tensors")
    residual = sorted(
        {int(m[1]) for k in state if (m := re.fullmatch(r"convs\.(\d+)\.conv1\.0\.weight", k))}
    )
    if not residual or residual != list(range(1, len(residual) + 1)):
        raise CheckpointMismatchError(
            f"{source}: 'd' lacks rosinality's convs.1..N residual blocks: it is not that "
            "code's StyleGAN2 discriminator (StyleGAN2-ext and others are not read)"
        )
    blocks = len(residual)
    expected_kernel = torch.outer(_TAPS, _TAPS) / torch.outer(_TAPS, _TAPS).sum()
    for name, kernel in state.items():
        if name.endswith(".kernel"):
            normalised = kernel.float() / kernel.float().sum()
            if normalised.shape != expected_kernel.shape or not torch.allclose(
                normalised, expected_kernel
            ):
                raise UnsupportedCheckpointError(
                    f"{source}: {name} is not the [1,3,3,1] FIR filter gan_kit implements"
                )
    try:
        recording = _RecordingDict(state)
        ours = _state(recording, blocks)
        channels = [int(ours["conv.weight"].shape[0])]
        channels += [int(ours[f"blocks.{k}.conv0.weight"].shape[0]) for k in range(blocks)][::-1]
        config = StyleGAN2DiscriminatorConfig(
            resolution=4 * 2**blocks,
            channels=tuple(channels),
            dense_width=int(ours["dense.weight"].shape[0]),
            img_channels=int(ours["from_rgb.weight"].shape[1]),
        )
    except (KeyError, IndexError, ValueError, TypeError, ZeroDivisionError) as exc:
        raise CheckpointMismatchError(
            f"{source}: 'd' is not a well-formed rosinality StyleGAN2 discriminator "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    discriminator = StyleGAN2Discriminator(config)
    expected = discriminator.state_dict()
    unread = {k for k in state if not k.endswith(".kernel")} - recording.read
    problems = [f"unexpected {k}" for k in sorted(unread)]
    problems += [
        f"{name} has shape {tuple(tensor.shape)}, expected {tuple(expected[name].shape)}"
        for name, tensor in ours.items()
        if tensor.shape != expected[name].shape
    ]
    if problems:
        raise CheckpointMismatchError(
            f"{source} does not match rosinality's StyleGAN2 discriminator: "
            + "; ".join(problems[:8])
        )
    discriminator.load_state_dict(ours)
    return discriminator


def build_discriminator(path: Path) -> StyleGAN2Discriminator:
    """Read a rosinality `.pt` safely and build its `d` discriminator."""
    checkpoint = read_torch_file(path, "save the state dicts alone")
    if not isinstance(checkpoint, Mapping) or "d" not in checkpoint:
        raise UnsupportedCheckpointError(
            f"{path} holds no discriminator (no 'd' entry; generator-only files such as "
            "converted releases keep just 'g_ema'): pass the training checkpoint that has 'd'"
        )
    if not isinstance(checkpoint["d"], Mapping):
        raise UnsupportedCheckpointError(f"{path}: its 'd' entry is not a state dict")
    return discriminator_from_state_dict(checkpoint["d"], source=str(path))
