"""Exploring a generator without caring which kind it is: seeds, truncation, named layer
slots, mixing, interpolation, rendering and grids; breeding (mutations, crossbreeds) and
the class atlas of a conditional model.

    import gan_kit
    ex = gan_kit.explorer("portraits.pkl")        # a path, zoo name, URL or loaded generator
    styles = ex.seed_styles([1, 2], psi=0.7)      # StyleGAN2: ws [2, 16, 512]
    ex.render_pil(ex.mix(styles[:1], styles[1:], "coarse"))[0]  # 1 with 2's coarse layers
    gan_kit.psi_sweep(ex, [1, 2], [0.5, 0.7, 1.0]).save_png("sweep.png")  # with its recipe
    frames = ex.interpolate(ex.latents([1, 2, 3]), 30, loop=True, easing="ease-in-out")
    gan_kit.save_animation(ex, frames, "loop.gif", fps=15)
"""

from __future__ import annotations

from gan_kit.explore.animation import AnimationPath, animation_clip, save_animation
from gan_kit.explore.atlas import ClassAtlas
from gan_kit.explore.base import Explorer, Latents
from gan_kit.explore.biggan import BigGANExplorer
from gan_kit.explore.breeding import (
    Genome,
    History,
    breeding_groups,
    crossbreed,
    express_genes,
    mutate,
)
from gan_kit.explore.critic import best_seeds, seed_scores
from gan_kit.explore.factory import explorer, model_reference
from gan_kit.explore.favourites import ImageState, load_favourite, render_state, save_favourite
from gan_kit.explore.genome_png import load_genome, save_genome
from gan_kit.explore.grids import Grid, mixing_matrix, psi_sweep, render_recipe, sample_grid
from gan_kit.explore.projection import Projection, ProjectionLoss, project
from gan_kit.explore.strips import direction_strip
from gan_kit.explore.stylegan2 import StyleGAN2Explorer
from gan_kit.generators.stylegan2 import NOISE_MODES, NoiseMode

__all__ = [
    "NOISE_MODES",
    "AnimationPath",
    "BigGANExplorer",
    "ClassAtlas",
    "Explorer",
    "Genome",
    "Grid",
    "History",
    "ImageState",
    "Latents",
    "NoiseMode",
    "Projection",
    "ProjectionLoss",
    "StyleGAN2Explorer",
    "animation_clip",
    "best_seeds",
    "breeding_groups",
    "crossbreed",
    "direction_strip",
    "explorer",
    "express_genes",
    "load_favourite",
    "load_genome",
    "mixing_matrix",
    "model_reference",
    "mutate",
    "project",
    "psi_sweep",
    "render_recipe",
    "render_state",
    "sample_grid",
    "save_animation",
    "save_favourite",
    "save_genome",
    "seed_scores",
]
