"""Latent codes: drawing them from seeds reproducibly on any machine, seed text,
truncation, named slots, class choices and interpolation paths."""

from gan_kit.latents.classes import ClassChoice, ClassSpec, format_class, parse_class
from gan_kit.latents.interpolation import interpolate, lerp, slerp
from gan_kit.latents.seeds import parse_seeds, truncated_normal_from_seeds, z_from_seeds
from gan_kit.latents.slots import SlotLayout
from gan_kit.latents.truncation import truncate

__all__ = [
    "ClassChoice",
    "ClassSpec",
    "SlotLayout",
    "format_class",
    "interpolate",
    "lerp",
    "parse_class",
    "parse_seeds",
    "slerp",
    "truncate",
    "truncated_normal_from_seeds",
    "z_from_seeds",
]
