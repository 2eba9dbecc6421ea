"""Load the anime BigGAN (run39) from its published files into `BigGANGenerator`.

Two formats, each a `recognises(path)` / `build(path)` pair for the format table:
- HighCWu's PyTorch state dict (Hugging Face `HighCWu/anime-biggan-pytorch`,
  `pytorch_model.bin`), read with `torch.load(weights_only=True)`;
- the original TF1 checkpoint (`model.ckpt-607250.index` + `.data-*`, folder or prefix),
  read with gan_kit's own tensor-bundle reader and mapped to the HighCWu layout.

`build_from_state_dict` turns a HighCWu-layout state dict (the interchange layout here)
into a generator: it infers the size from the shapes, checks every tensor, folds the
spectral norm (exact largest singular value, computed once) into the weights and turns
the accumulated BN sums into means and variances.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gan_kit.errors import (
    CheckpointMismatchError,
    CorruptCheckpointError,
    GanKitError,
    UnsupportedCheckpointError,
)
from gan_kit.generators.biggan import CHANNEL_MULTIPLIERS, BigGANConfig, BigGANGenerator
from gan_kit.loading.reading import read_torch_file, torch_file_keys
from gan_kit.loading.tf_bundle import TensorBundle, find_prefix

__all__ = [
    "build_from_state_dict",
    "build_from_tf_checkpoint",
    "build_from_torch_file",
    "highcwu_layout",
    "largest_singular_value",
    "recognises_tf_checkpoint",
    "recognises_torch_file",
]

ARCHITECTURE = "anime BigGAN (run39)"
_STATE_DICT_MARKERS = (b"embed_y.weight", b"noise_fc.")


def largest_singular_value(weight: Tensor) -> float:
    """Exact spectral norm of `weight` viewed as [out, everything else] (the TF view
    [kh*kw*in, out] is a row permutation of its transpose: same singular values).

    Computed as sqrt(largest eigenvalue) of the smaller Gram matrix in float64: exact to
    ~1e-15 and 40x faster than svdvals on a 13824x1536 kernel.
    """
    matrix = weight.detach().reshape(weight.shape[0], -1).double()
    gram = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
    return float(torch.linalg.eigvalsh(gram)[-1].clamp_min(0).sqrt())


def _spectral_normalised(weight: Tensor) -> Tensor:
    """`weight` divided by its largest singular value."""
    sigma = largest_singular_value(weight)
    if sigma == 0:
        return weight.float().clone()
    return (weight.double() / sigma).float()


# --- the HighCWu layout ----------------------------------------------------------------


def highcwu_layout(generator: BigGANGenerator) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """The HighCWu key -> shape tables for `generator`'s size: the tensors inference needs,
    and the optional ones the port also stores (power-iteration u, torch BN running
    stats), which are ignored. A u is [rows, 1] or [1, out] of the TF view [rows, out]."""
    shapes: dict[str, tuple] = {}
    optional: dict[str, tuple] = {}
    condition_dim = generator.chunk_size + generator.embed_dim

    def spectral(prefix: str, shape: tuple, bias: bool = False) -> None:
        shapes[f"{prefix}.weight"] = shape
        rows = math.prod(shape[1:])
        optional[f"{prefix}.weight_u"] = (rows, 1) if rows <= shape[0] else (1, shape[0])
        if bias:
            shapes[f"{prefix}.module.bias"] = (shape[0],)

    def accumulators(prefix: str, channels: int) -> None:
        shapes[f"{prefix}.accumulated_mean"] = (channels,)
        shapes[f"{prefix}.accumulated_var"] = (channels,)
        shapes[f"{prefix}.accumulated_counter"] = (1,)
        optional[f"{prefix}.running_mean"] = (channels,)
        optional[f"{prefix}.running_var"] = (channels,)
        optional[f"{prefix}.num_batches_tracked"] = ()

    channels = generator.channels
    shapes["embed_y.weight"] = (generator.embed_dim, generator.n_class)
    spectral("noise_fc", (16 * channels[0], generator.chunk_size), bias=True)
    for index, (c_in, c_out) in enumerate(itertools.pairwise(channels)):
        block = f"blocks.{index}"
        for norm, width in (("cond_norm1", c_in), ("cond_norm2", c_out)):
            accumulators(f"{block}.{norm}.bn_in_cond", width)
            spectral(f"{block}.{norm}.gamma_embed", (width, condition_dim))
            spectral(f"{block}.{norm}.beta_embed", (width, condition_dim))
        spectral(f"{block}.conv0", (c_out, c_in, 3, 3), bias=True)
        spectral(f"{block}.conv1", (c_out, c_out, 3, 3), bias=True)
        spectral(f"{block}.conv_sc", (c_out, c_in, 1, 1), bias=True)
    if generator.attention is not None:
        attention = f"blocks.{generator.attention_block - 1}.attention"
        width, keys, values = (
            channels[generator.attention_block],
            generator.attention.key_channels,
            generator.attention.value_channels,
        )
        shapes[f"{attention}.gamma"] = (1,)
        spectral(f"{attention}.theta", (keys, width, 1, 1))
        spectral(f"{attention}.phi", (keys, width, 1, 1))
        spectral(f"{attention}.g", (values, width, 1, 1))
        spectral(f"{attention}.o_conv", (width, values, 1, 1))
    shapes["output_layer_bn.weight"] = (channels[-1],)
    shapes["output_layer_bn.bias"] = (channels[-1],)
    accumulators("output_layer_bn", channels[-1])
    spectral("output_layer_conv", (3, channels[-1], 3, 3), bias=True)
    return shapes, optional


def _infer_size(state_dict: Mapping[str, Tensor], source: str) -> dict:
    """BigGANConfig fields read off the shapes of a HighCWu-layout state dict."""
    block_indices = sorted(
        int(m.group(1))
        for k in state_dict
        if (m := re.fullmatch(r"blocks\.(\d+)\.conv0\.weight", k))
    )
    attention = [
        int(m.group(1))
        for k in state_dict
        if (m := re.fullmatch(r"blocks\.(\d+)\.attention\.theta\.weight", k))
    ]
    try:
        embed = state_dict["embed_y.weight"]
        noise_fc = state_dict["noise_fc.weight"]
        last_conv = state_dict[f"blocks.{block_indices[-1]}.conv1.weight"]
    except (KeyError, IndexError) as exc:
        raise CheckpointMismatchError(
            f"{source}: no {exc} tensor, so it is not a complete {ARCHITECTURE} state dict"
        ) from exc
    if embed.dim() != 2 or noise_fc.dim() != 2 or last_conv.dim() != 4 or len(attention) > 1:
        raise CheckpointMismatchError(f"{source}: tensor ranks do not match {ARCHITECTURE}")
    num_blocks = len(block_indices)
    resolution = 4 * 2**num_blocks
    if block_indices != list(range(num_blocks)) or resolution not in CHANNEL_MULTIPLIERS:
        raise CheckpointMismatchError(
            f"{source}: has generator blocks {block_indices}; {ARCHITECTURE} has one block per "
            f"doubling from 4 px to {sorted(CHANNEL_MULTIPLIERS)} px"
        )
    return {
        "ch": last_conv.shape[0] // CHANNEL_MULTIPLIERS[resolution][-1],
        "resolution": resolution,
        "n_class": embed.shape[1],
        "chunk_size": noise_fc.shape[1],
        "embed_dim": embed.shape[0],
        "attention_block": attention[0] + 1 if attention else None,
    }


def _check_tensors(
    state_dict: Mapping[str, Tensor],
    generator: BigGANGenerator,
    source: str,
    rename: Callable[[str], str],
) -> None:
    """Raise CheckpointMismatchError listing missing, unexpected and mis-shaped tensors."""
    shapes, optional = highcwu_layout(generator)
    missing = [rename(k) for k in shapes if k not in state_dict]
    unexpected = [rename(k) for k in state_dict if k not in shapes and k not in optional]
    wrong = [
        f"{rename(k)} is {list(state_dict[k].shape)}, expected {list(shape)}"
        for k, shape in shapes.items()
        if k in state_dict and tuple(state_dict[k].shape) != shape
    ]
    problems = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
        if items:
            shown = "; ".join(items[:8]) + (
                f"; ... ({len(items)} in all)" if len(items) > 8 else ""
            )
            problems.append(f"{label}: {shown}")
    if problems:
        raise CheckpointMismatchError(
            f"{source} does not match the {ARCHITECTURE} generator of its size "
            f"(ch={generator.ch}, {generator.resolution} px, {generator.n_class} classes): "
            + " | ".join(problems)
            + ". Is it a checkpoint of another model, or damaged?"
        )


def _check_finite(
    state_dict: Mapping[str, Tensor],
    generator: BigGANGenerator,
    source: str,
    rename: Callable[[str], str],
) -> None:
    """Raise CorruptCheckpointError naming the first tensor with NaN or infinite values."""
    shapes, _ = highcwu_layout(generator)
    for key in shapes:
        if not bool(torch.isfinite(state_dict[key]).all()):
            raise CorruptCheckpointError(
                f"{source}: {rename(key)} holds NaN or infinite values; the file is damaged: "
                "download it again"
            )


def _standing_stats(state_dict: Mapping[str, Tensor], prefix: str) -> tuple[Tensor, Tensor, bool]:
    """(mean, var, filled) from the accumulated sums; identity stats when never filled."""
    counter = float(state_dict[f"{prefix}.accumulated_counter"].reshape(()))
    mean_sum = state_dict[f"{prefix}.accumulated_mean"].float()
    if counter < 1:  # compare_gan's initial 1e-12: training never accumulated statistics
        return torch.zeros_like(mean_sum), torch.ones_like(mean_sum), False
    var_sum = state_dict[f"{prefix}.accumulated_var"].float()
    return mean_sum / counter, var_sum / counter, True


def _converted(state_dict: Mapping[str, Tensor], generator: BigGANGenerator) -> dict[str, Tensor]:
    """`generator`'s state dict from a checked HighCWu-layout one (spectral norm folded)."""
    converted: dict[str, Tensor] = {}
    all_filled = True

    def take(target: str, source: str, spectral: bool = True) -> None:
        weight = state_dict[source]
        converted[target] = _spectral_normalised(weight) if spectral else weight.float()

    def statistics(target: str, source: str) -> None:
        nonlocal all_filled
        mean, var, filled = _standing_stats(state_dict, source)
        converted[f"{target}.mean"], converted[f"{target}.var"] = mean, var
        all_filled &= filled

    take("class_embedding.weight", "embed_y.weight", spectral=False)
    # HighCWu (like TF) reshapes the dense output as [4, 4, C] (NHWC): reorder rows to NCHW.
    width = generator.channels[0]
    fc_weight = _spectral_normalised(state_dict["noise_fc.weight"])
    converted["noise_fc.weight"] = (
        fc_weight.reshape(4, 4, width, -1).permute(2, 0, 1, 3).reshape(16 * width, -1)
    )
    converted["noise_fc.bias"] = (
        state_dict["noise_fc.module.bias"].float().reshape(4, 4, width).permute(2, 0, 1).flatten()
    )
    for index in range(generator.num_blocks):
        source, target = f"blocks.{index}", f"blocks.{index}"
        for number in (1, 2):
            norm = f"{source}.cond_norm{number}"
            statistics(f"{target}.norm{number}", f"{norm}.bn_in_cond")
            take(f"{target}.norm{number}.gamma.weight", f"{norm}.gamma_embed.weight")
            take(f"{target}.norm{number}.beta.weight", f"{norm}.beta_embed.weight")
        # Zero-insertion + 3x3 conv == stride-2 transposed conv with the kernel flipped.
        up_kernel = _spectral_normalised(state_dict[f"{source}.conv0.weight"])
        converted[f"{target}.up_conv.weight"] = up_kernel.flip(2, 3).transpose(0, 1).contiguous()
        take(f"{target}.up_conv.bias", f"{source}.conv0.module.bias", spectral=False)
        take(f"{target}.conv.weight", f"{source}.conv1.weight")
        take(f"{target}.conv.bias", f"{source}.conv1.module.bias", spectral=False)
        take(f"{target}.shortcut.weight", f"{source}.conv_sc.weight")
        take(f"{target}.shortcut.bias", f"{source}.conv_sc.module.bias", spectral=False)
    if generator.attention is not None:
        source = f"blocks.{generator.attention_block - 1}.attention"
        for ours, theirs in (("theta", "theta"), ("phi", "phi"), ("g", "g"), ("out", "o_conv")):
            take(f"attention.{ours}.weight", f"{source}.{theirs}.weight")
        converted["attention.sigma"] = state_dict[f"{source}.gamma"].float().reshape(())
    take("final_norm.weight", "output_layer_bn.weight", spectral=False)
    take("final_norm.bias", "output_layer_bn.bias", spectral=False)
    statistics("final_norm", "output_layer_bn")
    take("final_conv.weight", "output_layer_conv.weight")
    take("final_conv.bias", "output_layer_conv.module.bias", spectral=False)
    if not all_filled:
        warnings.warn(
            "the checkpoint holds no batch-norm statistics (its accumulators were never "
            "filled), so images will be wrong: call G.recompute_standing_stats() first",
            stacklevel=4,
        )
    return converted


