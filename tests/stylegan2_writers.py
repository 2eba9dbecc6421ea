"""Test helpers: write StyleGAN2 checkpoints in other projects' layouts, from TF variables.

Each writer starts from the variables of an NVIDIA TF `Gs` network and lays them out as
that project's own converter does, independently of gan_kit's loaders, so that loading
the result and the TF pickle must give the same images.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from gan_kit.loading.tf_network_pickle import TFNetwork


def _t(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def rosinality_state_dict(gs: TFNetwork) -> dict[str, torch.Tensor]:
    """rosinality's `g_ema` state dict, as its convert_weight.py lays out the TF variables."""
    mapping = gs.components["mapping"].variables
    synthesis = gs.components["synthesis"].variables
    state: dict[str, torch.Tensor] = {}
    layers = sum(name.endswith("/weight") for name in mapping)
    for i in range(layers):
        state[f"style.{i + 1}.weight"] = _t(mapping[f"Dense{i}/weight"].T)
        state[f"style.{i + 1}.bias"] = _t(mapping[f"Dense{i}/bias"])

    def modulated(tf_name: str, name: str, flip: bool = False, to_rgb: bool = False) -> None:
        weight = _t(synthesis[f"{tf_name}/weight"].transpose(3, 2, 0, 1))[None]
        state[f"{name}.conv.weight"] = weight.flip(3, 4) if flip else weight
        state[f"{name}.conv.modulation.weight"] = _t(synthesis[f"{tf_name}/mod_weight"].T)
        state[f"{name}.conv.modulation.bias"] = _t(synthesis[f"{tf_name}/mod_bias"] + 1)
        if to_rgb:
            state[f"{name}.bias"] = _t(synthesis[f"{tf_name}/bias"].reshape(1, -1, 1, 1))
            return
        state[f"{name}.noise.weight"] = _t(synthesis[f"{tf_name}/noise_strength"].reshape(1))
        state[f"{name}.activate.bias"] = _t(synthesis[f"{tf_name}/bias"])

    blur = torch.tensor([1.0, 3.0, 3.0, 1.0])
    blur = torch.outer(blur, blur) / torch.outer(blur, blur).sum()
    state["input.input"] = _t(synthesis["4x4/Const/const"])
    modulated("4x4/Conv", "conv1")
    modulated("4x4/ToRGB", "to_rgb1", to_rgb=True)
    resolution = 8
    while f"{resolution}x{resolution}/ToRGB/weight" in synthesis:
        k = int(np.log2(resolution)) - 3
        modulated(f"{resolution}x{resolution}/Conv0_up", f"convs.{2 * k}", flip=True)
        state[f"convs.{2 * k}.conv.blur.kernel"] = blur * 4
        modulated(f"{resolution}x{resolution}/Conv1", f"convs.{2 * k + 1}")
        modulated(f"{resolution}x{resolution}/ToRGB", f"to_rgbs.{k}", to_rgb=True)
        state[f"to_rgbs.{k}.upsample.kernel"] = blur * 4
        resolution *= 2
    for j in range(2 * (int(np.log2(resolution)) - 2) - 1):
        state[f"noises.noise_{j}"] = _t(synthesis[f"noise{j}"])
    return state


def write_rosinality(path: Path, gs: TFNetwork, *, nested: bool = True) -> None:
    """torch.save the generator as rosinality's checkpoints hold it (or the bare state dict)."""
    state = rosinality_state_dict(gs)
    payload = {"g_ema": state, "latent_avg": _t(gs.variables["dlatent_avg"])} if nested else state
    torch.save(payload, path)


class _Persistent:
    """Pickles as stylegan2-ada-pytorch's persistent objects do: a reconstructor call on meta."""

    SOURCE = "raise SystemExit('the embedded network source must never run')\n"

    def __init__(
        self, class_name: str, attributes: dict, parameters=None, buffers=None, modules=None
    ):
        self.meta = {
            "type": "class",
            "version": 6,
            "module_src": self.SOURCE,
            "class_name": class_name,
            "state": {
                "training": False,
                "_parameters": OrderedDict(
                    (n, torch.nn.Parameter(t, requires_grad=False))
                    for n, t in (parameters or {}).items()
                ),
                "_buffers": OrderedDict(buffers or {}),
                "_non_persistent_buffers_set": set(),
                "_modules": OrderedDict(modules or {}),
                "_forward_hooks": OrderedDict(),
                "_init_args": (),
                "_init_kwargs": {},
                **attributes,
            },
        }


class _AdaPickler(pickle._Pickler):  # the Python pickler lets us name a foreign function
    def reducer_override(self, obj):
        if isinstance(obj, _Persistent):
            return _ReconstructStandIn, (obj.meta,)
        return NotImplemented

    def save_global(self, obj, name=None):
        if obj in _FOREIGN_NAMES:
            self.write(pickle.GLOBAL + _FOREIGN_NAMES[obj])
            self.memoize(obj)
        else:
            super().save_global(obj, name)


