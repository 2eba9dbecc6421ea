"""StyleGAN2 generators saved by rosinality's stylegan2-pytorch (`.pt`, e.g. TADNE's).

The file is a torch.save'd dict, read with `torch.load(weights_only=True)`: either
`{"g_ema": state_dict, "latent_avg": [w_dim], ...}` as its `convert_weight.py` and training
script write, or the bare generator state dict. Its weights are raw: the equalized-lr
gains (1/sqrt(fan_in), and the mapping's lr_mul, which the file does not store: 0.01, the
default of that code, is assumed) are applied at run time; the style bias already holds
the +1. Its upsampling convs keep the kernel spatially flipped (ready for its transposed
convolution); gan_kit keeps TF's orientation, so they are flipped back. Sizes (z = w
dims, mapping depth, channels per resolution) come from the tensor shapes.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from gan_kit.errors import CheckpointMismatchError, UnsupportedCheckpointError
from gan_kit.generators.resample import make_filter
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from gan_kit.loading.limits import check_fits, shown, stylegan2_weights
from gan_kit.loading.reading import read_torch_file, torch_file_keys

MAPPING_LR_MUL = 0.01
_MARKERS = (b"conv1.conv.modulation.weight", b"to_rgb1.conv.weight")
_RESAMPLE_TAPS = (1.0, 3.0, 3.0, 1.0)


def recognises(path: Path) -> bool:
    """Whether `path` is a torch file whose keys name rosinality's StyleGAN2 generator."""
    if not path.is_file():
        return False
    keys = torch_file_keys(path)
    return all(marker in keys for marker in _MARKERS)


def _config_from_shapes(state: Mapping[str, Tensor]) -> StyleGAN2Config:
    mapping = sorted(int(m[1]) for k in state if (m := re.fullmatch(r"style\.(\d+)\.weight", k)))
    to_rgbs = sorted(int(m[1]) for k in state if (m := re.fullmatch(r"to_rgbs\.(\d+)\.bias", k)))
    if mapping != list(range(1, len(mapping) + 1)) or to_rgbs != list(range(len(to_rgbs))):
        raise CheckpointMismatchError(
            "the state dict lacks rosinality's style.1..N / to_rgbs.0..N layers: it is not a "
            "StyleGAN2 generator in that layout"
        )
    channels = [state["conv1.conv.weight"].shape[1]]
    channels += [state[f"convs.{2 * k + 1}.conv.weight"].shape[1] for k in to_rgbs]
    first = state["style.1.weight"]
    return StyleGAN2Config(
        resolution=4 * 2 ** len(to_rgbs),
        z_dim=int(first.shape[1]),
        w_dim=int(state[f"style.{mapping[-1]}.weight"].shape[0]),
        mapping_layers=len(mapping),
        channels=tuple(int(c) for c in channels),
        img_channels=int(state["to_rgb1.conv.weight"].shape[1]),
        resample_filter=_RESAMPLE_TAPS,
        normalize_z=True,
    )


def _check_latent_avg(latent_avg: object, w_dim: int, source: str) -> None:
    """`latent_avg`, when stored, must be the average w: a tensor of `w_dim` numbers."""
    if latent_avg is None or (isinstance(latent_avg, Tensor) and latent_avg.numel() == w_dim):
        return
    found = (
        f"a tensor of shape {list(latent_avg.shape)}"
        if isinstance(latent_avg, Tensor)
        else f"a {type(latent_avg).__name__}"
    )
    raise CheckpointMismatchError(
        f"{source}: its latent_avg is {found}, not the average w of {w_dim} numbers; the "
        "checkpoint is damaged or of another generator"
    )


def _check_blur_kernels(state: Mapping[str, Tensor]) -> None:
    """rosinality stores its FIR kernels; gan_kit implements outer([1,3,3,1]) only."""
    taps = make_filter(_RESAMPLE_TAPS)
    expected = torch.outer(taps, taps)
    for name, kernel in state.items():
        if name.endswith((".blur.kernel", ".upsample.kernel")):
            normalised = kernel.float() / kernel.float().sum()
            if normalised.shape != expected.shape or not torch.allclose(normalised, expected):
                raise UnsupportedCheckpointError(
                    f"{name} is not the [1,3,3,1] FIR filter gan_kit implements"
                )


def _modulated(
    state: Mapping[str, Tensor], source: str, target: str, w_dim: int, *, flipped: bool = False
) -> dict[str, Tensor]:
    weight = state[f"{source}.conv.weight"][0]
    if flipped:
        weight = weight.flip(2, 3)
    return {
        f"{target}.weight": weight / math.sqrt(math.prod(weight.shape[1:])),
        f"{target}.affine.weight": state[f"{source}.conv.modulation.weight"] / math.sqrt(w_dim),
        f"{target}.affine.bias": state[f"{source}.conv.modulation.bias"],
    }


def _styled(
    state: Mapping[str, Tensor], source: str, target: str, noise: str, w_dim: int, flipped: bool
) -> dict[str, Tensor]:
    return {
        **_modulated(state, source, target, w_dim, flipped=flipped),
        f"{target}.bias": state[f"{source}.activate.bias"],
        f"{target}.noise_strength": state[f"{source}.noise.weight"].reshape(()),
        f"{target}.noise_const": state[f"noises.{noise}"],
    }


