"""The anime BigGAN (run39) from its original TF1 checkpoint (`model.ckpt-607250.index` +
`.data-*`, folder or prefix): read with gan_kit's own tensor-bundle reader (no TensorFlow),
its compare_gan variables mapped to the HighCWu layout and built by `biggan_highcwu`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gan_kit.errors import CheckpointMismatchError, UnsupportedCheckpointError
from gan_kit.generators.biggan import BigGANGenerator
from gan_kit.loading.biggan_highcwu import ARCHITECTURE, build_from_state_dict
from gan_kit.loading.limits import shown
from gan_kit.loading.tf_bundle import TensorBundle, find_prefix

__all__ = ["build_from_tf_checkpoint", "recognises_tf_checkpoint"]

_EMA_SUFFIX = "/ExponentialMovingAverage"


def _tf_dense(array: np.ndarray) -> Tensor:
    if array.ndim != 2:
        raise CheckpointMismatchError(f"has {array.ndim} dimensions, a dense kernel 2")
    return torch.from_numpy(np.ascontiguousarray(array.T))


def _tf_conv(array: np.ndarray) -> Tensor:
    if array.ndim != 4:
        raise CheckpointMismatchError(f"has {array.ndim} dimensions, a conv kernel 4")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(3, 2, 0, 1)))


def _tf_vector(array: np.ndarray) -> Tensor:
    return torch.from_numpy(array.reshape(-1).copy())


def _tf_variable_table(
    num_blocks: int, attention_block: int | None
) -> dict[str, tuple[str, Callable[[np.ndarray], Tensor], bool]]:
    """HighCWu key -> (TF variable, converter, trainable) for compare_gan's generator."""
    table: dict[str, tuple[str, Callable[[np.ndarray], Tensor], bool]] = {}

    def trainable(key: str, variable: str, convert: Callable[[np.ndarray], Tensor]) -> None:
        table[key] = (f"generator/{variable}", convert, True)

    def accumulators(key: str, scope: str) -> None:
        for ours, theirs in (("mean", "accu_mean"), ("var", "accu_variance")):
            table[f"{key}.accumulated_{ours}"] = (
                f"generator/{scope}/accu/{theirs}",
                _tf_vector,
                False,
            )
        table[f"{key}.accumulated_counter"] = (
            f"generator/{scope}/accu/accu_counter",
            _tf_vector,
            False,
        )

    trainable("embed_y.weight", "embed_y/kernel", _tf_dense)
    trainable("noise_fc.weight", "fc_noise/kernel", _tf_dense)
    trainable("noise_fc.module.bias", "fc_noise/bias", _tf_vector)
    for index in range(num_blocks):
        key, scope = f"blocks.{index}", f"B{index + 1}"
        for number in (1, 2):
            norm = f"{key}.cond_norm{number}"
            accumulators(f"{norm}.bn_in_cond", f"{scope}/bn{number}")
            for part in ("gamma", "beta"):
                trainable(
                    f"{norm}.{part}_embed.weight",
                    f"{scope}/bn{number}/condition/{part}/kernel",
                    _tf_dense,
                )
        for ours, theirs in (
            ("conv0", "up_conv1"),
            ("conv1", "same_conv2"),
            ("conv_sc", "up_conv_shortcut"),
        ):
            trainable(f"{key}.{ours}.weight", f"{scope}/{theirs}/kernel", _tf_conv)
            trainable(f"{key}.{ours}.module.bias", f"{scope}/{theirs}/bias", _tf_vector)
    if attention_block is not None:
        key = f"blocks.{attention_block - 1}.attention"
        for ours, theirs in (("theta", "theta"), ("phi", "phi"), ("g", "g"), ("o_conv", "attn_g")):
            trainable(f"{key}.{ours}.weight", f"non_local_block/conv2d_{theirs}/kernel", _tf_conv)
        trainable(f"{key}.gamma", "non_local_block/sigma", _tf_vector)
    trainable("output_layer_bn.weight", "final_norm/gamma", _tf_vector)
    trainable("output_layer_bn.bias", "final_norm/beta", _tf_vector)
    accumulators("output_layer_bn", "final_norm")
    trainable("output_layer_conv.weight", "final_conv/kernel", _tf_conv)
    trainable("output_layer_conv.module.bias", "final_conv/bias", _tf_vector)
    return table


