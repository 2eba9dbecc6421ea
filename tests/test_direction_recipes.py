"""Edits in recipes re-render the same pixels; the CLI's directions strip and --edit; a
discovered direction of the demo StyleGAN2 changes hair colour with the face staying put."""

from __future__ import annotations

import numpy as np
import pytest

import gan_kit
from gan_kit.cli import main
from gan_kit.demo.steering import direction_effects


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_KIT_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("model", ["demo-stylegan2", "demo-biggan"])
def test_edited_grids_and_strips_rerender_the_same_pixels(model, tmp_path):
    ex = gan_kit.explorer(model, device="cpu")
    directions = gan_kit.sefa(ex, top=3)
    grid = gan_kit.sample_grid(ex, [0, 1], edits=[directions.edit(0, 2.0)])
    plain = gan_kit.sample_grid(ex, [0, 1])
    assert not np.array_equal(grid.images, plain.images)
    again = gan_kit.render_recipe(gan_kit.recipe_from_png(grid.save_png(tmp_path / "g.png")))
    assert np.array_equal(again.images, grid.images)
    strip = gan_kit.direction_strip(ex, directions, 2)
    assert strip.images.shape[:2] == (3, 7)
    assert np.array_equal(strip.images[:, 3], np.repeat(strip.images[:1, 3], 3, axis=0))
    again = gan_kit.render_recipe(gan_kit.recipe_from_png(strip.save_png(tmp_path / "s.png")))
    assert np.array_equal(again.images, strip.images)


def test_cli_directions_and_edit(tmp_path, capsys):
    out = tmp_path / "strip.png"
    args = ["directions", "--model", "demo-stylegan2", "--method", "ganspace", "--top", "3"]
    assert main([*args, "--slots", "coarse", "--out", str(out), "--quiet"]) == 0
    recipe = gan_kit.recipe_from_png(out)
    assert recipe.layout == "directions" and len(recipe.edits) == 3
    assert recipe.edits[0].slots == ("w0", "w1", "w2", "w3")
    edited = tmp_path / "edited.png"
    generate = ["generate", "--model", "demo-biggan", "--seeds", "0-1", "--quiet"]
    assert main([*generate, "--edit", "sefa:0=2", "--edit", "ganspace@class:1=-1",
                 "--out", str(edited)]) == 0  # fmt: skip
    assert [e.method for e in gan_kit.recipe_from_png(edited).edits] == ["sefa", "ganspace"]
    capsys.readouterr()
    assert main([*generate, "--edit", "sefa:0=nan", "--out", str(tmp_path / "x.png")]) == 2
    assert "strength must be a finite number, got nan" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([*generate, "--edit", "pca:0=1", "--out", str(tmp_path / "y.png")])
    assert exit_info.value.code == 2
    assert "--edit takes METHOD:INDEX=STRENGTH with METHOD sefa or ganspace" in (
        capsys.readouterr().err
    )


def test_a_stylegan2_direction_changes_hair_colour_and_keeps_the_face_put():
    ex = gan_kit.explorer("demo-stylegan2", device="cpu")
    effects = direction_effects(ex, gan_kit.sefa(ex, "w2", top=2), strength=1.5)
    hair = effects[1]  # measured: hair 0.256, class 47%, background 0.012, face 0.75 px
    assert hair.changes_hair_colour_only
    assert hair.hair > 0.2 and hair.background < 0.05 and hair.face_shift < 0.9
