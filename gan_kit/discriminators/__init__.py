"""Discriminators of the models gan_kit loads: model math only (loaders: gan_kit.loading)."""

from gan_kit.discriminators.stylegan2 import StyleGAN2Discriminator, StyleGAN2DiscriminatorConfig

__all__ = ["StyleGAN2Discriminator", "StyleGAN2DiscriminatorConfig"]