class _ReconstructStandIn:
    """Only its (foreign) name is pickled; a class, so that the pickler asks save_global."""


class EasyDictStandIn(dict):
    """Pickles under the name of dnnlib's EasyDict (the training kwargs in ada pickles)."""


_FOREIGN_NAMES = {
    _ReconstructStandIn: b"torch_utils.persistence\n_reconstruct_persistent_obj\n",
    EasyDictStandIn: b"dnnlib.util\nEasyDict\n",
}


def ada_generator(gs: TFNetwork, mapping_lrmul: float = 0.01) -> _Persistent:
    """`G_ema` as stylegan2-ada-pytorch's legacy.py converts a TF `Gs` (raw weights + gains)."""
    mapping = gs.components["mapping"].variables
    synthesis = gs.components["synthesis"].variables
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    blur = torch.outer(taps, taps) / torch.outer(taps, taps).sum()

    def dense(weight, bias, lr, activation):
        return _Persistent(
            "FullyConnectedLayer",
            {
                "activation": activation,
                "weight_gain": lr / np.sqrt(weight.shape[0]),
                "bias_gain": lr,
            },
            {"weight": _t(weight.T), "bias": _t(bias)},
        )

    def layer(tf_name, noise, up):
        weight = synthesis[f"{tf_name}/weight"]
        if up:
            weight = weight[::-1, ::-1]
        return _Persistent(
            "SynthesisLayer",
            {"activation": "lrelu", "conv_clamp": None, "use_noise": True, "up": 2 if up else 1},
            {
                "weight": _t(weight.transpose(3, 2, 0, 1)),
                "bias": _t(synthesis[f"{tf_name}/bias"]),
                "noise_strength": _t(synthesis[f"{tf_name}/noise_strength"]),
            },
            {"resample_filter": blur, "noise_const": _t(synthesis[noise][0, 0])},
            {"affine": affine(tf_name)},
        )

    def affine(tf_name):
        return dense(
            synthesis[f"{tf_name}/mod_weight"], synthesis[f"{tf_name}/mod_bias"] + 1, 1.0, "linear"
        )

    def torgb(tf_name):
        weight = synthesis[f"{tf_name}/weight"]
        return _Persistent(
            "ToRGBLayer",
            {"conv_clamp": None, "weight_gain": 1 / np.sqrt(weight.shape[2])},
            {"weight": _t(weight.transpose(3, 2, 0, 1)), "bias": _t(synthesis[f"{tf_name}/bias"])},
            modules={"affine": affine(tf_name)},
        )

    layers = sum(name.endswith("/weight") for name in mapping)
    fcs = {
        f"fc{i}": dense(
            mapping[f"Dense{i}/weight"], mapping[f"Dense{i}/bias"], mapping_lrmul, "lrelu"
        )
        for i in range(layers)
    }
    blocks, resolution = {}, 4
    while f"{resolution}x{resolution}/ToRGB/weight" in synthesis:
        r, j = resolution, 2 * int(np.log2(resolution)) - 5
        if r == 4:
            parts = {"conv1": layer("4x4/Conv", "noise0", False), "torgb": torgb("4x4/ToRGB")}
            parameters = {"const": _t(synthesis["4x4/Const/const"][0])}
        else:
            parts = {
                "conv0": layer(f"{r}x{r}/Conv0_up", f"noise{j}", True),
                "conv1": layer(f"{r}x{r}/Conv1", f"noise{j + 1}", False),
                "torgb": torgb(f"{r}x{r}/ToRGB"),
            }
            parameters = {}
        blocks[f"b{r}"] = _Persistent(
            "SynthesisBlock",
            {"architecture": "skip", "resolution": r},
            parameters,
            {"resample_filter": blur},
            parts,
        )
        resolution *= 2
    dims = {
        "z_dim": mapping["Dense0/weight"].shape[0],
        "w_dim": gs.variables["dlatent_avg"].shape[0],
    }
    return _Persistent(
        "Generator",
        {**dims, "c_dim": 0, "img_resolution": resolution // 2, "img_channels": 3},
        modules={
            "mapping": _Persistent(
                "MappingNetwork",
                {"num_layers": layers, **dims},
                buffers={"w_avg": _t(gs.variables["dlatent_avg"])},
                modules=fcs,
            ),
            "synthesis": _Persistent(
                "SynthesisNetwork", {"img_resolution": resolution // 2}, modules=blocks
            ),
        },
    )


def write_ada_pickle(path: Path, gs: TFNetwork, **extra) -> None:
    """Pickle `{G, D, G_ema, augment_pipe, training_set_kwargs}` as stylegan2-ada-pytorch does."""
    g_ema = ada_generator(gs)
    data = {
        "G": g_ema,
        "D": _Persistent("Discriminator", {"c_dim": 0}),
        "G_ema": g_ema,
        "augment_pipe": None,
        "training_set_kwargs": EasyDictStandIn(resolution=64, use_labels=False),
        **extra,
    }
    with Path(path).open("wb") as file:
        _AdaPickler(file, protocol=3).dump(data)
