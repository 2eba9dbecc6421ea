"""The cache of BigGAN standing statistics: one file per key under
`cache_dir()/standing_stats` (GAN_KIT_CACHE), for `G.recompute_standing_stats(cache=...)`.

The generator computes the statistics and names them (its weights' fingerprint and the
sampling settings); this cache only keeps them. A damaged file is recomputed, never fatal,
and a cache that cannot be written leaves the statistics in use, with a warning.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from gan_kit.errors import ExportError
from gan_kit.files import atomic_path, make_folder
from gan_kit.generators.biggan import StandingStats
from gan_kit.zoo.download import cache_dir


class StandingStatisticsCache:
    """Standing statistics kept as files in `folder` (default: `standing_stats` under the
    gan_kit cache, `GAN_KIT_CACHE`, read when used); a `StatisticsCache` for
    `BigGANGenerator.recompute_standing_stats`."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self._folder = folder

    @property
    def folder(self) -> Path:
        """Where the files are: the folder given, else `cache_dir()/standing_stats`."""
        if self._folder is not None:
            return Path(self._folder).expanduser()
        return cache_dir() / "standing_stats"

    def path(self, key: str) -> Path:
        """The file holding the statistics of `key`."""
        return self.folder / f"{key}.pt"

    def get(self, key: str) -> StandingStats | None:
        """The statistics kept for `key`, or None (never computed, or unreadable)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a damaged cache is recomputed, never fatal
            warnings.warn(f"ignoring unreadable standing statistics {path}: {exc}", stacklevel=3)
            return None
        if not isinstance(payload, dict) or payload.get("key") != key:
            return None
        return payload.get("stats")

    def __setitem__(self, key: str, stats: StandingStats) -> None:
        """Keep `stats` for `key` (atomically); a warning, not an error, where impossible."""
        path = self.path(key)
        try:
            make_folder(path.parent)
            with atomic_path(path, overwrite=True) as temporary:
                torch.save({"key": key, "stats": stats}, temporary)
        except (OSError, ExportError) as exc:
            warnings.warn(
                f"the standing statistics are in use but could not be cached at {path} "
                f"({exc}); set GAN_KIT_CACHE to a writable folder to keep them",
                stacklevel=3,
            )
