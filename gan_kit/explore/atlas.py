"""The class atlas of a conditional model (the anime BigGAN's 1000 classes have no names):
a thumbnail of every class at one seed and truncation, in pages, and the classes nearest
to one class in the model's class-embedding space.

    import gan_kit
    from gan_kit.explore.atlas import ClassAtlas
    atlas = ClassAtlas(gan_kit.explorer("demo-biggan"), seed=0)
    atlas.render()                       # in batches; cached on disk per model
    atlas.page_grid(0).save_png("atlas.png")
    atlas.similar(3)                     # class 3, then the classes nearest to it

Thumbnails are rendered `batch_size` classes at a time (`render_steps` yields the
progress between batches, for a widget's Job) and kept in the gan_kit cache
(GAN_KIT_CACHE/atlas), one .npy file per model weights (`Explorer.fingerprint`), seed, psi and
thumbnail size, written atomically and read back without pickle, its header checked
before anything is read.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Generator
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_kit.errors import ExportError, InvalidInputError
from gan_kit.explore.base import Explorer
from gan_kit.explore.grids import Grid, _assemble, _check_size, _label
from gan_kit.files import atomic_path, make_folder
from gan_kit.latents.seeds import checked_seeds
from gan_kit.latents.truncation import checked_psi
from gan_kit.names import ATLAS_BATCH_SIZE, ATLAS_COLUMNS, ATLAS_PAGE_SIZE
from gan_kit.recipes import Recipe
from gan_kit.values import is_whole_number
from gan_kit.zoo.download import cache_dir

THUMBNAIL_SIZE = 64  # pixels: 1000 thumbnails take 12 MB
PAGE_SIZE = ATLAS_PAGE_SIZE  # classes per page
COLUMNS = ATLAS_COLUMNS
BATCH_SIZE = ATLAS_BATCH_SIZE  # classes rendered per step


class ClassAtlas:
    """Thumbnails of every class of `explorer`'s model at `seed` and truncation `psi`
    (default: the model's), `size` px (at most the model's resolution), cached under
    `cache` (a folder; default: GAN_KIT_CACHE/atlas; False: no disk cache)."""

    def __init__(
        self,
        explorer: Explorer,
        *,
        seed: int = 0,
        psi: float | None = None,
        size: int = THUMBNAIL_SIZE,
        cache: str | Path | bool = True,
    ) -> None:
        if not explorer.n_class:
            raise InvalidInputError(
                f"a class atlas needs a model conditioned on classes; this {explorer.kind} "
                "model has none"
            )
        if not is_whole_number(size) or size < 1:
            raise InvalidInputError(f"size must be a whole number of pixels >= 1, got {size!r}")
        self.explorer = explorer
        (self.seed,) = checked_seeds([seed])
        self.psi = explorer.psi_default if psi is None else checked_psi(psi)
        self.size = min(int(size), explorer.resolution)
        self._cache = cache
        self.thumbnails = np.zeros((explorer.n_class, self.size, self.size, 3), dtype=np.uint8)
        self.filled = np.zeros(explorer.n_class, dtype=bool)
        self._read_cache()

    @property
    def n_class(self) -> int:
        """How many classes the atlas shows."""
        return self.explorer.n_class

    @property
    def complete(self) -> bool:
        """Whether every class has its thumbnail."""
        return bool(self.filled.all())

    # --- the cache ------------------------------------------------------------------------

    @property
    def cache_path(self) -> Path | None:
        """The cache file of this model, seed, psi and size (None: no disk cache)."""
        if self._cache is False:
            return None
        folder = cache_dir() / "atlas" if self._cache is True else Path(self._cache).expanduser()
        name = f"{self.explorer.fingerprint}-seed{self.seed}-psi{self.psi:g}-{self.size}px"
        return folder / f"{name}.npy"

    def _read_cache(self) -> None:
        """Take the thumbnails from the cache file, if it is whole and of this shape; a
        damaged file is ignored (and rendered again), never trusted."""
        path = self.cache_path
        if path is None or not path.is_file():
            return
        try:
            stored = np.load(path, mmap_mode="r", allow_pickle=False)
            if stored.dtype != np.uint8 or stored.shape != self.thumbnails.shape:
                raise ValueError(f"it holds {stored.dtype} {list(stored.shape)}")
            self.thumbnails[:] = stored
        except (OSError, ValueError) as error:
            warnings.warn(f"ignoring the unreadable atlas cache {path}: {error}", stacklevel=3)
            return
        self.filled[:] = True

    def _write_cache(self) -> None:
        """Keep the complete atlas in the cache (atomically); a warning where impossible."""
        path = self.cache_path
        if path is None:
            return
        try:
            make_folder(path.parent)
            with atomic_path(path, overwrite=True) as temporary:
                np.save(temporary, self.thumbnails, allow_pickle=False)
        except (OSError, ExportError) as error:
            warnings.warn(
                f"the atlas could not be cached at {path} ({error}); set GAN_KIT_CACHE to a "
                "writable folder to keep it",
                stacklevel=3,
            )

    # --- rendering ------------------------------------------------------------------------

    def render_steps(self, batch_size: int = BATCH_SIZE) -> Generator[float, None, None]:
        """Render the classes that have no thumbnail yet, `batch_size` at a time, yielding
        the fraction done after each batch; the complete atlas goes to the cache."""
        if not is_whole_number(batch_size) or batch_size < 1:
            raise InvalidInputError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        return self._render_batches(int(batch_size))

    def _render_batches(self, batch_size: int) -> Generator[float, None, None]:
        missing = np.flatnonzero(~self.filled).tolist()
        for start in range(0, len(missing), batch_size):
            classes = missing[start : start + batch_size]
            styles = self.explorer.seed_styles(
                [self.seed] * len(classes), psi=self.psi, classes=classes
            )
            for index, image in zip(classes, self.explorer.render_uint8(styles), strict=True):
                self.thumbnails[index] = self._thumbnail(image)
                self.filled[index] = True
            yield float(self.filled.mean())
        if missing:
            self._write_cache()

    def render(self, batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Render every missing thumbnail now, `batch_size` classes at a time; returns
        `thumbnails` [n_class, S, S, 3]."""
        for _ in self.render_steps(batch_size):
            pass
        return self.thumbnails

    def _thumbnail(self, image: np.ndarray) -> np.ndarray:
        if image.shape[0] == self.size:
            return image
        small = Image.fromarray(image).resize((self.size, self.size), Image.Resampling.BOX)
        return np.asarray(small)

    # --- order and pages ------------------------------------------------------------------

    def similar(self, chosen: int) -> list[int]:
        """Every class, nearest first to class `chosen` (itself first) by the Euclidean
        distance between their embeddings (the model's class-embedding weights)."""
        self._check_class(chosen)
        embedding = self.explorer.generator.class_embedding.weight.detach().float().cpu().T
        distances = torch.linalg.vector_norm(embedding - embedding[chosen], dim=1)
        distances[chosen] = -1.0  # first, even if another class embeds at the same point
        return torch.argsort(distances, stable=True).tolist()

    def pages(self, page_size: int = PAGE_SIZE) -> int:
        """How many pages of `page_size` classes the atlas has."""
        return math.ceil(self.n_class / self._checked_page_size(page_size))

    def page_classes(
        self, page: int, order: list[int] | None = None, page_size: int = PAGE_SIZE
    ) -> list[int]:
        """The classes on page `page` (from 0) of `order` (default: 0, 1, 2...), pages of
        `page_size` classes."""
        count = self.pages(page_size)
        if not is_whole_number(page) or not 0 <= page < count:
            raise InvalidInputError(f"page must be from 0 to {count - 1}, got {page!r}")
        order = list(range(self.n_class)) if order is None else order
        return order[page * page_size : (page + 1) * page_size]

    def page_grid(
        self,
        page: int,
        order: list[int] | None = None,
        *,
        page_size: int = PAGE_SIZE,
        columns: int = COLUMNS,
    ) -> Grid:
        """Page `page` (of `page_size` classes) of `order` as a Grid captioned with the
        class numbers, `columns` wide (rendered first where thumbnails are missing). Its
        recipe renders the page again at the model's full resolution."""
        classes = self.page_classes(page, order, page_size)
        if not self.filled[classes].all():
            self.render()
        if not is_whole_number(columns) or columns < 1:
            raise InvalidInputError(f"columns must be a whole number >= 1, got {columns!r}")
        columns = min(columns, len(classes))
        shape = (math.ceil(len(classes) / columns), columns)
        captions = tuple(_label("class", index) for index in classes)
        _check_size(shape, self.size, ((), (), captions))
        recipe = Recipe(
            model=self.explorer.model,
            kind=self.explorer.kind,
            layout="grid",
            seeds=(self.seed,),
            psi=(self.psi,),
            classes=tuple(classes),
            rows="class",
            num_columns=columns,
        )
        cells = [self.thumbnails[index] for index in classes]
        return _assemble(cells, shape, (), (), captions, recipe)

    def _check_class(self, index: int) -> None:
        if not is_whole_number(index) or not 0 <= index < self.n_class:
            raise InvalidInputError(f"classes are 0 to {self.n_class - 1}, got {index!r}")

    @staticmethod
    def _checked_page_size(page_size: int) -> int:
        if not is_whole_number(page_size) or page_size < 1:
            raise InvalidInputError(f"page_size must be a whole number >= 1, got {page_size!r}")
        return int(page_size)
