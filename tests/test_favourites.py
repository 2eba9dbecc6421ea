"""One image record: a favourite is a recipe (mixes included), renders again with
`gan-kit rerender`, works without ipywidgets, and the files of gan_kit 0.1 still load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gan_kit
from gan_kit.cli import main
from gan_kit.errors import InvalidInputError
from gan_kit.explore import ImageState, load_favourite, render_state, save_favourite
from gan_kit.export import read_png_text, write_png
from gan_kit.recipes import FAVOURITE_KEY, RECIPE_KEY, Recipe, recipe_from_png

# The recipe fields gan_kit 0.1 knows (and refuses any other): what it can read.
RECIPE_0_1_FIELDS = {
    "classes", "columns", "cutoff", "gan_kit_version", "kind", "labels", "layers", "layout",
    "model", "noise_mode", "num_columns", "psi", "rows", "seeds", "sources",
}  # fmt: skip


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def rerendered(path: Path, tmp_path: Path) -> np.ndarray:
    """The pixels `gan-kit rerender` writes for the PNG at `path`."""
    again = tmp_path / f"again-{path.stem}.png"
    arguments = ["rerender", str(path), "--trust-recipe-model", "--device", "cpu", "--quiet"]
    assert main([*arguments, "--out", str(again)]) == 0
    return pixels(again)


# --- favourites are recipes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        ImageState(seed=3, psi=0.6, cutoff=5, mix_seed=8, mix_layers=("coarse", "w9")),
        ImageState(seed=4, psi=1.2, noise_mode="none"),
    ],
    ids=["mixed", "plain"],
)
def test_a_favourite_is_a_recipe_that_rerenders(stylegan2_explorer, tmp_path, state):
    path = save_favourite(stylegan2_explorer, state, tmp_path)
    text = read_png_text(path)
    assert RECIPE_KEY in text and FAVOURITE_KEY not in text  # one record
    recipe = recipe_from_png(path)
    assert recipe == state.recipe(stylegan2_explorer)
    assert ImageState.from_recipe(recipe) == load_favourite(path) == state
    np.testing.assert_array_equal(pixels(path), render_state(stylegan2_explorer, state))
    np.testing.assert_array_equal(rerendered(path, tmp_path), pixels(path))


def test_a_mixed_image_is_the_explorers_mix(biggan_explorer):
    demo = gan_kit.explorer("demo-stylegan2", "cpu")  # its seeds differ (the tiny model's not)
    state = ImageState(seed=3, psi=0.6, cutoff=5, mix_seed=8, mix_layers=("fine",))
    own, other = demo.seed_styles([3, 8], psi=0.6, cutoff=5).split(1)
    expected = demo.render_uint8(demo.mix(own, other, "fine"))[0]
    np.testing.assert_array_equal(render_state(demo, state), expected)
    unmixed = demo.render_uint8(own)[0]
    assert np.abs(expected.astype(int) - unmixed).mean() > 1  # the mix reaches the pixels

    blend = {4: 0.5, 7: 0.5}
    state = ImageState(seed=3, psi=0.5, classes=blend, mix_seed=9, mix_layers=("class_B6",))
    styles = biggan_explorer.seed_styles([3, 9], psi=0.5, classes=[blend, None])
    mixed = biggan_explorer.mix(styles[:1], styles[1:], ["class_B6"])
    assert biggan_explorer.default_class(9) == 9  # the mix seed's own class
    np.testing.assert_array_equal(
        render_state(biggan_explorer, state), biggan_explorer.render_uint8(mixed)[0]
    )
    with_class = ImageState(seed=3, psi=0.5, mix_seed=9, mix_classes=20, mix_layers=("B6",))
    recipe = with_class.recipe(biggan_explorer)
    assert (recipe.mix_seed, recipe.mix_class, recipe.layers) == (9, 20, ("B6",))
    assert Recipe.from_json(recipe.to_json()) == recipe


def test_a_recipe_without_mixing_is_readable_by_gan_kit_0_1(stylegan2_explorer, tmp_path):
    path = save_favourite(stylegan2_explorer, ImageState(seed=2), tmp_path)
    assert set(json.loads(read_png_text(path)[RECIPE_KEY])) == RECIPE_0_1_FIELDS
    mixed = ImageState(seed=2, mix_seed=3, mix_layers=("w0",))
    written = json.loads(mixed.recipe(stylegan2_explorer).to_json())
    assert set(written) - RECIPE_0_1_FIELDS == {"mix_seed"}  # mix_class unset: left out


def test_bad_one_image_recipes_are_clear_errors(stylegan2_explorer, tmp_path):
    grid = gan_kit.sample_grid(stylegan2_explorer, [1, 2]).save_png(tmp_path / "grid.png")
    with pytest.raises(InvalidInputError, match=r"grid\.png: the recipe describes a grid of"):
        load_favourite(grid)
    layers_only = Recipe(
        model=None, kind="stylegan2", layout="grid", seeds=(1,), layers=("w0",), labels=False
    )
    with pytest.raises(InvalidInputError, match="layers needs a mix_seed"):
        gan_kit.render_recipe(layers_only, stylegan2_explorer)
    edited = json.loads(layers_only.to_json()) | {"mix_seed": "3"}
    with pytest.raises(InvalidInputError, match="the recipe's mix_seed must be a whole number"):
        Recipe.from_json(json.dumps(edited))


def test_favourites_work_without_ipywidgets(stylegan2_pickle, tmp_path):
    script = f"""
