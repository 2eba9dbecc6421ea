"""NVIDIA TF StyleGAN2 networks <-> `StyleGAN2Generator`.

The TF variables hold raw weights whose equalized-learning-rate gains are applied at run
time; here they are folded in once (and unfolded again when writing). One table of
variable specs serves both directions, so reading and writing cannot drift apart.

Sizes come from the variables' shapes. Settings come from `static_kwargs`, else from the
defaults in the pickled build source (read, never run), else NVIDIA's defaults. That also
reads StyleGAN2-ext pickles (This Anime Does Not Exist): square `resolution_h`/`_w`,
latent normalisation off in its source, and size kwargs that its source overrides, so
for those only the shapes count.
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

from gan_kit.errors import CheckpointMismatchError, UnsupportedCheckpointError
from gan_kit.generators.resample import make_filter
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from gan_kit.loading.limits import check_fits, shown, stylegan2_weights
from gan_kit.loading.tf_build_source import build_function_defaults
from gan_kit.loading.tf_network_pickle import TFNetwork, read_networks, write_networks
from gan_kit.values import is_finite_number, is_whole_number

# static_kwargs that only steer TF graph building or training: safe to ignore.
_RUNTIME_KWARGS = frozenset(
    {
        "truncation_psi",
        "truncation_cutoff",
        "truncation_psi_val",
        "truncation_cutoff_val",
        "style_mixing_prob",
        "dlatent_avg_beta",
        "structure",
        "is_training",
        "is_validation",
        "is_template_graph",
        "return_dlatents",
        "randomize_noise",
        "fused_modconv",
        "dtype",
        "components",
        "mapping_func",
        "synthesis_func",
        "fmap_base",
        "fmap_max",
        "fmap_min",
        "fmap_decay",
        "mapping_fmaps",
        "dlatent_broadcast",
        "label_fmaps",
        "w_avg_beta",
        "num_fp16_res",
    }
)
# static_kwargs that must hold these values for the architecture implemented here.
_REQUIRED_VALUES: dict[str, Any] = {
    "architecture": "skip",
    "nonlinearity": "lrelu",
    "mapping_nonlinearity": "lrelu",
    "label_size": 0,
    "use_noise": True,
    "conv_clamp": None,
}
# static_kwargs read for the configuration (checked against the variables' shapes).
_CONFIG_KWARGS = frozenset(
    {
        "resolution",
        "num_channels",
        "latent_size",
        "dlatent_size",
        "mapping_layers",
        "mapping_lrmul",
        "resample_kernel",
        "normalize_latents",
        "resolution_h",  # StyleGAN2-ext
        "resolution_w",
    }
)
# Settings read from the build source's defaults when no static_kwarg states them.
_SOURCE_SETTINGS = frozenset(
    {"normalize_latents", "mapping_lrmul", "resample_kernel", *_REQUIRED_VALUES}
)
_EXT_KWARGS = frozenset({"resolution_h", "resolution_w"})


_DEFAULT_MAPPING_LRMUL = 0.01
_DEFAULT_RESAMPLE_KERNEL = (1.0, 3.0, 3.0, 1.0)


@dataclass(frozen=True)
class _Spec:
    """One TF variable: where it lives, its name here, and the transform each way."""

    component: str  # "mapping", "synthesis", or "" for Gs itself
    tf_name: str
    name: str
    to_torch: Callable[[np.ndarray], np.ndarray]
    to_tf: Callable[[np.ndarray], np.ndarray]


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def _dense(name: str, tf_name: str, fan_in: int, lrmul: float, component: str) -> list[_Spec]:
    gain = lrmul / math.sqrt(fan_in)
    return [
        _Spec(
            component,
            f"{tf_name}/weight",
            f"{name}.weight",
            lambda w: w.T * gain,
            lambda w: w.T / gain,
        ),
        _Spec(
            component, f"{tf_name}/bias", f"{name}.bias", lambda b: b * lrmul, lambda b: b / lrmul
        ),
    ]


def _modulated(prefix: str, name: str, w_dim: int, noise: str | None) -> list[_Spec]:
    """A modulated conv: TF weight [k, k, in, out] -> [out, in, k, k], 1/sqrt(fan-in) folded."""
    style_gain = 1 / math.sqrt(w_dim)
    specs = [
        _Spec(
            "synthesis",
            f"{prefix}/weight",
            f"{name}.weight",
            lambda w: w.transpose(3, 2, 0, 1) / math.sqrt(math.prod(w.shape[:3])),
            lambda w: w.transpose(2, 3, 1, 0) * math.sqrt(math.prod(w.shape[1:])),
        ),
        _Spec(
            "synthesis",
            f"{prefix}/mod_weight",
            f"{name}.affine.weight",
            lambda w: w.T * style_gain,
            lambda w: w.T / style_gain,
        ),
        _Spec(
            "synthesis",
            f"{prefix}/mod_bias",
            f"{name}.affine.bias",
            lambda b: b + 1,
            lambda b: b - 1,
        ),
        _Spec("synthesis", f"{prefix}/bias", f"{name}.bias", _identity, _identity),
    ]
    if noise is not None:
        specs += [
            _Spec(
                "synthesis",
                f"{prefix}/noise_strength",
                f"{name}.noise_strength",
                _identity,
                _identity,
            ),
            _Spec("synthesis", noise, f"{name}.noise_const", _identity, _identity),
        ]
    return specs


def _variable_specs(config: StyleGAN2Config, mapping_lrmul: float) -> list[_Spec]:
    specs = [_Spec("", "dlatent_avg", "mapping.w_avg", _identity, _identity)]
    for i, fan_in in enumerate(config.mapping_features[:-1]):
        specs += _dense(f"mapping.layers.{i}", f"Dense{i}", fan_in, mapping_lrmul, "mapping")
    w_dim = config.w_dim
    for k in range(len(config.channels)):
        res = 2 ** (k + 2)
        block = f"synthesis.blocks.{k}"
        tf_block = f"{res}x{res}"
        if k == 0:
            specs.append(
                _Spec(
                    "synthesis",
                    "4x4/Const/const",
                    f"{block}.const",
                    lambda c: c[0],
                    lambda c: c[None],
                )
            )
            specs += _modulated("4x4/Conv", f"{block}.conv1", w_dim, "noise0")
        else:
            specs += _modulated(
                f"{tf_block}/Conv0_up", f"{block}.conv0", w_dim, f"noise{2 * k - 1}"
            )
            specs += _modulated(f"{tf_block}/Conv1", f"{block}.conv1", w_dim, f"noise{2 * k}")
        specs += _modulated(f"{tf_block}/ToRGB", f"{block}.to_rgb", w_dim, None)
    return specs


def _stated_kwargs(network: TFNetwork) -> list[dict[str, Any]]:
    """The static_kwargs of Gs's components and Gs, refusing unknown ones; Gs's come last."""
    parts = [*network.components.values(), network]
    for part in parts:
        unknown = sorted(
            set(part.static_kwargs) - _RUNTIME_KWARGS - _CONFIG_KWARGS - set(_REQUIRED_VALUES)
        )
        if unknown:
            raise UnsupportedCheckpointError(
                f"the network's static_kwargs include {unknown}, which gan_kit does not know: "
                "this is not a StyleGAN2 config-f generator it can reproduce faithfully"
            )
    return [dict(part.static_kwargs) for part in parts]


def _settings(network: TFNetwork, stated: list[dict[str, Any]]) -> dict[str, Any]:
    """Stated static_kwargs over the build source's defaults, checked against what is built."""
    settings: dict[str, Any] = {}
    from_source: set[str] = set()
    for part in [*network.components.values(), network]:
        defaults = build_function_defaults(part.build_module_src, part.build_func_name)
        chosen = {key: value for key, value in defaults.items() if key in _SOURCE_SETTINGS}
        settings.update(chosen)
        from_source.update(chosen)
    for kwargs in stated:
        settings.update(kwargs)
        from_source.difference_update(kwargs)
    for key, value in settings.items():
        origin = "the build source's default" if key in from_source else "static_kwargs"
        if key in _REQUIRED_VALUES and value != _REQUIRED_VALUES[key]:
            raise UnsupportedCheckpointError(
                f"{origin} {key}={shown(value)}: gan_kit builds StyleGAN2 generators "
                f"with {key}={_REQUIRED_VALUES[key]!r} only"
            )
        if key in _SETTING_CHECKS and not _SETTING_CHECKS[key][0](value):
            raise UnsupportedCheckpointError(
                f"{origin} {key}={shown(value)} is not {_SETTING_CHECKS[key][1]}: the pickle is "
                "not a StyleGAN2 generator gan_kit can build"
            )
    return settings


