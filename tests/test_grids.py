"""Grids (seeds, psi, classes), psi sweeps, mixing matrices, and recipes in PNG files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gan_kit
from gan_kit.errors import (
    ExportError,
    GanKitError,
    InvalidInputError,
    OutputExistsError,
    OutputTooLargeError,
)
from gan_kit.explore import (
    mixing_matrix,
    model_reference,
    psi_sweep,
    sample_grid,
)
from gan_kit.explore.memory import max_grid_pixels
from gan_kit.export import write_png
from gan_kit.recipes import Recipe, recipe_from_png


def test_seed_grid_wraps_into_columns_with_captions(stylegan2_explorer):
    grid = sample_grid(stylegan2_explorer, [3, 1, 4, 5, 9], psi=0.7, num_columns=3)
    assert grid.shape == (2, 3)
    assert grid.filled.tolist() == [[True, True, True], [True, True, False]]
    assert grid.captions == ("seed 3", "seed 1", "seed 4", "seed 5", "seed 9")
    assert grid.row_labels == grid.column_labels == ()
    expected = stylegan2_explorer.render_uint8(
        stylegan2_explorer.seed_styles([3, 1, 4, 5, 9], psi=0.7)
    )
    np.testing.assert_array_equal(grid.images.reshape(6, 64, 64, 3)[:5], expected)
    plain = np.asarray(grid.to_pil(labels=False))
    assert plain.shape == (2 * 64, 3 * 64, 3)
    np.testing.assert_array_equal(plain[64:128, 64:128], expected[4])
    assert (plain[64:, 128:] == 255).all()  # the blank cell
    labelled = np.asarray(grid.to_pil())
    assert labelled.shape == plain.shape  # captions sit inside the cells
    assert not np.array_equal(labelled, plain)


def test_psi_sweep_puts_seeds_down_and_psi_across(stylegan2_explorer):
    grid = psi_sweep(stylegan2_explorer, [1, 2], [0.0, 0.5, 1.2])
    assert grid.shape == (2, 3)
    assert grid.row_labels == ("seed 1", "seed 2")
    assert grid.column_labels == ("psi 0", "psi 0.5", "psi 1.2")
    cell = stylegan2_explorer.render_uint8(stylegan2_explorer.seed_styles([2], psi=1.2))[0]
    np.testing.assert_array_equal(grid.images[1, 2], cell)
    np.testing.assert_array_equal(grid.images[0, 0], grid.images[1, 0])  # psi 0: w_avg
    image = grid.to_pil()
    assert image.width > 3 * 64 and image.height > 2 * 64  # margins for the labels


def test_class_grid_with_a_blend(biggan_explorer):
    grid = sample_grid(biggan_explorer, [1], classes=[3, {3: 0.5, 7: 0.5}], rows="class", psi=0.6)
    assert grid.shape == (1, 2)
    assert grid.captions == ("class 3", "class 3:0.5+7:0.5")
    latents = biggan_explorer.latents([1], classes={3: 0.5, 7: 0.5})
    blend = biggan_explorer.render_uint8(biggan_explorer.styles(latents, psi=0.6))[0]
    np.testing.assert_array_equal(grid.images[0, 1], blend)


def test_mixing_matrix_layout(stylegan2_explorer):
    grid = mixing_matrix(stylegan2_explorer, [1, 2], [3, 4, 5], "coarse", psi=0.7)
    assert grid.shape == (3, 4)
    assert not grid.filled[0, 0] and grid.filled.sum() == 11
    assert grid.row_labels == ("", "src 1", "src 2")
    assert grid.column_labels == ("", "dst 3", "dst 4", "dst 5")
    styles = stylegan2_explorer.seed_styles([2, 5], psi=0.7)
    source, destination = styles[:1], styles[1:]
    mixed = stylegan2_explorer.mix(destination, source, "coarse")
    expected = stylegan2_explorer.render_uint8(mixed)[0]
    np.testing.assert_array_equal(grid.images[2, 3], expected)
    header = stylegan2_explorer.render_uint8(styles)
    np.testing.assert_array_equal(grid.images[2, 0], header[0])
    np.testing.assert_array_equal(grid.images[0, 3], header[1])


def test_mixing_matrix_refuses_unknown_layers_before_rendering(stylegan2_explorer):
    with pytest.raises(InvalidInputError, match="unknown layer 'hair'"):
        mixing_matrix(stylegan2_explorer, [1], [2], ["coarse", "hair"])


def test_figure_has_one_axes_per_cell_and_the_labels(stylegan2_explorer):
    pytest.importorskip("matplotlib")
    grid = psi_sweep(stylegan2_explorer, [1, 2], [0.5, 1.0])
    figure = grid.figure()
    axes = figure.get_axes()
    assert len(axes) == 4
    assert [ax.get_title() for ax in axes[:2]] == ["psi 0.5", "psi 1"]
    assert [axes[0].get_ylabel(), axes[2].get_ylabel()] == ["seed 1", "seed 2"]
    np.testing.assert_array_equal(axes[3].get_images()[0].get_array(), grid.images[1, 1])


def test_grid_too_large_for_memory_fails_before_rendering(stylegan2_explorer):
    cells = max_grid_pixels() // (64 * 64) + 100
    with pytest.raises(OutputTooLargeError, match="grid is too large for memory"):
        sample_grid(stylegan2_explorer, range(cells), num_columns=100)


def test_grid_axes_must_hold_every_varying_value(stylegan2_explorer, biggan_explorer):
    with pytest.raises(InvalidInputError, match="2 psi values were given but psi is on neither"):
        sample_grid(stylegan2_explorer, [1, 2], psi=[0.5, 1.0])
    with pytest.raises(InvalidInputError, match="two different axes"):
        sample_grid(stylegan2_explorer, [1, 2], rows="seed", columns="seed")
    with pytest.raises(InvalidInputError, match="stylegan2 models are unconditional"):
        sample_grid(stylegan2_explorer, [1], classes=[1, 2], columns="class")
    with pytest.raises(InvalidInputError, match="psi must be a finite number"):
        sample_grid(biggan_explorer, [1], psi=float("nan"))
    with pytest.raises(InvalidInputError, match="class axis needs classes: give the classes"):
        sample_grid(biggan_explorer, [1, 2], rows="class", columns="seed")
    with pytest.raises(InvalidInputError, match="class axis needs classes: the model has no"):
        sample_grid(stylegan2_explorer, [1, 2], columns="class")
    with pytest.raises(InvalidInputError, match="num_columns must be at least 1, got 0"):
        sample_grid(stylegan2_explorer, [1, 2], num_columns=0)


# --- recipes ----------------------------------------------------------------------------


def png_pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_stylegan2_recipe_round_trips_to_identical_pixels(stylegan2_explorer, tmp_path):
    grid = psi_sweep(stylegan2_explorer, [7, 8], [0.4, 1.1], cutoff=6, noise_mode="none")
    path = grid.save_png(tmp_path / "sweep.png")
    recipe = recipe_from_png(path)
    assert recipe == grid.recipe
    assert recipe.model == stylegan2_explorer.model and Path(recipe.model).is_absolute()
    assert (recipe.kind, recipe.seeds, recipe.psi, recipe.cutoff) == (
        "stylegan2",
        (7, 8),
        (0.4, 1.1),
        6,
    )
    assert recipe.gan_kit_version == gan_kit.__version__
    with pytest.raises(InvalidInputError, match=r"a path or URL.*model=\.\.\..*trust_model=True"):
        gan_kit.render_recipe(recipe, device="cpu")  # a path in a PNG is not loaded unasked
    again = gan_kit.render_recipe(recipe, device="cpu", trust_model=True)  # the recipe's model
    np.testing.assert_array_equal(np.asarray(again.to_pil()), png_pixels(path))


def test_biggan_recipe_round_trips_classes_and_mixing(biggan_explorer, tmp_path):
    grid = mixing_matrix(biggan_explorer, [2], [5], ["class", "fine"], psi=0.8, labels=False)
    path = grid.save_png(tmp_path / "mix.png")
    recipe = recipe_from_png(path)
    assert recipe.layers == ("class", "fine") and recipe.sources == (2,)
    again = gan_kit.render_recipe(recipe, biggan_explorer)
    np.testing.assert_array_equal(np.asarray(again.to_pil()), png_pixels(path))
    assert png_pixels(path).shape == (2 * 256, 2 * 256, 3)  # no label margins


def test_recipe_json_keeps_class_blends():
    recipe = Recipe(
        model="anime-biggan-256",
        kind="biggan",
        layout="grid",
        seeds=(1,),
        classes=(3, {3: 0.25, 7: 0.75}),
        rows="class",
    )
    assert Recipe.from_json(recipe.to_json()) == recipe


def test_recipes_from_other_versions_or_files_are_refused(tmp_path):
    recipe = Recipe(model=None, kind="stylegan2", layout="grid", seeds=(1,))
    newer = dataclasses.asdict(recipe) | {"hue": 0.5}
    with pytest.raises(InvalidInputError, match=r"does not know \(hue\)"):
        Recipe.from_json(json.dumps(newer))
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        Recipe.from_json("{")
    plain = write_png(np.zeros((4, 4, 3), np.uint8), tmp_path / "plain.png")
    with pytest.raises(GanKitError, match="holds no gan_kit recipe"):
        recipe_from_png(plain)
    with pytest.raises(InvalidInputError, match="names no model"):
        gan_kit.render_recipe(recipe)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("seeds", 5, "seeds must be a list of whole numbers"),
        ("psi", 0.5, "psi must be a list of numbers"),
        ("psi", ["0.5"], "psi must be a list of numbers"),
        ("cutoff", "3", "cutoff must be a whole number or null"),
        ("num_columns", 2.5, "num_columns must be a whole number or null"),
        ("model", 5, "model must be a name, URL or path"),
        ("classes", [{"a": 1.0}], "classes must be a list of classes or null"),
        ("kind", "stylegan3", 'kind must be "stylegan2" or "biggan"'),
        ("labels", "yes", "labels must be true or false"),
    ],
)
def test_a_hand_edited_recipe_names_the_bad_field(field, value, message):
    recipe = Recipe(model="demo-stylegan2", kind="stylegan2", layout="grid", seeds=(1,))
    edited = dataclasses.asdict(recipe) | {field: value}
    with pytest.raises(InvalidInputError, match=f"the recipe's {message}, got .*by hand"):
        Recipe.from_json(json.dumps(edited))


def test_saving_refuses_to_overwrite_or_write_nowhere(stylegan2_explorer, tmp_path):
    grid = sample_grid(stylegan2_explorer, [1])
    path = grid.save_png(tmp_path / "one.png")
    with pytest.raises(OutputExistsError, match="exists"):
        grid.save_png(path)
    grid.save_png(path, overwrite=True)
    with pytest.raises(ExportError, match="does not exist"):
        grid.save_png(tmp_path / "missing" / "one.png")


def test_recipes_record_local_models_by_absolute_path(conformance_dir, monkeypatch):
    monkeypatch.chdir(conformance_dir)
    # Compared resolved: the working directory is reported with symbolic links resolved.
    recorded = Path(model_reference("biggan_tiny.bin"))
    assert recorded.is_absolute()
    assert recorded.resolve() == (conformance_dir / "biggan_tiny.bin").resolve()
    prefix = conformance_dir / "biggan_tiny_tf" / "model.ckpt-607250"
    recorded = Path(model_reference("biggan_tiny_tf/model.ckpt-607250"))
    assert recorded.is_absolute() and recorded.resolve() == prefix.resolve()
    assert model_reference("anime-biggan-256") == "anime-biggan-256"
    assert model_reference("https://example.org/g.pkl") == "https://example.org/g.pkl"
