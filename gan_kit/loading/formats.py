"""The table of checkpoint formats `gan_kit.load` recognises, tried in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from gan_kit.loading import (
    ada_pickle,
    biggan_highcwu,
    biggan_tf,
    converted,
    rosinality,
    stylegan2_tf,
    tf_network_pickle,
)


@dataclass(frozen=True)
class CheckpointFormat:
    """One on-disk format: its `description` (for messages and `gan-kit models`), how it
    `recognises` a path cheaply and how to `build` the generator of one on the CPU. Files
    `checked_when_written` (gan_kit's own conversions) skip the check for NaN weights on
    load: the fast path of the cached load."""

    description: str
    recognises: Callable[[Path], bool]
    build: Callable[[Path], nn.Module]
    checked_when_written: bool = False


CHECKPOINT_FORMATS: tuple[CheckpointFormat, ...] = (
    CheckpointFormat(
        "NVIDIA TF StyleGAN2 pickle (G, D, Gs)",
        tf_network_pickle.recognises,
        stylegan2_tf.build_generator,
    ),
    CheckpointFormat(
        "anime BigGAN (run39) PyTorch state dict (HighCWu/anime-biggan-pytorch layout)",
        biggan_highcwu.recognises_torch_file,
        biggan_highcwu.build_from_torch_file,
    ),
    CheckpointFormat(
        "anime BigGAN (run39) TF checkpoint (folder, prefix or .index)",
        biggan_tf.recognises_tf_checkpoint,
        biggan_tf.build_from_tf_checkpoint,
    ),
    CheckpointFormat(
        "gan_kit converted file (safetensors + JSON config, from gan_kit.convert)",
        converted.recognises,
        converted.build,
        checked_when_written=True,
    ),
    CheckpointFormat(
        "rosinality stylegan2-pytorch StyleGAN2 checkpoint (.pt with 'g_ema', or its state dict)",
        rosinality.recognises,
        rosinality.build_generator,
    ),
    CheckpointFormat(
        "stylegan2-ada-pytorch network pickle (StyleGAN2 G_ema; its code is never run)",
        ada_pickle.recognises,
        ada_pickle.build_generator,
    ),
)