def _makes_filter(taps: list[float] | tuple[float, ...]) -> bool:
    """Whether `taps` normalise to a usable filter (a non-zero, finite sum)."""
    try:
        return bool(torch.isfinite(make_filter(taps)).all())
    except ValueError:  # a zero sum
        return False


# What the settings that shape the maths must look like: (test, description).
_SETTING_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "normalize_latents": (lambda v: isinstance(v, bool), "True or False"),
    "mapping_lrmul": (lambda v: is_finite_number(v) and v > 0, "a positive number"),
    "resample_kernel": (
        lambda v: (
            isinstance(v, (list, tuple))
            and 0 < len(v) <= 16
            and all(map(is_finite_number, v))
            and _makes_filter(v)
        ),
        "a list of up to 16 numbers with a non-zero sum",
    ),
    "resolution_h": (is_whole_number, "a whole number"),
    "resolution_w": (is_whole_number, "a whole number"),
}


def _component(network: TFNetwork, name: str) -> TFNetwork:
    try:
        return network.components[name]
    except KeyError:
        raise UnsupportedCheckpointError(
            f"the network {shown(network.name)} has no {name!r} component "
            f"(it has {shown(sorted(network.components))}): pass a StyleGAN2 generator pickle"
        ) from None


def _config_from_shapes(
    network: TFNetwork, stated: list[dict[str, Any]], settings: dict[str, Any]
) -> StyleGAN2Config:
    mapping = _component(network, "mapping").variables
    synthesis = _component(network, "synthesis").variables
    dense = sorted(int(m[1]) for n in mapping if (m := re.fullmatch(r"Dense(\d+)/weight", n)))
    resolutions = sorted(
        int(m[1]) for n in synthesis if (m := re.fullmatch(r"(\d+)x\1/ToRGB/weight", n))
    )
    if not dense or not resolutions or dense != list(range(len(dense))):
        raise CheckpointMismatchError(
            "the mapping or synthesis variables are not StyleGAN2's "
            "(expected Dense0..N/weight and RxR/ToRGB/weight): the checkpoint is of another kind"
        )
    last_conv = {r: "4x4/Conv" if r == 4 else f"{r}x{r}/Conv1" for r in resolutions}
    top = resolutions[-1]
    try:
        widths = [int(mapping[f"Dense{i}/weight"].shape[1]) for i in dense]
        config = StyleGAN2Config(
            resolution=top,
            z_dim=int(mapping["Dense0/weight"].shape[0]),
            w_dim=widths[-1],
            mapping_layers=len(dense),
            mapping_widths=tuple(widths[:-1]) if set(widths) != {widths[-1]} else (),
            channels=tuple(int(synthesis[f"{last_conv[r]}/weight"].shape[3]) for r in resolutions),
            img_channels=int(synthesis[f"{top}x{top}/ToRGB/weight"].shape[3]),
            resample_filter=tuple(
                float(tap) for tap in settings.get("resample_kernel", _DEFAULT_RESAMPLE_KERNEL)
            ),
            normalize_z=bool(settings.get("normalize_latents", True)),
        )
    except (KeyError, IndexError, ValueError, AttributeError, OverflowError, TypeError) as exc:
        raise CheckpointMismatchError(
            "the variables do not form a StyleGAN2 generator "
            f"({type(exc).__name__}: {shown(str(exc), 200)})"
        ) from exc
    _check_ext_resolution(settings, config.resolution)
    if _EXT_KWARGS & settings.keys():
        return config  # StyleGAN2-ext's source overrides its size kwargs: shapes decide
    sizes = {
        "resolution": config.resolution,
        "latent_size": config.z_dim,
        "dlatent_size": config.w_dim,
        "mapping_layers": config.mapping_layers,
        "num_channels": config.img_channels,
    }
    for kwargs in stated:
        for key, actual in sizes.items():
            if key in kwargs and kwargs[key] != actual:
                raise CheckpointMismatchError(
                    f"static_kwargs say {key}={kwargs[key]} but the variables' shapes give "
                    f"{actual}: the pickle is inconsistent"
                )
    return config