import sys
sys.modules["ipywidgets"] = None  # as if it were not installed
import gan_kit
from gan_kit.explore import ImageState, load_favourite, save_favourite
ex = gan_kit.explorer({str(stylegan2_pickle)!r}, device="cpu")
state = ImageState(seed=5, mix_seed=6, mix_layers=("w1",))
assert load_favourite(save_favourite(ex, state, {str(tmp_path)!r}), ex) == state
try:
    import gan_kit.widgets
except gan_kit.MissingDependencyError:
    print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


# --- files written by gan_kit 0.1 ---------------------------------------------------------


def written_by_0_1(path: Path, text: dict[str, str], size: int) -> Path:
    """A PNG as gan_kit 0.1 saved it: its pixels do not matter here, its text does."""
    return write_png(np.zeros((size, size, 3), np.uint8), path, text=text)


def test_a_mixed_favourite_of_0_1_loads_and_rerenders(stylegan2_explorer, tmp_path):
    model = json.dumps(stylegan2_explorer.model)
    favourite = (
        '{"kind": "stylegan2", "model": ' + model + ', "state": {"seed": 123456, "psi": 1.8, '
        '"cutoff": null, "noise_mode": "const", "classes": null, "mix_seed": 2, '
        '"mix_classes": null, "mix_layers": ["w0", "w9"]}}'
    )  # 0.1 wrote no recipe for a mixed image
    path = written_by_0_1(tmp_path / "mixed.png", {FAVOURITE_KEY: favourite}, 64)
    state = ImageState(seed=123_456, psi=1.8, mix_seed=2, mix_layers=("w0", "w9"))
    assert load_favourite(path, stylegan2_explorer) == state
    recipe = recipe_from_png(path)
    assert (recipe.model, recipe.gan_kit_version) == (stylegan2_explorer.model, "0.1.0")
    np.testing.assert_array_equal(
        rerendered(path, tmp_path), render_state(stylegan2_explorer, state)
    )


def test_a_plain_favourite_of_0_1_keeps_its_whole_state(
    biggan_explorer, stylegan2_explorer, tmp_path
):
    model = json.dumps(biggan_explorer.model)
    favourite = (
        '{"kind": "biggan", "model": ' + model + ', "state": {"seed": 3, "psi": 0.5, '
        '"cutoff": null, "noise_mode": "const", "classes": {"4": 0.5, "7": 0.5}, '
        '"mix_seed": 1, "mix_classes": 20, "mix_layers": []}}'
    )
    recipe = (
        '{"classes": [{"4": 0.5, "7": 0.5}], "columns": null, "cutoff": null, '
        '"gan_kit_version": "0.1.0", "kind": "biggan", "labels": false, "layers": null, '
        '"layout": "grid", "model": ' + model + ', "noise_mode": "const", '
        '"num_columns": null, "psi": [0.5], "rows": "seed", "seeds": [3], "sources": null}'
    )
    text = {FAVOURITE_KEY: favourite, RECIPE_KEY: recipe, "Software": "gan_kit 0.1.0"}
    path = written_by_0_1(tmp_path / "plain.png", text, 256)
    expected = ImageState(
        seed=3, psi=0.5, classes={4: 0.5, 7: 0.5}, mix_seed=1, mix_classes=20
    )  # the widget's second seed and class B too
    assert load_favourite(path, biggan_explorer) == expected
    with pytest.raises(InvalidInputError, match="saved from a biggan model, not stylegan2"):
        load_favourite(path, stylegan2_explorer)
    np.testing.assert_array_equal(
        rerendered(path, tmp_path), render_state(biggan_explorer, expected)
    )


def test_a_grid_recipe_of_0_1_renders(stylegan2_explorer, tmp_path):
    model = json.dumps(stylegan2_explorer.model)
    recipe = (
        '{"classes": null, "columns": "psi", "cutoff": 6, "gan_kit_version": "0.1.0", '
        '"kind": "stylegan2", "labels": true, "layers": null, "layout": "grid", '
        '"model": ' + model + ', "noise_mode": "none", "num_columns": null, '
        '"psi": [0.4, 1.1], "rows": "seed", "seeds": [7, 8], "sources": null}'
    )
    path = written_by_0_1(tmp_path / "sweep.png", {RECIPE_KEY: recipe}, 64)
    again = gan_kit.render_recipe(recipe_from_png(path), stylegan2_explorer)
    sweep = gan_kit.psi_sweep(stylegan2_explorer, [7, 8], [0.4, 1.1], cutoff=6, noise_mode="none")
    np.testing.assert_array_equal(np.asarray(again.to_pil()), np.asarray(sweep.to_pil()))
    assert again.recipe.gan_kit_version == "0.1.0"
