"""The class atlas on the demo BigGAN (6 classes): thumbnails equal direct renders, the
disk cache is keyed, atomic and read back safely, "classes like this one" follows the
class embedding; `gan-kit atlas`; and the atlas widget's job and clicks."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_page import FakePage
from PIL import Image

import gan_kit
from gan_kit.cli import main
from gan_kit.errors import InvalidInputError
from gan_kit.explore import ClassAtlas, Explorer
from gan_kit.recipes import recipe_from_png
from gan_kit.widgets import ClassAtlasWidget


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh gan_kit cache for every test."""
    monkeypatch.setenv("GAN_KIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def biggan() -> Explorer:
    return gan_kit.explorer("demo-biggan", device="cpu")


def direct(explorer: Explorer, seed: int, psi: float, classes: list[int]) -> np.ndarray:
    return explorer.render_uint8(
        explorer.seed_styles([seed] * len(classes), psi=psi, classes=classes)
    )


def test_the_atlas_shows_every_class_at_one_seed(biggan):
    atlas = ClassAtlas(biggan, seed=7, psi=0.8)
    assert not atlas.filled.any()
    progress = list(atlas.render_steps(batch_size=4))
    assert progress == [4 / 6, 1.0] and atlas.complete
    assert np.array_equal(atlas.thumbnails, direct(biggan, 7, 0.8, list(range(6))))
    assert len({thumbnail.tobytes() for thumbnail in atlas.thumbnails}) == 6


def test_the_cache_is_keyed_by_weights_seed_and_psi_and_read_back(biggan, cache):
    atlas = ClassAtlas(biggan, seed=1)
    atlas.render()
    files = list((cache / "atlas").iterdir())
    assert [path.name for path in files] == [atlas.cache_path.name]  # no temporary left
    again = ClassAtlas(biggan, seed=1)
    assert again.complete and np.array_equal(again.thumbnails, atlas.thumbnails)
    assert list(again.render_steps()) == []  # nothing left to render
    assert not ClassAtlas(biggan, seed=2).complete
    assert not ClassAtlas(biggan, seed=1, psi=0.5).complete
    changed = gan_kit.load("demo-biggan", "cpu")
    with torch.no_grad():
        changed.class_embedding.weight.add_(0.01)
    other = ClassAtlas(gan_kit.explorer(changed), seed=1)
    assert other.cache_path != atlas.cache_path and not other.complete
    assert ClassAtlas(biggan, seed=1, cache=False).cache_path is None


@pytest.mark.parametrize(
    "content",
    [
        b"not an npy file at all",
        "wrong shape",
        "object array",
        "truncated",
    ],
)
def test_a_damaged_cache_is_ignored_and_rendered_again(biggan, content):
    atlas = ClassAtlas(biggan, seed=3)
    atlas.render()
    path = atlas.cache_path
    if content == "wrong shape":
        np.save(path, np.zeros((2, 2), np.uint8))
    elif content == "object array":
        np.save(path, np.array([{"x": 1}] * 6, dtype=object), allow_pickle=True)
    elif content == "truncated":
        path.write_bytes(path.read_bytes()[:500])
    else:
        path.write_bytes(content)
    with pytest.warns(UserWarning, match="ignoring the unreadable atlas cache"):
        again = ClassAtlas(biggan, seed=3)
    assert not again.complete
    again.render()
    assert np.array_equal(again.thumbnails, atlas.thumbnails)
    assert ClassAtlas(biggan, seed=3).complete  # the cache was written again


def test_a_pickle_in_the_cache_never_runs(biggan, tmp_path):
    atlas = ClassAtlas(biggan, seed=4)
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    atlas.cache_path.parent.mkdir(parents=True)
    atlas.cache_path.write_bytes(pickle.dumps(Payload()))
    with pytest.warns(UserWarning):
        ClassAtlas(biggan, seed=4)
    assert not marker.exists()


def test_classes_like_this_one_follow_the_class_embedding(biggan):
    atlas = ClassAtlas(biggan)
    embedding = biggan.generator.class_embedding.weight.detach().T
    for chosen in range(6):
        order = atlas.similar(chosen)
        assert order[0] == chosen and sorted(order) == list(range(6))
        distances = [float((embedding[index] - embedding[chosen]).norm()) for index in order]
        assert distances == sorted(distances)


def test_pages_and_bad_input(biggan):
    atlas = ClassAtlas(biggan)
    assert atlas.pages(4) == 2 and atlas.page_classes(1, page_size=4) == [4, 5]
    assert atlas.page_classes(0, atlas.similar(5), page_size=2)[0] == 5
    with pytest.raises(InvalidInputError, match="page must be from 0 to 1, got 2"):
        atlas.page_classes(2, page_size=4)
    with pytest.raises(InvalidInputError, match="classes are 0 to 5, got 6"):
        atlas.similar(6)
    with pytest.raises(InvalidInputError, match="batch_size must be a whole number"):
        atlas.render_steps(0)
    with pytest.raises(InvalidInputError, match="needs a model conditioned on classes"):
        ClassAtlas(gan_kit.explorer("demo-stylegan2", device="cpu"))


# --- the command line ----------------------------------------------------------------------


def test_gan_kit_atlas_writes_a_page_with_its_recipe(biggan, tmp_path, capsys):
    out = tmp_path / "atlas.png"
    status = main(["atlas", "--model", "demo-biggan", "--out", str(out), "--quiet", "--seed", "2"])
    assert status == 0 and capsys.readouterr().out.strip() == str(out)
    recipe = recipe_from_png(out)
    assert recipe.classes == tuple(range(6)) and recipe.seeds == (2,) and recipe.rows == "class"
    grid = gan_kit.render_recipe(recipe, biggan)
    assert np.array_equal(grid.images[0], direct(biggan, 2, biggan.psi_default, list(range(6))))
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), np.asarray(grid.to_pil()))

    second = tmp_path / "like.png"
    argv = ["atlas", "--model", "demo-biggan", "--out", str(second), "--quiet"]
    assert main([*argv, "--seed", "2", "--like", "4", "--page-size", "3", "--page", "1"]) == 0
    expected = ClassAtlas(biggan).similar(4)[3:6]
    assert recipe_from_png(second).classes == tuple(expected)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--model", "demo-biggan", "--page", "5"], "page must be from 0 to 0, got 5"),
        (["--model", "demo-biggan", "--like", "9"], "classes are 0 to 5, got 9"),
        (["--model", "demo-stylegan2"], "needs a model conditioned on classes"),
    ],
)
def test_gan_kit_atlas_bad_input_exits_2(tmp_path, capsys, arguments, message):
    status = main(["atlas", *arguments, "--out", str(tmp_path / "a.png"), "--quiet"])
    assert status == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "a.png").exists()