def _check_ext_resolution(settings: dict[str, Any], resolution: int) -> None:
    """StyleGAN2-ext's `resolution_h`/`resolution_w` must describe the square it builds."""
    height = settings.get("resolution_h", resolution)
    width = settings.get("resolution_w", resolution)
    if height != width:
        raise UnsupportedCheckpointError(
            f"static_kwargs resolution_h={height}, resolution_w={width}: a non-square "
            "StyleGAN2-ext generator, which gan_kit does not read (square ones only)"
        )
    if height != resolution:
        raise CheckpointMismatchError(
            f"static_kwargs say {height}x{width} but the variables' shapes give "
            f"{resolution}x{resolution}: the pickle is inconsistent"
        )


def generator_from_tf(network: TFNetwork) -> StyleGAN2Generator:
    """Build the generator from the `Gs` network of an NVIDIA TF pickle."""
    stated = _stated_kwargs(network)
    settings = _settings(network, stated)
    config = _config_from_shapes(network, stated, settings)
    held = sum(
        array.size
        for part in [network, *network.components.values()]
        for array in part.variables.values()
    )
    check_fits(stylegan2_weights(config, "Gs"), held, "Gs")
    generator = StyleGAN2Generator(config)
    expected = generator.state_dict()
    sources = {"": network.variables, **{n: c.variables for n, c in network.components.items()}}
    used: set[tuple[str, str]] = set()
    state, problems = {}, []
    mapping_lrmul = float(settings.get("mapping_lrmul", _DEFAULT_MAPPING_LRMUL))
    for spec in _variable_specs(config, mapping_lrmul):
        array = sources.get(spec.component, {}).get(spec.tf_name)
        where = f"{spec.component}/{spec.tf_name}".lstrip("/")
        if array is None:
            problems.append(f"missing {where}")
            continue
        used.add((spec.component, spec.tf_name))
        if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
            problems.append(f"{where} is not a float array")
            continue
        try:  # a variable of the wrong rank fails the transform itself
            value = torch.from_numpy(np.array(spec.to_torch(array), dtype=np.float32, order="C"))
        except (ValueError, IndexError):
            value = None
        if value is None or value.shape != expected[spec.name].shape:
            problems.append(
                f"{where} has shape {tuple(array.shape)}, which does not fit the "
                "shapes of the other variables"
            )
            continue
        state[spec.name] = value
    ignored = {("", "lod")}
    extra = sorted(
        f"{c}/{n}".lstrip("/")
        for c, names in sources.items()
        for n in names
        if (c, n) not in used and (c, n) not in ignored
    )
    problems += [f"unexpected {name}" for name in extra]
    if problems:
        shown = "; ".join(problems[:8]) + (
            f"; and {len(problems) - 8} more" if len(problems) > 8 else ""
        )
        raise CheckpointMismatchError(
            f"the StyleGAN2 variables do not match the architecture: {shown}"
        )
    generator.load_state_dict(state, strict=False)
    return generator


