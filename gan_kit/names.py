"""The names users choose among (noise modes, interpolation methods and easings, demo
models) and the default psi, without torch, so that the command line builds its parser
and answers `--help` at once; the modules that implement them use these tuples."""

from __future__ import annotations

NOISE_MODES: tuple[str, ...] = ("const", "random", "none")
INTERPOLATION_METHODS: tuple[str, ...] = ("lerp", "slerp")
EASING_NAMES: tuple[str, ...] = ("linear", "ease-in", "ease-out", "ease-in-out")
DEMO_MODELS: tuple[str, ...] = ("demo-stylegan2", "demo-biggan")
DEFAULT_PSI = 0.7  # for models the registry does not know

# The class atlas (gan_kit.explore.atlas, `gan-kit atlas`): classes a page, its columns, and
# classes rendered a step.
ATLAS_PAGE_SIZE = 64
ATLAS_COLUMNS = 8
ATLAS_BATCH_SIZE = 8

# Directions (gan_kit.directions, `gan-kit directions`, `--edit`): the methods, and the
# strengths (standard deviations) of a direction strip's columns.
DIRECTION_METHODS: tuple[str, ...] = ("sefa", "ganspace")
DEFAULT_STRENGTHS: tuple[float, ...] = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
