"""The `D` network of a stylegan2-ada-pytorch pickle -> `StyleGAN2Discriminator`.

The pickle is read as `gan_kit.loading.ada_pickle` reads it (its allow-listing unpickler:
no source is run, tensors are rebuilt tensors-only); its `D` record, a 'resnet'
`Discriminator` (blocks `b{res}` from the top resolution, the epilogue `b4`), is mapped
to gan_kit's discriminator with the layers' gains folded into the weights.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gan_kit.discriminators.stylegan2 import StyleGAN2Discriminator, StyleGAN2DiscriminatorConfig
from gan_kit.errors import CheckpointMismatchError, UnsupportedCheckpointError
from gan_kit.loading import ada_pickle

__all__ = ["build_discriminator", "discriminator_from_ada", "read_pickle"]

WHOLE_BATCH = 1 << 20  # ada's mbstd_group_size None: one group per batch


def read_pickle(path: Path) -> Mapping[str, Any]:
    """The top-level dict of an ada pickle, networks as `PersistentObject`s (nothing run),
    read by the generator loader's checked unpickler."""
    return ada_pickle.read_networks(path, network="D")


def _layer(layer: ada_pickle.PersistentObject, activation: str) -> dict[str, Tensor]:
    """A Conv2dLayer's or FullyConnectedLayer's final weight and bias, gains folded."""
    found = layer.state.get("activation", "linear")
    if found != activation:
        raise UnsupportedCheckpointError(
            f"a {layer.class_name} of D uses activation {found!r}; gan_kit builds StyleGAN2 "
            f"discriminators with {activation!r} there"
        )
    out = {"weight": layer.tensor("weight") * float(layer.state["weight_gain"])}
    if isinstance((layer.state.get("_parameters") or {}).get("bias"), Tensor) or isinstance(
        (layer.state.get("_buffers") or {}).get("bias"), Tensor
    ):
        out["bias"] = layer.tensor("bias") * float(layer.state.get("bias_gain", 1.0))
    return out


def _taps(block: ada_pickle.PersistentObject) -> tuple[float, ...]:
    kernel = block.tensor("resample_filter")
    taps = kernel.sum(dim=1) if kernel.ndim == 2 else kernel
    if kernel.ndim == 2 and not torch.allclose(torch.outer(taps, taps), kernel, atol=1e-6):
        raise UnsupportedCheckpointError("D's resampling filter is not separable")
    return tuple(float(t) for t in taps / taps.sum())


def discriminator_from_ada(d: ada_pickle.PersistentObject) -> StyleGAN2Discriminator:
    """Build gan_kit's discriminator from the `D` record of a stylegan2-ada-pytorch pickle."""
    state = d.state
    if int(state.get("c_dim", 0) or 0) != 0:
        raise UnsupportedCheckpointError(
            "this discriminator is class-conditional (c_dim > 0); gan_kit reads "
            "unconditional StyleGAN2 discriminators only"
        )
    resolution = int(state["img_resolution"])
    block_resolutions = [2**i for i in range(int(math.log2(resolution)), 2, -1)]
    blocks = [d.module(f"b{r}") for r in block_resolutions]
    epilogue = d.module("b4")
    for part in [*blocks, epilogue]:
        if part.state.get("architecture", "resnet") != "resnet":
            raise UnsupportedCheckpointError(
                f"D's architecture {part.state['architecture']!r}: gan_kit reads 'resnet' only"
            )
    clamps = {b.module("conv0").state.get("conv_clamp") for b in blocks} - {None}
    if clamps:
        warnings.warn(
            f"the discriminator clamps activations at ±{min(clamps)} (conv_clamp); gan_kit "
            "does not clamp, which changes only activations beyond that bound",
            stacklevel=3,
        )
    ours: dict[str, Tensor] = {}
    first = _layer(blocks[0].module("fromrgb"), "lrelu")
    ours |= {f"from_rgb.{key}": value for key, value in first.items()}
    for k, block in enumerate(blocks):
        for name, activation in (("conv0", "lrelu"), ("conv1", "lrelu"), ("skip", "linear")):
            layer = _layer(block.module(name), activation)
            ours |= {f"blocks.{k}.{name}.{key}": value for key, value in layer.items()}
    for name, target, activation in (
        ("conv", "conv", "lrelu"),
        ("fc", "dense", "lrelu"),
        ("out", "output", "linear"),
    ):
        layer = _layer(epilogue.module(name), activation)
        ours |= {f"{target}.{key}": value for key, value in layer.items()}
    mbstd = (epilogue.state.get("_modules") or {}).get("mbstd")
    group_size, num_features = 0, 0
    if isinstance(mbstd, ada_pickle.PersistentObject):
        group = mbstd.state.get("group_size")
        group_size = WHOLE_BATCH if group is None else int(group)
        num_features = int(mbstd.state.get("num_channels", 1))
    channels = [int(ours["conv.weight"].shape[0])]
    channels += [int(ours[f"blocks.{k}.conv0.weight"].shape[0]) for k in range(len(blocks))][::-1]
    config = StyleGAN2DiscriminatorConfig(
        resolution=resolution,
        channels=tuple(channels),
        dense_width=int(ours["dense.weight"].shape[0]),
        img_channels=int(state.get("img_channels", 3)),
        mbstd_group_size=group_size,
        mbstd_num_features=num_features,
        resample_filter=_taps(blocks[0]),
    )
    discriminator = StyleGAN2Discriminator(config)
    expected = discriminator.state_dict()
    problems = [f"missing {name}" for name in expected if name not in ours]
    problems += [
        f"{name}: shape {tuple(ours[name].shape)}, expected {tuple(tensor.shape)}"
        for name, tensor in expected.items()
        if name in ours and ours[name].shape != tensor.shape
    ]
    if problems:
        raise CheckpointMismatchError(
            "the D tensors do not form a StyleGAN2 discriminator: " + "; ".join(problems[:8])
        )
    discriminator.load_state_dict({name: ours[name].contiguous() for name in expected})
    return discriminator


def build_discriminator(path: Path) -> StyleGAN2Discriminator:
    """Read a stylegan2-ada-pytorch pickle safely and build its `D` network."""
    d = read_pickle(path).get("D")
    if not isinstance(d, ada_pickle.PersistentObject):
        raise UnsupportedCheckpointError(
            f"{path} holds no 'D' network (an inference-only export?): pass the training "
            "snapshot network-snapshot-*.pkl, which keeps D"
        )
    try:
        return discriminator_from_ada(d)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CheckpointMismatchError(
            f"{path}: D is not a StyleGAN2 discriminator gan_kit can build "
            f"({type(exc).__name__}: {exc})"
        ) from exc
