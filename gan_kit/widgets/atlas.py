"""`ClassAtlasWidget`: pages of thumbnails of every class of a BigGAN (`ClassAtlas`),
rendered in batches as a Job with a progress bar and cancel, cached per model; clicking a
thumbnail picks its class, and "classes like this one" orders the atlas by distance to
the picked class in the class-embedding space. Thin over `gan_kit.explore.atlas`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from gan_kit.explore import Explorer
from gan_kit.explore.atlas import BATCH_SIZE, COLUMNS, PAGE_SIZE, ClassAtlas
from gan_kit.explore.tiles import tile, tile_at
from gan_kit.latents.seeds import MAX_SEED
from gan_kit.widgets.controls import psi_slider
from gan_kit.widgets.preview import Job, Preview

MAX_SHEET_WIDTH = 768  # CSS pixels of a page


@dataclass(frozen=True)
class AtlasPage:
    """What the pane shows: `classes` of the atlas at `seed` and `psi`, with `rendered`
    thumbnails done (so the page is drawn again as the job fills it)."""

    seed: int
    psi: float
    classes: tuple[int, ...]
    rendered: int


class ClassAtlasWidget:
    """The class atlas of `explorer`'s conditional model; display it (or `.widget`).

    Args:
        explorer: a model with classes (`gan_kit.explorer("demo-biggan")`).
        seed: the seed every thumbnail is drawn at.
        psi: the truncation (default: the model's, `explorer.psi_default`).
        page_size: thumbnails on a page.
        columns: thumbnails across a page.
        on_pick: called with the class of a clicked thumbnail (e.g. to show it elsewhere).
        batch_size: classes rendered per step of the job (cancel is read between steps).
    """

    def __init__(
        self,
        explorer: Explorer,
        *,
        seed: int = 0,
        psi: float | None = None,
        page_size: int = PAGE_SIZE,
        columns: int = COLUMNS,
        on_pick: Callable[[int], None] | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.atlas = ClassAtlas(explorer, seed=seed, psi=psi)
        self.explorer = explorer
        self.page_size, self.columns, self.batch_size = page_size, columns, batch_size
        self.pages(page_size)  # checks page_size
        self.on_pick = on_pick or (lambda index: None)
        self.picked: int | None = None
        self.order: list[int] | None = None  # None: by class number
        self.seed = widgets.BoundedIntText(description="seed", min=0, max=MAX_SEED, value=seed)
        self.psi = psi_slider(explorer, psi)
        self.page = widgets.IntSlider(description="page", min=0, max=self.pages() - 1, value=0)
        self.render_button = widgets.Button(description="render atlas")
        self.render_button.on_click(lambda _: self.start_rendering())
        self.cancel_button = widgets.Button(description="cancel", disabled=True)
        self.cancel_button.on_click(lambda _: self.preview.cancel_job())
        self.progress = widgets.FloatProgress(min=0.0, max=1.0, value=0.0)
        self.like_button = widgets.Button(description="classes like this one", disabled=True)
        self.like_button.on_click(lambda _: self.order_like(self.picked))
        self.natural_button = widgets.Button(description="by number")
        self.natural_button.on_click(lambda _: self.order_like(None))
        self.picked_label = widgets.Label(value="click a thumbnail to pick its class")
        width = min(self.atlas.size * min(columns, page_size), MAX_SHEET_WIDTH)
        self.preview = Preview(
            self._render_page, self._describe, width, controls=[self.psi], on_click=self.click
        )
        self.seed.observe(lambda _: self._settings_changed(), "value")
        self.psi.observe(lambda _: self._settings_changed(), "value")
        self.page.observe(lambda _: self._show(), "value")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.seed, self.psi, self.page]),
                widgets.HBox([self.render_button, self.progress, self.cancel_button]),
                self.preview.widget,
                widgets.HBox([self.picked_label, self.like_button, self.natural_button]),
            ]
        )
        self._update_progress()
        self._show()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def pages(self, page_size: int | None = None) -> int:
        """How many pages the atlas has, of `page_size` classes (default: the widget's)."""
        return self.atlas.pages(page_size or self.page_size)

    def page_state(self) -> AtlasPage:
        """The page the controls describe."""
        classes = self.atlas.page_classes(self.page.value, self.order, self.page_size)
        return AtlasPage(
            self.atlas.seed, self.atlas.psi, tuple(classes), int(self.atlas.filled.sum())
        )

    def _render_page(self, page: AtlasPage) -> np.ndarray:
        return tile([self.atlas.thumbnails[index] for index in page.classes], self.columns)

    def _describe(self, page: AtlasPage) -> str:
        order = "by number" if self.order is None else f"nearest to class {self.order[0]}"
        done = f"{page.rendered} of {self.atlas.n_class} rendered"
        return f"classes {page.classes[0]}… ({len(page.classes)}) · {order} · {done}"

    def _show(self) -> None:
        self.preview.show(self.page_state())

    def _update_progress(self) -> None:
        self.progress.value = float(self.atlas.filled.mean())

    # --- rendering ------------------------------------------------------------------------

    def _settings_changed(self) -> None:
        """A new seed or psi: another atlas (from the cache where rendered before)."""
        self.preview.cancel_job()
        self.atlas = ClassAtlas(self.explorer, seed=self.seed.value, psi=round(self.psi.value, 4))
        self._update_progress()
        self._show()

    def start_rendering(self) -> None:
        """Render the missing thumbnails in batches, the progress bar following; paced by
        the page (cancel reads between batches), or at once without the live pane."""
        self.cancel_button.disabled = False

        def progressed(fraction: float) -> None:
            self.progress.value = fraction
            self._show()

        def ended(job: Job) -> None:
            self.cancel_button.disabled = True
            self._update_progress()
            if job.error is not None:
                self.preview.status.value = f"the atlas failed: {job.error}"
            else:
                self._show()

        self.preview.run(Job(self.atlas.render_steps(self.batch_size), progressed, ended))

    # --- picking --------------------------------------------------------------------------

    def click(self, x: float, y: float) -> None:
        """A click on the page at (x, y) (0 to 1 across and down) picks that class."""
        classes = self.page_state().classes
        index = tile_at(x, y, len(classes), self.columns)
        if index is not None:
            self.pick(classes[index])

    def pick(self, index: int) -> None:
        """Pick class `index`: shown, offered to "classes like this one", passed to
        `on_pick`."""
        self.atlas.similar(index)  # checks the class
        self.picked = index
        self.picked_label.value = f"class {index} picked"
        self.like_button.disabled = False
        self.on_pick(index)

    def order_like(self, index: int | None) -> None:
        """Order the atlas by closeness to class `index` (None: by class number), from
        page 0."""
        self.order = None if index is None else self.atlas.similar(index)
        if self.page.value:
            self.page.value = 0  # shows the page
        else:
            self._show()