def tf_networks_from_generator(
    generator: StyleGAN2Generator,
    mapping_lrmul: float = _DEFAULT_MAPPING_LRMUL,
) -> tuple[TFNetwork, TFNetwork, TFNetwork]:
    """`(G, D, Gs)` records holding `generator` as NVIDIA's TF code would pickle it.

    G is a copy of Gs and D is empty: the files are for inference, as gan_kit reads them.
    """
    config = generator.config
    # Like NVIDIA's training configs, state the sizes and only the settings off their defaults.
    kwargs: dict[str, Any] = {
        "num_channels": config.img_channels,
        "resolution": config.resolution,
        "label_size": 0,
        "latent_size": config.z_dim,
        "dlatent_size": config.w_dim,
        "mapping_layers": config.mapping_layers,
    }
    if mapping_lrmul != _DEFAULT_MAPPING_LRMUL:
        kwargs["mapping_lrmul"] = mapping_lrmul
    if config.resample_filter != _DEFAULT_RESAMPLE_KERNEL:
        kwargs["resample_kernel"] = list(config.resample_filter)
    if not config.normalize_z:
        kwargs["normalize_latents"] = False
    variables: dict[str, dict[str, np.ndarray]] = {"": {}, "mapping": {}, "synthesis": {}}
    state = generator.state_dict()
    for spec in _variable_specs(config, mapping_lrmul):
        value = state[spec.name].detach().cpu().numpy().astype(np.float32)
        variables[spec.component][spec.tf_name] = np.array(spec.to_tf(value), order="C")
    variables[""]["lod"] = np.zeros((), np.float32)

    def network(name: str, build_func: str, own: dict, components: dict) -> TFNetwork:
        return TFNetwork(
            name=name,
            static_kwargs=dict(kwargs),
            variables=own,
            components=components,
            build_func_name=build_func,
        )

    def gs(name: str) -> TFNetwork:
        return network(
            name,
            "training.networks_stylegan2.G_main",
            dict(variables[""]),
            {
                "mapping": network(
                    "G_mapping",
                    "training.networks_stylegan2.G_mapping",
                    dict(variables["mapping"]),
                    {},
                ),
                "synthesis": network(
                    "G_synthesis",
                    "training.networks_stylegan2.G_synthesis_stylegan2",
                    dict(variables["synthesis"]),
                    {},
                ),
            },
        )

    discriminator = network("D", "training.networks_stylegan2.D_stylegan2", {}, {})
    return gs("G"), discriminator, gs("Gs")


def build_generator(path: Path) -> StyleGAN2Generator:
    """Read an NVIDIA TF pickle safely and build its `Gs` generator."""
    _, _, gs = read_networks(path)
    return generator_from_tf(gs)


def write_generator(
    path: Path, generator: StyleGAN2Generator, mapping_lrmul: float = _DEFAULT_MAPPING_LRMUL
) -> None:
    """Write `generator` as an NVIDIA TF `(G, D, Gs)` pickle."""
    write_networks(path, tf_networks_from_generator(generator, mapping_lrmul))
