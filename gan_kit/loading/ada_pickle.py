"""stylegan2-ada-pytorch network pickles (`network-snapshot-*.pkl`), read without their code.

Such a pickle is a dict (`G`, `D`, `G_ema`, `augment_pipe`, ...) whose networks are
`torch_utils.persistence._reconstruct_persistent_obj(meta)` calls: `meta` carries the
Python source of the network module (which the real loader `exec`s), the class name, and
the module's `__dict__` (`_parameters`, `_buffers`, `_modules`, plain attributes). Here
that function only records the class name and the state, the source is never run, and
each tensor's storage (`torch.storage._load_from_bytes`, which calls an unrestricted
`torch.load`) is rebuilt with `torch.load(weights_only=True)`. Only the globals listed in
`_ALLOWED` are accepted. `G_ema` is then mapped to gan_kit's StyleGAN2 state dict.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gan_kit.errors import (
    CheckpointMismatchError,
    CorruptCheckpointError,
    UnsupportedCheckpointError,
)
from gan_kit.files import read_head
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from gan_kit.loading.limits import (
    STYLEGAN2_LIMITS,
    ElementBudget,
    check_fits,
    checked_size,
    shown,
    stylegan2_weights,
)
from gan_kit.loading.reading import reading_checkpoint
from gan_kit.loading.safe_pickle import NUMPY_GLOBALS, plain_set, restricted_load
from gan_kit.loading.torch_files import STATE_SETTERS, TensorBuilder, read_legacy

PERSISTENCE_MODULE, RECONSTRUCT = "torch_utils.persistence", "_reconstruct_persistent_obj"
_HEAD_BYTES = 4096
_DEFAULT_TAPS = (1.0, 3.0, 3.0, 1.0)


@dataclass
class PersistentObject:
    """One pickled persistent network: its class name and its `__dict__`, as plain data."""

    class_name: str
    state: dict[str, Any]

    def module(self, name: str) -> PersistentObject:
        modules = self.state.get("_modules") or {}
        child = modules.get(name)
        if not isinstance(child, PersistentObject):
            raise CheckpointMismatchError(
                f"the {self.class_name} network has no {name!r} sub-network (it has "
                f"{shown(sorted(map(str, modules)))}): not a stylegan2-ada-pytorch StyleGAN2 "
                "generator"
            )
        return child

    def tensor(self, name: str) -> Tensor:
        for table in ("_parameters", "_buffers"):
            value = (self.state.get(table) or {}).get(name)
            if isinstance(value, Tensor):
                return value.detach().float()
        raise CheckpointMismatchError(f"the {self.class_name} network has no tensor {name!r}")


def _reconstruct(meta: Any) -> PersistentObject:
    """Stands in for persistence's reconstructor: keeps the data, never runs module_src."""
    if not isinstance(meta, Mapping) or not isinstance(meta.get("state"), Mapping):
        raise UnsupportedCheckpointError(
            "a persistent object in the pickle lacks its state: not a stylegan2-ada-pytorch "
            "network pickle gan_kit understands"
        )
    if not all(isinstance(key, str) for key in meta["state"]):
        raise UnsupportedCheckpointError(
            "a persistent object in the pickle has non-text attributes"
        )
    return PersistentObject(shown(meta.get("class_name"), 80).strip("'"), dict(meta["state"]))


class _EasyDict(dict):
    """dnnlib's attribute dict, as a plain dict (the kwargs of training runs)."""


def _allowed(budget: ElementBudget) -> dict[tuple[str, str], Any]:
    """The allow-list of one ada pickle; its tensors count against `budget`."""
    tensors = TensorBuilder(budget)

    def storage_from_bytes(data: Any) -> Any:
        """A tensor storage saved by torch.save (legacy layout), read by gan_kit's checked
        reader (the original calls an unrestricted torch.load)."""
        if not isinstance(data, bytes):
            raise CorruptCheckpointError("a tensor storage in the pickle is not bytes")
        return read_legacy(
            io.BytesIO(data), "a tensor storage in the pickle", _STORAGE_REFUSAL, budget
        )

    return {
        **NUMPY_GLOBALS,
        (PERSISTENCE_MODULE, RECONSTRUCT): _reconstruct,
        ("torch.storage", "_load_from_bytes"): storage_from_bytes,
        ("torch._utils", "_rebuild_tensor_v2"): tensors.rebuild,
        ("torch._utils", "_rebuild_parameter"): tensors.parameter,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "set"): plain_set,
        ("dnnlib.util", "EasyDict"): _EasyDict,
    }


