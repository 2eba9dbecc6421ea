"""Checkpoint files and formats: recognising a file's format from its contents, the safe
unpickler, and one reader (and where published that way, a writer) per format. Names,
URLs, downloads and caches are the zoo's (`gan_kit.zoo`, where `gan_kit.load` lives).
"""

from __future__ import annotations

from gan_kit.loading.formats import CHECKPOINT_FORMATS, CheckpointFormat
from gan_kit.loading.recognise import build_from_file, checkpoint_exists

__all__ = ["CHECKPOINT_FORMATS", "CheckpointFormat", "build_from_file", "checkpoint_exists"]
