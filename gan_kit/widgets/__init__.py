"""Interactive explorers for notebooks (ipywidgets 7.7.1 and 8, core widgets only), thin
over `gan_kit.explore`:

    from gan_kit.widgets import BreedingStudio, ClassAtlasWidget
    from gan_kit.widgets import ExplorerWidget, InterpolationStudio
    ExplorerWidget(gan_kit.explorer("tadne-512"))        # sliders, mixing, favourites
    InterpolationStudio(gan_kit.explorer("tadne-512"))   # keyframes, Play preview, GIF / MP4
    BreedingStudio(gan_kit.explorer("tadne-512"))        # children, crossbreeds, undo
    ClassAtlasWidget(gan_kit.explorer("demo-biggan"))    # every class at one seed

The state of every widget is plain data (`ImageState`, `AnimationPath`, from
`gan_kit.explore`) that renders and saves without ipywidgets. Every live view draws
through `Preview`: the page paces the frames, and nothing runs in a background thread
(Colab would never show its updates).
"""

from __future__ import annotations

from gan_kit.errors import MissingDependencyError
from gan_kit.explore.animation import AnimationPath
from gan_kit.explore.favourites import ImageState, load_favourite, render_state, save_favourite

try:
    import ipywidgets  # noqa: F401
except ImportError as error:
    raise MissingDependencyError(
        'the explorers need ipywidgets: pip install "gan_kit[notebooks]" '
        "(or pip install ipywidgets)"
    ) from error

from gan_kit.widgets.atlas import ClassAtlasWidget
from gan_kit.widgets.breeding import BreedingStudio
from gan_kit.widgets.explorer import ExplorerWidget
from gan_kit.widgets.preview import Job, Preview, jpeg_bytes
from gan_kit.widgets.studio import InterpolationStudio, offer_download

__all__ = [
    "AnimationPath",
    "BreedingStudio",
    "ClassAtlasWidget",
    "ExplorerWidget",
    "ImageState",
    "InterpolationStudio",
    "Job",
    "Preview",
    "jpeg_bytes",
    "load_favourite",
    "offer_download",
    "render_state",
    "save_favourite",
]