# --- the widget ----------------------------------------------------------------------------


def test_the_atlas_job_fills_the_progress_bar_then_a_click_picks_a_class(biggan):
    picked: list[int] = []
    widget = ClassAtlasWidget(biggan, page_size=4, columns=2, batch_size=2, on_pick=picked.append)
    page = FakePage(widget.preview)
    page.run()
    assert widget.progress.value == 0.0 and "0 of 6 rendered" in widget.preview.status.value
    fractions: list[float] = []
    widget.progress.observe(lambda change: fractions.append(change["new"]), "value")
    widget.start_rendering()
    page.run()
    assert fractions == pytest.approx([1 / 3, 2 / 3, 1.0]) and page.steps >= 1
    assert widget.atlas.complete and widget.cancel_button.disabled
    assert "6 of 6 rendered" in widget.preview.status.value
    expected = direct(biggan, 0, biggan.psi_default, [0, 1, 2, 3])
    assert np.array_equal(widget.preview.drawn.pixels[:64, :64], expected[0])
    page.later({"type": "click", "x": 0.9, "y": 0.9})  # lower right of page 0: class 3
    page.run()
    assert picked == [3] and widget.picked == 3 and not widget.like_button.disabled
    widget.like_button.click()
    assert widget.page_state().classes == tuple(widget.atlas.similar(3)[:4])
    widget.page.value = 1
    page.later({"type": "click", "x": 0.1, "y": 0.1})
    page.run()
    assert picked[-1] == widget.atlas.similar(3)[4]


def test_cancel_stops_the_atlas_between_batches(biggan, monkeypatch):
    monkeypatch.setattr("gan_kit.widgets.preview.STEP_SECONDS", 0.0)  # one batch a step
    widget = ClassAtlasWidget(biggan, page_size=6, batch_size=1)
    page = FakePage(widget.preview)
    page.run()
    widget.start_rendering()
    page.run(1)  # one step: one batch
    widget.cancel_button.click()
    page.run()
    assert widget.atlas.filled.sum() == 1 and widget.progress.value == pytest.approx(1 / 6)
    assert not widget.atlas.complete and widget.cancel_button.disabled
    assert widget.atlas.cache_path is not None and not widget.atlas.cache_path.exists()
    widget.start_rendering()
    page.run()
    assert widget.atlas.complete and widget.atlas.cache_path.exists()
