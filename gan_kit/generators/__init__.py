"""The generator architectures (StyleGAN2, BigGAN run39) and their resampling ops."""