def build_from_state_dict(
    state_dict: Mapping[str, Tensor],
    source: str = "state dict",
    rename: Callable[[str], str] = str,
) -> BigGANGenerator:
    """A `BigGANGenerator` from a state dict in HighCWu's `anime-biggan-pytorch` layout.

    The size (ch, resolution, classes, z chunk, attention block) is inferred from the
    shapes, then every tensor is checked. `source` names the input in error messages and
    `rename` maps a HighCWu key to the name the user knows (e.g. a TF variable).
    """
    if not isinstance(state_dict, Mapping) or not all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in state_dict.items()
    ):
        raise UnsupportedCheckpointError(
            f"{source} holds a {type(state_dict).__name__}, not a state dict of tensors"
        )
    if "embed_y.weight" not in state_dict or "noise_fc.weight" not in state_dict:
        shown = ", ".join(list(state_dict)[:5])
        raise UnsupportedCheckpointError(
            f"{source} is a state dict of another architecture (keys like {shown}); gan_kit "
            f"reads the {ARCHITECTURE} layout of HighCWu/anime-biggan-pytorch"
        )
    try:
        generator = BigGANGenerator(BigGANConfig(**_infer_size(state_dict, source)))
    except CheckpointMismatchError:
        raise
    except GanKitError as exc:  # a size that no BigGAN of this family has
        raise CheckpointMismatchError(f"{source}: {exc}") from exc
    _check_tensors(state_dict, generator, source, rename)
    _check_finite(state_dict, generator, source, rename)
    generator.load_state_dict(_converted(state_dict, generator))
    return generator


