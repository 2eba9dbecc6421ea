"""The `D` network of an NVIDIA TF StyleGAN2 pickle <-> `StyleGAN2Discriminator`.

NVIDIA's pickles are `(G, D, Gs)`; the generator loaders read `Gs`, this module reads
(and writes) `D`, the second element. Its variables are raw weights whose equalized-lr
gains (1/sqrt(fan_in), lr multiplier 1 in D) are applied at run time; here they are
folded in once, and unfolded when writing. One table of variable specs serves both
directions. Sizes come from the variables' shapes, settings from D's `static_kwargs`
over its build source's defaults (read, never run).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_kit.discriminators.stylegan2 import StyleGAN2Discriminator, StyleGAN2DiscriminatorConfig
from gan_kit.errors import CheckpointMismatchError, UnsupportedCheckpointError
from gan_kit.loading.tf_build_source import build_function_defaults
from gan_kit.loading.tf_network_pickle import TFNetwork, read_networks, write_networks
from gan_kit.values import is_whole_number

__all__ = [
    "attach_discriminator",
    "build_discriminator",
    "discriminator_from_tf",
    "tf_network_from_discriminator",
]

_DEFAULTS: dict[str, Any] = {
    "architecture": "resnet",
    "mbstd_group_size": 4,
    "mbstd_num_features": 1,
    "resample_kernel": [1, 3, 3, 1],
    "label_size": 0,
    "nonlinearity": "lrelu",
}
_REQUIRED = {"architecture": "resnet", "label_size": 0, "nonlinearity": "lrelu"}
# static_kwargs that only size the network (the shapes decide) or steer TF: ignored.
_IGNORED = frozenset(
    {
        "num_channels",
        "resolution",
        "fmap_base",
        "fmap_decay",
        "fmap_min",
        "fmap_max",
        "dtype",
        "is_training",
        "is_validation",
        "is_template_graph",
    }
)


@dataclass(frozen=True)
class _Spec:
    tf_name: str
    name: str
    to_torch: Callable[[np.ndarray], np.ndarray]
    to_tf: Callable[[np.ndarray], np.ndarray]


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def _conv(tf_scope: str, name: str, bias: bool = True) -> list[_Spec]:
    """TF conv weight [k, k, in, out] -> [out, in, k, k], 1/sqrt(k*k*in) folded."""
    specs = [
        _Spec(
            f"{tf_scope}/weight",
            f"{name}.weight",
            lambda w: w.transpose(3, 2, 0, 1) / math.sqrt(math.prod(w.shape[:3])),
            lambda w: w.transpose(2, 3, 1, 0) * math.sqrt(math.prod(w.shape[1:])),
        )
    ]
    if bias:
        specs.append(_Spec(f"{tf_scope}/bias", f"{name}.bias", _identity, _identity))
    return specs


def _dense(tf_scope: str, name: str) -> list[_Spec]:
    return [
        _Spec(
            f"{tf_scope}/weight",
            f"{name}.weight",
            lambda w: w.T / math.sqrt(w.shape[0]),
            lambda w: w.T * math.sqrt(w.shape[1]),
        ),
        _Spec(f"{tf_scope}/bias", f"{name}.bias", _identity, _identity),
    ]


def _variable_specs(config: StyleGAN2DiscriminatorConfig) -> list[_Spec]:
    top = config.resolution
    specs = _conv(f"{top}x{top}/FromRGB", "from_rgb")
    for k in range(len(config.channels) - 1):
        res = top >> k
        scope, name = f"{res}x{res}", f"blocks.{k}"
        specs += _conv(f"{scope}/Conv0", f"{name}.conv0")
        specs += _conv(f"{scope}/Conv1_down", f"{name}.conv1")
        specs += _conv(f"{scope}/Skip", f"{name}.skip", bias=False)
    specs += _conv("4x4/Conv", "conv")
    specs += _dense("4x4/Dense0", "dense")
    specs += _dense("Output", "output")
    return specs


def _settings(network: TFNetwork) -> dict[str, Any]:
    settings = dict(_DEFAULTS)
    defaults = build_function_defaults(network.build_module_src, network.build_func_name)
    settings.update({k: v for k, v in defaults.items() if k in _DEFAULTS})
    unknown = sorted(set(network.static_kwargs) - _IGNORED - set(_DEFAULTS))
    if unknown:
        raise UnsupportedCheckpointError(
            f"the discriminator's static_kwargs include {unknown}, which gan_kit does not know: "
            "it is not a StyleGAN2 discriminator gan_kit can reproduce faithfully"
        )
    settings.update(network.static_kwargs)
    for key, value in _REQUIRED.items():
        if settings[key] != value:
            raise UnsupportedCheckpointError(
                f"the discriminator has {key}={settings[key]!r}; gan_kit builds StyleGAN2 "
                f"discriminators with {key}={value!r} only"
            )
    for key in ("mbstd_group_size", "mbstd_num_features"):
        if not is_whole_number(settings[key]) or not 0 <= settings[key] <= 64:
            raise UnsupportedCheckpointError(
                f"the discriminator's {key}={settings[key]!r} is not a whole number in 0..64"
            )
    kernel = settings["resample_kernel"]
    if not isinstance(kernel, (list, tuple)) or not 0 < len(kernel) <= 16:
        raise UnsupportedCheckpointError(
            f"the discriminator's resample_kernel={kernel!r} is not a list of up to 16 taps"
        )
    return settings


def _config(network: TFNetwork, settings: dict[str, Any]) -> StyleGAN2DiscriminatorConfig:
    variables = network.variables
    tops = [int(m[1]) for n in variables if (m := re.fullmatch(r"(\d+)x\1/FromRGB/weight", n))]
    if len(tops) != 1:
        raise CheckpointMismatchError(
            "the D network has no single RxR/FromRGB/weight variable: it is not a StyleGAN2 "
            "'resnet' discriminator (gan_kit reads that architecture only)"
        )
    top = tops[0]
    try:
        resolutions = [top >> k for k in range(int(math.log2(top)) - 1)][::-1]  # 4 px up
        channels = [int(variables["4x4/Conv/weight"].shape[3])]
        channels += [int(variables[f"{r}x{r}/Conv0/weight"].shape[3]) for r in resolutions[1:]]
        if settings["mbstd_group_size"] <= 1:
            settings["mbstd_num_features"] = 0
        return StyleGAN2DiscriminatorConfig(
            resolution=top,
            channels=tuple(channels),
            dense_width=int(variables["4x4/Dense0/weight"].shape[1]),
            img_channels=int(variables[f"{top}x{top}/FromRGB/weight"].shape[2]),
            mbstd_group_size=int(settings["mbstd_group_size"]),
            mbstd_num_features=int(settings["mbstd_num_features"]),
            resample_filter=tuple(float(t) for t in settings["resample_kernel"]),
        )
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        raise CheckpointMismatchError(
            f"the D variables do not form a StyleGAN2 discriminator ({type(exc).__name__}: {exc})"
        ) from exc


def discriminator_from_tf(network: TFNetwork) -> StyleGAN2Discriminator:
    """Build the discriminator of the `D` network of an NVIDIA TF pickle."""
    if not network.variables:
        raise UnsupportedCheckpointError(
            "the pickle's D network holds no variables (an inference-only export, such as "
            "gan_kit's own writer made before it kept D): use the training snapshot instead"
        )
    config = _config(network, _settings(network))
    discriminator = StyleGAN2Discriminator(config)
    expected = discriminator.state_dict()
    state, problems, used = {}, [], set()
    for spec in _variable_specs(config):
        array = network.variables.get(spec.tf_name)
        if array is None:
            problems.append(f"missing {spec.tf_name}")
            continue
        used.add(spec.tf_name)
        if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
            problems.append(f"{spec.tf_name} is not a float array")
            continue
        try:
            value = torch.from_numpy(np.array(spec.to_torch(array), dtype=np.float32, order="C"))
        except (ValueError, IndexError):
            value = None
        if value is None or value.shape != expected[spec.name].shape:
            problems.append(f"{spec.tf_name} has shape {tuple(array.shape)}, which does not fit")
            continue
        state[spec.name] = value
    problems += [f"unexpected {name}" for name in sorted(set(network.variables) - used)]
    if problems:
        raise CheckpointMismatchError(
            "the D variables do not match StyleGAN2's discriminator: " + "; ".join(problems[:8])
        )
    for name, tensor in state.items():
        if not bool(torch.isfinite(tensor).all()):
            raise CheckpointMismatchError(f"the D variable for {name} holds NaN or infinity")
    discriminator.load_state_dict(state)
    return discriminator


def tf_network_from_discriminator(discriminator: StyleGAN2Discriminator) -> TFNetwork:
    """The `D` record NVIDIA's TF code would pickle for `discriminator`."""
    config = discriminator.config
    kwargs: dict[str, Any] = {
        "num_channels": config.img_channels,
        "resolution": config.resolution,
        "label_size": 0,
        "mbstd_group_size": config.mbstd_group_size,
        "mbstd_num_features": config.mbstd_num_features,
    }
    if config.resample_filter != (1.0, 3.0, 3.0, 1.0):
        kwargs["resample_kernel"] = list(config.resample_filter)
    state = discriminator.state_dict()
    variables = {
        spec.tf_name: np.array(
            spec.to_tf(state[spec.name].detach().cpu().numpy().astype(np.float32)), order="C"
        )
        for spec in _variable_specs(config)
    }
    return TFNetwork(
        name="D",
        static_kwargs=kwargs,
        variables=variables,
        build_func_name="training.networks_stylegan2.D_stylegan2",
    )


def build_discriminator(path: Path) -> StyleGAN2Discriminator:
    """Read an NVIDIA TF pickle safely and build its `D` network."""
    _, d, _ = read_networks(path)
    return discriminator_from_tf(d)


def attach_discriminator(path: Path, discriminator: StyleGAN2Discriminator) -> None:
    """Rewrite the TF pickle at `path` with `discriminator` as its D; G and Gs unchanged."""
    g, _, gs = read_networks(path)
    write_networks(path, (g, tf_network_from_discriminator(discriminator), gs))
