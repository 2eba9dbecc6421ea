"""The model zoo and `gan_kit.load`: named pretrained models, their sources, downloads and
caches, on top of `gan_kit.loading` (files and formats)."""

from gan_kit.zoo.download import cache_dir, download_url, hf_hub_file, offline
from gan_kit.zoo.registry import MODELS, ModelEntry, Source, get_model, models
from gan_kit.zoo.resolve import convert, converted_cache_path, load, registry_entry
from gan_kit.zoo.standing_stats import StandingStatisticsCache

__all__ = [
    "MODELS",
    "ModelEntry",
    "Source",
    "StandingStatisticsCache",
    "cache_dir",
    "convert",
    "converted_cache_path",
    "download_url",
    "get_model",
    "hf_hub_file",
    "load",
    "models",
    "offline",
    "registry_entry",
]
