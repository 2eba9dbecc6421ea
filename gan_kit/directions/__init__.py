"""Semantic directions found without data or labels, and edits along them.

import gan_kit
ex = gan_kit.explorer("demo-stylegan2")
d = gan_kit.sefa(ex, slots="coarse", top=8)     # or gan_kit.ganspace(ex, ...)
styles = ex.edit(ex.seed_styles([0]), d, 0, 2.0)  # 2 standard deviations along d[0]
d = d.with_names({0: "hair colour"}); gan_kit.directions.save_names(d)
"""

from __future__ import annotations

from gan_kit.directions.cache import save_names
from gan_kit.directions.compute import ganspace, sefa
from gan_kit.directions.record import MAX_ABS_STRENGTH, Directions, Edit

__all__ = ["MAX_ABS_STRENGTH", "Directions", "Edit", "ganspace", "save_names", "sefa"]
