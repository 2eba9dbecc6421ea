"""Latent codes: drawing them from seeds, reproducibly on any machine."""

from gan_kit.latents.seeds import z_from_seeds

__all__ = ["z_from_seeds"]