def _to_rgb(state: Mapping[str, Tensor], source: str, target: str, w_dim: int) -> dict:
    return {
        **_modulated(state, source, target, w_dim),
        f"{target}.bias": state[f"{source}.bias"].reshape(-1),
    }


def convert_state_dict(
    state: Mapping[str, Tensor], latent_avg: Tensor | None, config: StyleGAN2Config
) -> dict[str, Tensor]:
    """rosinality's raw generator state dict -> gan_kit's (gains folded, TF orientation)."""
    w_dim = config.w_dim
    ours: dict[str, Tensor] = {
        "mapping.w_avg": torch.zeros(w_dim) if latent_avg is None else latent_avg.reshape(-1),
        "synthesis.blocks.0.const": state["input.input"][0],
        **_styled(state, "conv1", "synthesis.blocks.0.conv1", "noise_0", w_dim, False),
        **_to_rgb(state, "to_rgb1", "synthesis.blocks.0.to_rgb", w_dim),
    }
    for i, fan_in in enumerate(config.mapping_features[:-1]):
        gain = MAPPING_LR_MUL / math.sqrt(fan_in)
        ours[f"mapping.layers.{i}.weight"] = state[f"style.{i + 1}.weight"] * gain
        ours[f"mapping.layers.{i}.bias"] = state[f"style.{i + 1}.bias"] * MAPPING_LR_MUL
    for k in range(1, len(config.channels)):
        block = f"synthesis.blocks.{k}"
        up, same = 2 * (k - 1), 2 * (k - 1) + 1
        ours |= _styled(state, f"convs.{up}", f"{block}.conv0", f"noise_{2 * k - 1}", w_dim, True)
        ours |= _styled(state, f"convs.{same}", f"{block}.conv1", f"noise_{2 * k}", w_dim, False)
        ours |= _to_rgb(state, f"to_rgbs.{k - 1}", f"{block}.to_rgb", w_dim)
    return {name: tensor.float().contiguous() for name, tensor in ours.items()}


def generator_from_state_dict(
    state: Mapping[str, Tensor], latent_avg: Tensor | None = None, source: str = "state dict"
) -> StyleGAN2Generator:
    """A `StyleGAN2Generator` from rosinality's generator state dict (sizes from shapes)."""
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, Tensor):
            raise CheckpointMismatchError(
                f"{source} holds the entry {shown(key)} ({type(value).__name__}), but a generator "
                "state dict maps tensor names to tensors: the checkpoint is damaged or of "
                "another kind"
            )
    try:
        config = _config_from_shapes(state)
        check_fits(
            stylegan2_weights(config, source), sum(t.numel() for t in state.values()), source
        )
        _check_latent_avg(latent_avg, config.w_dim, source)
        _check_blur_kernels(state)
        generator = StyleGAN2Generator(config)
        recording = _RecordingDict(state)
        ours = convert_state_dict(recording, latent_avg, config)
    except (
        KeyError,
        IndexError,
        ValueError,
        TypeError,
        RuntimeError,
        ZeroDivisionError,
        OverflowError,
    ) as exc:
        raise CheckpointMismatchError(
            f"{source} is not a well-formed rosinality StyleGAN2 generator "
            f"({type(exc).__name__}: {shown(str(exc), 200)}): is it damaged, or of another "
            "architecture?"
        ) from exc
    expected = generator.state_dict()
    unread = {k for k in state if not k.endswith((".blur.kernel", ".upsample.kernel"))}
    problems = [f"unexpected {k}" for k in sorted(unread - recording.read)]
    problems += [
        f"{name} has shape {tuple(tensor.shape)}, expected {tuple(expected[name].shape)}"
        for name, tensor in ours.items()
        if tensor.shape != expected[name].shape
    ]
    if problems:
        raise CheckpointMismatchError(
            f"{source} does not match rosinality's StyleGAN2 generator: " + "; ".join(problems[:8])
        )
    generator.load_state_dict(ours)
    return generator


class _RecordingDict(Mapping):
    """A read-only view of a state dict that remembers which keys were read."""

    def __init__(self, state: Mapping[str, Tensor]):
        self._state = state
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Tensor:
        value = self._state[key]
        self.read.add(key)
        return value

    def __iter__(self):
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)


def build_generator(path: Path) -> StyleGAN2Generator:
    """Read a rosinality `.pt` safely and build its `g_ema` generator (or the bare dict's)."""
    checkpoint = read_torch_file(path, "save the generator's state dict alone")
    if not isinstance(checkpoint, Mapping):
        raise UnsupportedCheckpointError(
            f"{path} holds a {type(checkpoint).__name__}, not rosinality's checkpoint dict"
        )
    state = checkpoint.get("g_ema", checkpoint)
    latent_avg = checkpoint.get("latent_avg") if "g_ema" in checkpoint else None
    if not isinstance(state, Mapping):
        raise UnsupportedCheckpointError(f"{path}: its 'g_ema' entry is not a state dict")
    if latent_avg is None:
        warnings.warn(
            f"{path} has no latent_avg: truncation (psi != 1) pulls toward zero instead of "
            "the average w; estimate w_avg from mapped samples for better results",
            stacklevel=3,
        )
    return generator_from_state_dict(state, latent_avg, source=str(path))