_STORAGE_REFUSAL = (
    "a tensor in the pickle carries Python objects besides its data, which gan_kit does "
    "not run; nothing from the file was executed"
)


def recognises(path: Path) -> bool:
    """True when `path` starts like a pickle of torch_utils persistent networks."""
    head = read_head(path, _HEAD_BYTES)
    return head[:1] == pickle.PROTO and PERSISTENCE_MODULE.encode() in head


def read_networks(path: Path, network: str = "G_ema") -> dict[str, Any]:
    """The pickle's top-level dict, networks as `PersistentObject`s; nothing is executed.
    `network` is the one it must hold (the generator's `G_ema`, or `D`)."""
    budget = ElementBudget(path.stat().st_size, str(path))
    with reading_checkpoint(path):  # the tensor storages are torch files inside the pickle
        data = restricted_load(path, _allowed(budget), stateful=STATE_SETTERS)
    if not isinstance(data, Mapping) or not isinstance(data.get(network), PersistentObject):
        raise UnsupportedCheckpointError(
            f"{path} is not a stylegan2-ada-pytorch network pickle (no {network!r} network): "
            "pass a network-snapshot-*.pkl"
        )
    return dict(data)


def _check_layer(layer: PersistentObject, where: str) -> None:
    activation = layer.state.get("activation", "lrelu")
    if activation not in ("lrelu", "linear"):
        raise UnsupportedCheckpointError(
            f"{where} uses activation {shown(activation)}; gan_kit builds StyleGAN2 with lrelu only"
        )


def _dense(layer: PersistentObject) -> tuple[Tensor, Tensor]:
    """A FullyConnectedLayer's final weight and bias (its gains applied)."""
    weight_gain = float(layer.state.get("weight_gain", 1.0))
    bias_gain = float(layer.state.get("bias_gain", 1.0))
    return layer.tensor("weight") * weight_gain, layer.tensor("bias") * bias_gain


def _modulated(layer: PersistentObject, target: str, *, flipped: bool) -> dict[str, Tensor]:
    weight = layer.tensor("weight")
    if flipped:  # ada keeps up-conv kernels flipped for its transposed conv; gan_kit keeps TF's
        weight = weight.flip(2, 3)
    if layer.class_name == "ToRGBLayer":  # its gain is applied to the styles at run time
        weight = weight * float(layer.state["weight_gain"])
    else:  # demodulated convs: ada applies no gain; fold TF's 1/sqrt(fan_in) as gan_kit does
        weight = weight / math.sqrt(math.prod(weight.shape[1:]))
    affine_weight, affine_bias = _dense(layer.module("affine"))
    out = {
        f"{target}.weight": weight,
        f"{target}.affine.weight": affine_weight,
        f"{target}.affine.bias": affine_bias,
        f"{target}.bias": layer.tensor("bias"),
    }
    if "noise_strength" in (layer.state.get("_parameters") or {}):
        out[f"{target}.noise_strength"] = layer.tensor("noise_strength").reshape(())
        noise = layer.tensor("noise_const")
        out[f"{target}.noise_const"] = noise.reshape(1, 1, *noise.shape[-2:])
    return out


def _resample_taps(block: PersistentObject) -> tuple[float, ...]:
    """The 1D taps of a block's separable 2D FIR filter (normalised, as gan_kit's config)."""
    kernel = block.tensor("resample_filter")
    taps = kernel.sum(dim=1) if kernel.ndim == 2 else kernel
    if kernel.ndim == 2 and not torch.allclose(torch.outer(taps, taps), kernel, atol=1e-6):
        raise UnsupportedCheckpointError("the resampling filter is not separable")
    taps = taps / taps.sum()
    default = torch.tensor(_DEFAULT_TAPS)
    if taps.shape == default.shape and torch.allclose(taps, default / default.sum()):
        return _DEFAULT_TAPS  # state it as NVIDIA's configs do
    return tuple(float(t) for t in taps)


def _held(network: PersistentObject) -> int:
    """How many numbers the tensors of `network` and its sub-networks hold."""
    held, pending, seen = 0, [network], set()
    while pending:
        part = pending.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        for table in ("_parameters", "_buffers"):
            values = part.state.get(table)
            if isinstance(values, Mapping):
                held += sum(v.numel() for v in values.values() if isinstance(v, Tensor))
        modules = part.state.get("_modules")
        if isinstance(modules, Mapping):
            pending += [m for m in modules.values() if isinstance(m, PersistentObject)]
    return held


