"""Projection into the demo StyleGAN2 with its own discriminator, the critic ranking, and
the pictures they take (any size and mode, centre crop + resize)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import gan_kit
from gan_kit.cli import main
from gan_kit.demo.faces import face_batch, to_tensor
from gan_kit.errors import InvalidInputError
from gan_kit.explore.critic import best_seeds, seed_scores
from gan_kit.explore.grids import render_recipe
from gan_kit.explore.projection import ProjectionLoss, project
from gan_kit.explore.target_image import target_pixels
from gan_kit.recipes import recipe_from_png


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-12)))


@pytest.fixture(scope="module")
def demo():
    return gan_kit.explorer("demo-stylegan2", "cpu")


@pytest.fixture(scope="module")
def own_face(demo) -> np.ndarray:
    """A face the model made itself (seed 4321, psi 0.7): it can be found exactly."""
    return demo.render_uint8(demo.seed_styles([4321], psi=0.7))[0]


@pytest.fixture(scope="module")
def projected(demo, own_face):
    calls = []
    projection = project(
        demo, own_face, steps=40, starts=32, progress=lambda *call: calls.append(call)
    )
    return projection, calls


# --- the pictures ------------------------------------------------------------------------


def test_a_wide_rgba_picture_is_centre_cropped_resized_and_put_on_white():
    pixels = np.zeros((60, 120, 4), np.uint8)
    pixels[:, :60] = (255, 0, 0, 255)  # left half red
    pixels[:, 60:] = (0, 0, 255, 255)  # right half blue
    pixels[:10, 55:65, 3] = 0  # a transparent notch at the top, centre
    square = target_pixels(Image.fromarray(pixels), 64)
    assert square.shape == (64, 64, 3) and square.dtype == np.uint8
    assert (square[32, :28] == (255, 0, 0)).all() and (square[32, 36:] == (0, 0, 255)).all()
    assert (square[:8, 30:34] == 255).all()  # the notch shows the white behind it


@pytest.mark.parametrize(
    "image",
    [
        np.full((40, 40), 128, np.uint8),  # greyscale
        np.full((3, 50, 50), 0.5, np.float32),  # channels first, floats in [0, 1]
        torch.full((1, 3, 70, 70), 0.5),  # a batch of one tensor
        Image.new("P", (90, 70)),  # palette
    ],
)
def test_pictures_of_any_mode_become_rgb(image):
    square = target_pixels(image, 32)
    assert square.shape == (32, 32, 3)
    assert np.ptp(square) <= 1  # a flat picture stays flat


def test_bad_pictures_get_clear_errors(tmp_path):
    with pytest.raises(InvalidInputError, match="no image file"):
        target_pixels(tmp_path / "missing.png", 64)
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(InvalidInputError, match="not an image"):
        target_pixels(tmp_path / "notes.png", 64)
    with pytest.raises(InvalidInputError, match="at least 8x8"):
        target_pixels(np.zeros((4, 40, 3), np.uint8), 64)
    with pytest.raises(InvalidInputError, match=r"\[H, W\]"):
        target_pixels(np.zeros((5, 40, 40, 3), np.uint8), 64)
    with pytest.raises(InvalidInputError, match="finite"):
        target_pixels(np.full((40, 40, 3), np.nan, np.float32), 64)
    with pytest.raises(InvalidInputError, match="a path, a PIL image"):
        target_pixels(42, 64)


# --- projection ----------------------------------------------------------------------------


def test_projection_finds_a_face_the_model_made(projected, own_face):
    projection, calls = projected
    assert projection.image.shape == own_face.shape
    assert psnr(projection.image, own_face) > 24
    assert projection.losses[-1] < 0.5 * projection.losses[0]
    assert len(projection.losses) == 40 and [c[0] for c in calls] == list(range(1, 41))
    assert projection.styles.shape == (1, 10, 128)


def test_the_recipe_renders_mixes_and_survives_the_png(projected, own_face, demo, tmp_path):
    projection, _ = projected
    path = projection.save(tmp_path / "projected.png")
    recipe = recipe_from_png(path)
    assert recipe == projection.recipe and recipe.styles is not None
    rendered = render_recipe(recipe, demo).images[0, 0]
    assert psnr(rendered, own_face) > 22  # the model's own noise maps, not the fitted ones
    mixed = render_recipe(
        gan_kit.Recipe(**{**recipe.__dict__, "layers": ("coarse",), "mix_seed": 7}), demo
    ).images[0, 0]
    assert psnr(mixed, rendered) < 30  # the coarse layers of seed 7 changed it
    assert psnr(mixed, rendered) > 8


def test_projection_is_deterministic_for_a_seed(demo, own_face):
    runs = [project(demo, own_face, steps=6, starts=8, seed=s) for s in (3, 3, 4)]
    assert torch.equal(runs[0].styles, runs[1].styles)
    assert not torch.equal(runs[0].styles, runs[2].styles)


def test_w_plus_gives_one_w_per_layer(demo, own_face):
    projection = project(demo, own_face, steps=4, starts=8, w_plus=True)
    assert not torch.equal(projection.styles[0, 0], projection.styles[0, -1])


def test_projection_refuses_what_it_cannot_do(demo, own_face):
    biggan = gan_kit.explorer("demo-biggan", "cpu")
    with pytest.raises(InvalidInputError, match="StyleGAN2 models"):
        project(biggan, own_face, steps=2)
    with pytest.raises(InvalidInputError, match="steps must be"):
        project(demo, own_face, steps=0)
    foreign = gan_kit.explorer(demo.generator)  # no file to read D from
    with pytest.raises(InvalidInputError, match="load_discriminator"):
        project(foreign, own_face, steps=2)
    pixel_only = project(foreign, own_face, steps=2, starts=4, loss=ProjectionLoss(discriminator=0))
    assert pixel_only.image.shape == (64, 64, 3)


# --- the critic ----------------------------------------------------------------------------


def test_best_seeds_keeps_the_highest_scores_best_first(demo):
    ranked = best_seeds(demo, 12, 3, first_seed=100)
    scores = seed_scores(demo, range(100, 112))
    assert [s for _, s in ranked] == sorted(scores, reverse=True)[:3]
    assert all(100 <= seed < 112 for seed, _ in ranked)
    with pytest.raises(InvalidInputError, match="keep at most n"):
        best_seeds(demo, 3, 4)


def test_the_discriminator_tells_unseen_real_faces_from_the_models_own(demo):
    critic = gan_kit.load_discriminator("demo-stylegan2", device="cpu")
    reals = to_tensor(face_batch(list(range(1_000_000, 1_000_016)))[0])
    fakes = demo.render(demo.seed_styles(range(16), psi=1.0)) * 2 - 1
    with torch.no_grad():
        real_scores = torch.stack([critic(image[None]) for image in reals]).flatten()
        fake_scores = torch.stack([critic(image[None]) for image in fakes]).flatten()
    assert real_scores.mean() > fake_scores.mean() + 1.0  # measured: 0.73 vs -1.28
    assert (real_scores > fake_scores.median()).float().mean() >= 0.75


# --- the command line ------------------------------------------------------------------------


def test_gan_kit_project_writes_the_png_with_recipe_side_by_side_and_video(
    tmp_path, own_face, capsys
):
    Image.fromarray(np.pad(own_face, ((0, 0), (16, 16), (0, 0)), mode="edge")).save(
        tmp_path / "me.jpg"
    )
    out = tmp_path / "out"
    argv = ["project", str(tmp_path / "me.jpg"), "--model", "demo-stylegan2", "--out", str(out)]
    assert main([*argv, "--steps", "4", "--starts", "4", "--video", "--quiet"]) == 0
    projected = Image.open(out / "projected.png")
    assert projected.size == (64, 64)
    assert recipe_from_png(out / "projected.png").styles is not None
    assert Image.open(out / "side-by-side.png").size == (128, 64)
    assert Image.open(out / "projection.gif").n_frames >= 2
    assert main([*argv, "--steps", "4", "--quiet"]) == 2  # exists: no --overwrite
    assert "exists" in capsys.readouterr().err
    assert (
        main(
            [
                "project",
                str(tmp_path / "nope.png"),
                "--model",
                "demo-stylegan2",
                "--out",
                str(tmp_path / "o2"),
            ]
        )
        == 2
    )
    assert "IMAGE" in capsys.readouterr().err


def test_gan_kit_generate_best_of_shows_the_best_seeds(tmp_path, demo):
    out = tmp_path / "best.png"
    argv = ["generate", "--model", "demo-stylegan2", "--seeds", "0-1", "--psi", "0.7"]
    assert main([*argv, "--best-of", "10", "--out", str(out), "--quiet"]) == 0
    expected = [seed for seed, _ in best_seeds(demo, 10, 2, psi=0.7)]
    assert list(recipe_from_png(out).seeds) == expected
    assert main([*argv, "--best-of", "1", "--out", str(tmp_path / "x.png"), "--quiet"]) == 2