# --- HighCWu PyTorch file ----------------------------------------------------------------


def recognises_torch_file(path: Path) -> bool:
    """Whether `path` is a torch file (zip or legacy pickle) whose pickled keys name the
    HighCWu BigGAN layout. Only the key table is scanned; nothing is unpickled."""
    if not path.is_file():
        return False
    keys = torch_file_keys(path)
    return all(marker in keys for marker in _STATE_DICT_MARKERS)


def build_from_torch_file(path: Path) -> BigGANGenerator:
    """The generator stored in a HighCWu-layout `pytorch_model.bin` (safe tensor-only load)."""
    state_dict = read_torch_file(
        path, "save a plain state dict (torch.save(model.state_dict(), path))"
    )
    generator = build_from_state_dict(state_dict, source=str(path))
    generator.checkpoint_path = Path(path)
    return generator


# --- TF checkpoint -----------------------------------------------------------------------

_EMA_SUFFIX = "/ExponentialMovingAverage"


def _tf_dense(array: np.ndarray) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(array.T))


def _tf_conv(array: np.ndarray) -> Tensor:
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
            state_dict[key] = convert(bundle.read(name))
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
    generator = build_from_state_dict(state_dict, source=source, rename=lambda k: names.get(k, k))
    generator.checkpoint_path = prefix
    return generator