def _tf_structure(bundle: TensorBundle, source: str) -> tuple[int, int | None]:
    """(number of blocks, 1-based attention block) read off the TF variable shapes (of the
    raw variables or their moving averages, whichever the checkpoint kept)."""
    shapes = {name.removesuffix(_EMA_SUFFIX): e.shape for name, e in bundle.entries.items()}
    block_out = {}
    for name, shape in shapes.items():
        match = re.fullmatch(r"generator/B(\d+)/up_conv1/kernel", name)
        if match and len(shape) == 4:
            block_out[int(match.group(1))] = shape[3]
    if not block_out or "generator/fc_noise/kernel" not in shapes:
        raise UnsupportedCheckpointError(
            f"{source} is a TensorFlow checkpoint but not of the {ARCHITECTURE} generator "
            "(no generator/fc_noise and generator/B1/up_conv1 variables)"
        )
    theta = shapes.get("generator/non_local_block/conv2d_theta/kernel")
    if theta is None:
        return len(block_out), None
    if len(theta) != 4:
        raise CheckpointMismatchError(
            f"{source}: generator/non_local_block/conv2d_theta/kernel has the shape "
            f"{shown(list(theta))}; a conv kernel has 4 dimensions"
        )
    after = [block for block, width in sorted(block_out.items()) if width == theta[2]]
    if len(after) != 1:
        raise CheckpointMismatchError(
            f"{source}: cannot tell which block the attention (on {theta[2]} channels) "
            f"follows; blocks with that width: {after}"
        )
    return len(block_out), after[0]


def recognises_tf_checkpoint(path: Path) -> bool:
    """Whether `path` is a TF checkpoint prefix, `.index` or `.data-*` file, or a folder
    holding checkpoints."""
    return find_prefix(path) is not None or (path.is_dir() and any(path.glob("*.index")))


def build_from_tf_checkpoint(path: Path) -> BigGANGenerator:
    """The generator of a compare_gan TF checkpoint, from its exponential-moving-average
    weights (the raw variables are the last training step's, not the ones to sample with).

    Discriminator, optimizer, step, u_var and update_accus variables are ignored. A
    checkpoint without any moving averages is read from its raw variables.
    """
    prefix = find_prefix(path)
    if prefix is None:
        found = ", ".join(sorted(p.stem for p in Path(path).glob("*.index")))
        raise UnsupportedCheckpointError(
            f"{path} holds several TF checkpoints ({found}) and no `checkpoint` file naming "
            "one: pass the prefix of the one to load, e.g. folder/model.ckpt-607250"
        )
    bundle = TensorBundle(prefix)
    source = str(prefix)
    num_blocks, attention_block = _tf_structure(bundle, source)
    use_ema = any(n.startswith("generator/") and n.endswith(_EMA_SUFFIX) for n in bundle.entries)
    table = _tf_variable_table(num_blocks, attention_block)
    state_dict: dict[str, Tensor] = {}
    names: dict[str, str] = {}
    missing = []
    for key, (variable, convert, is_trainable) in table.items():
        name = f"{variable}{_EMA_SUFFIX}" if use_ema and is_trainable else variable
        names[key] = name
        if name in bundle.entries:
            try:
                state_dict[key] = convert(bundle.read(name))
            except CheckpointMismatchError as exc:
                raise CheckpointMismatchError(
                    f"{source}: {name} {exc}: it is not the {ARCHITECTURE} generator's"
                ) from exc
        else:
            missing.append(name)
    if missing:
        shown = ", ".join(missing[:8]) + (
            f", ... ({len(missing)} in all)" if len(missing) > 8 else ""
        )
        raise CheckpointMismatchError(
            f"{source} lacks variables of the {ARCHITECTURE} generator: {shown}. Is it a "
            "checkpoint of another model, or incomplete?"
        )
    return build_from_state_dict(state_dict, source=source, rename=lambda k: names.get(k, k))
