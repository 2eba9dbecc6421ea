"""The model zoo: named pretrained models, their sources, downloads and caches."""

from gan_kit.zoo.download import cache_dir, download_url, hf_hub_file, offline
from gan_kit.zoo.registry import MODELS, ModelEntry, Source, get_model, models
from gan_kit.zoo.resolve import convert, converted_cache_path

__all__ = [
    "MODELS",
    "ModelEntry",
    "Source",
    "cache_dir",
    "convert",
    "converted_cache_path",
    "download_url",
    "get_model",
    "hf_hub_file",
    "models",
    "offline",
]
