"""The table of checkpoint formats `gan_kit.load` recognises, tried in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from gan_kit.loading import stylegan2_tf, tf_network_pickle


@dataclass(frozen=True)
class CheckpointFormat:
    """One on-disk format: how to recognise it cheaply and how to build its generator."""

    description: str
    recognises: Callable[[Path], bool]
    build: Callable[[Path], nn.Module]


CHECKPOINT_FORMATS: tuple[CheckpointFormat, ...] = (
    CheckpointFormat(
        "NVIDIA TF StyleGAN2 pickle (G, D, Gs)",
        tf_network_pickle.recognises,
        stylegan2_tf.build_generator,
    ),
)