def generator_from_ada(g_ema: PersistentObject) -> StyleGAN2Generator:
    """Build gan_kit's generator from the `G_ema` record of a stylegan2-ada-pytorch pickle."""
    state = g_ema.state
    if state.get("c_dim", 0) not in (0, None):
        raise UnsupportedCheckpointError(
            "this generator is class-conditional (c_dim > 0); gan_kit builds unconditional "
            "StyleGAN2 generators only"
        )
    mapping, synthesis = g_ema.module("mapping"), g_ema.module("synthesis")
    limits = STYLEGAN2_LIMITS
    resolution = checked_size(
        "G_ema", "img_resolution", state.get("img_resolution"), 4, limits["resolution"]
    )
    block_resolutions = [2**i for i in range(2, int(math.log2(resolution)) + 1)]
    blocks = [synthesis.module(f"b{r}") for r in block_resolutions]
    for block in blocks:
        if block.state.get("architecture", "skip") != "skip":
            raise UnsupportedCheckpointError(
                f"architecture {shown(block.state['architecture'])}: gan_kit builds 'skip' only"
            )
    clamps = {block.module("conv1").state.get("conv_clamp") for block in blocks} - {None}
    if clamps:
        warnings.warn(
            f"the generator clamps activations at ±{min(clamps)} (conv_clamp); gan_kit does "
            "not clamp, which changes only activations beyond that bound",
            stacklevel=3,
        )
    num_layers = checked_size(
        "G_ema", "num_layers", mapping.state.get("num_layers", 8), 1, limits["mapping_layers"]
    )
    dense = [_dense(mapping.module(f"fc{i}")) for i in range(num_layers)]
    widths = [int(weight.shape[0]) for weight, _ in dense]
    config = StyleGAN2Config(
        resolution=resolution,
        z_dim=checked_size("G_ema", "z_dim", state.get("z_dim"), 1, limits["latent"]),
        w_dim=checked_size("G_ema", "w_dim", state.get("w_dim"), 1, limits["latent"]),
        mapping_layers=num_layers,
        mapping_widths=tuple(widths[:-1]) if set(widths) != {widths[-1]} else (),
        channels=tuple(int(b.module("conv1").tensor("weight").shape[0]) for b in blocks),
        img_channels=checked_size("G_ema", "img_channels", state.get("img_channels", 3), 1, 4),
        resample_filter=_resample_taps(blocks[0].module("conv1")),
        normalize_z=True,
    )
    check_fits(stylegan2_weights(config, "G_ema"), _held(g_ema), "G_ema")
    ours: dict[str, Tensor] = {"mapping.w_avg": mapping.tensor("w_avg")}
    for i, (weight, bias) in enumerate(dense):
        _check_layer(mapping.module(f"fc{i}"), f"mapping.fc{i}")
        ours[f"mapping.layers.{i}.weight"], ours[f"mapping.layers.{i}.bias"] = weight, bias
    for k, block in enumerate(blocks):
        target = f"synthesis.blocks.{k}"
        if k == 0:
            ours[f"{target}.const"] = block.tensor("const")
        else:
            _check_layer(block.module("conv0"), f"b{block_resolutions[k]}.conv0")
            ours |= _modulated(block.module("conv0"), f"{target}.conv0", flipped=True)
        _check_layer(block.module("conv1"), f"b{block_resolutions[k]}.conv1")
        ours |= _modulated(block.module("conv1"), f"{target}.conv1", flipped=False)
        ours |= _modulated(block.module("torgb"), f"{target}.to_rgb", flipped=False)
    generator = StyleGAN2Generator(config)
    expected = generator.state_dict()
    problems = [
        f"{name}: shape {tuple(ours[name].shape)}, expected {tuple(tensor.shape)}"
        for name, tensor in expected.items()
        if name in ours and ours[name].shape != tensor.shape
    ] + [f"missing {name}" for name in expected if name not in ours]
    if problems:
        raise CheckpointMismatchError(
            "the G_ema tensors do not form a StyleGAN2 generator: " + "; ".join(problems[:8])
        )
    generator.load_state_dict({name: ours[name].contiguous() for name in expected})
    return generator


def build_generator(path: Path) -> StyleGAN2Generator:
    """Read a stylegan2-ada-pytorch pickle safely and build its `G_ema` generator."""
    g_ema = read_networks(path)["G_ema"]
    try:
        return generator_from_ada(g_ema)
    except (
        KeyError,
        TypeError,
        ValueError,
        IndexError,
        OverflowError,
        RuntimeError,
        AttributeError,
        ZeroDivisionError,
    ) as exc:
        raise CheckpointMismatchError(
            f"{path}: G_ema is not a StyleGAN2 generator gan_kit can build "
            f"({type(exc).__name__}: {shown(str(exc), 200)})"
        ) from exc
