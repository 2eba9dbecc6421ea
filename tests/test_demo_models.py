"""The demo models that ship with gan_kit: offline by name, the `gan-kit demo` command,
and the quality bar (faces that differ, smooth paths, coarse = shape, fine = colour)."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

import gan_kit
from gan_kit.cli import main
from gan_kit.demo.quality import (
    colour_distance,
    interpolation_smoothness,
    seed_spread,
    shape_distance,
    swap_effects,
)
from gan_kit.demo.showcase import write_showcase
from gan_kit.errors import CheckpointNotFoundError, InvalidInputError
from gan_kit.explore.animation import save_animation
from gan_kit.generators.biggan import BigGANGenerator
from gan_kit.generators.stylegan2 import StyleGAN2Generator
from gan_kit.recipes import recipe_from_png
from gan_kit.zoo import MODELS, StandingStatisticsCache
from gan_kit.zoo.resolve import bundled_path

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "demo"
ASSETS_BEFORE = [path.name for path in ASSETS.iterdir()]


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch) -> Path:
    """No network and an empty cache: the demo models must need neither."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GAN_KIT_CACHE", str(cache))
    monkeypatch.setenv("GAN_KIT_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


@pytest.fixture(scope="module")
def stylegan2():
    return gan_kit.explorer("demo-stylegan2", "cpu")


@pytest.fixture(scope="module")
def biggan():
    return gan_kit.explorer("demo-biggan", "cpu")


@pytest.mark.parametrize(
    ("name", "generator_type", "published"),
    [
        ("demo-stylegan2", StyleGAN2Generator, "demo-stylegan2.pkl"),
        ("demo-biggan", BigGANGenerator, "demo-biggan.pt"),
    ],
)
def test_demo_models_load_by_name_offline_from_the_shipped_files(
    name, generator_type, published, offline
):
    generator = gan_kit.load(name, device="cpu")
    assert isinstance(generator, generator_type) and generator.resolution == 64
    from_assets = gan_kit.load(ASSETS / published, device="cpu")
    z = torch.randn(2, generator.z_dim)
    if generator_type is BigGANGenerator:
        labels = torch.tensor([0, 5])
        assert torch.equal(generator(z, labels), from_assets(z, labels))
    else:
        assert torch.equal(generator(z), from_assets(z))
    assert not offline.exists()  # nothing downloaded or converted
    assert MODELS[name].resolution == 64
    assert bundled_path(MODELS[name].sources[0]).resolve() == (ASSETS / published).resolve()


def test_demo_biggan_caches_its_statistics_in_the_cache_not_the_package(offline):
    generator = gan_kit.load("demo-biggan", device="cpu")
    cache = StandingStatisticsCache()
    generator.recompute_standing_stats(n_samples=8, batch_size=8, progress=False, cache=cache)
    key = generator.standing_statistics_key(n_samples=8, truncation=1.0, batch_size=8, seed=0)
    assert list((offline / "standing_stats").iterdir()) == [cache.path(key)]
    assert sorted(path.name for path in ASSETS.iterdir()) == sorted(ASSETS_BEFORE)


def test_a_missing_bundled_file_says_what_to_do(monkeypatch):
    entry = MODELS["demo-stylegan2"]
    moved = dataclasses.replace(entry.sources[0], filename="nowhere.pkl")
    monkeypatch.setitem(MODELS, "demo-stylegan2", dataclasses.replace(entry, sources=(moved,)))
    with pytest.raises(CheckpointNotFoundError, match=r"nowhere\.pkl is missing .*reinstall"):
        gan_kit.load("demo-stylegan2")


def test_the_demo_command_writes_a_grid_and_a_looping_gif_per_model(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quiet"]) == 0
    written = capsys.readouterr().out.split()
    names = [
        "demo-stylegan2-grid.png",
        "demo-stylegan2-loop.gif",
        "demo-biggan-grid.png",
        "demo-biggan-loop.gif",
    ]
    assert written == [str(out / name) for name in names]
    stylegan2_grid = Image.open(out / names[0])
    assert stylegan2_grid.size == (8 * 64, 2 * 64)  # 16 seeds, 8 across, no captions
    biggan_grid = np.asarray(Image.open(out / names[2]).convert("RGB"))
    assert biggan_grid.shape[0] > 6 * 64 and biggan_grid.shape[1] > 6 * 64  # 6 classes x 6
    for gif in (out / names[1], out / names[3]):
        animation = Image.open(gif)
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(animation)]
        assert len(frames) == 4 * 16 and frames[0].shape == (192, 192, 3)
        assert animation.info["loop"] == 0
        changes = [np.abs(a.astype(int) - b).mean() for a, b in itertools.pairwise(frames)]
        assert min(changes) > 0  # it moves
    # Running again does not overwrite, and says so; --overwrite does.
    before = (out / names[0]).read_bytes()
    assert main(["demo", "--out", str(out), "--quiet"]) == 2
    assert "exists" in capsys.readouterr().err
    assert (out / names[0]).read_bytes() == before
    assert main(["demo", "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert (out / names[0]).read_bytes() == before  # and renders the same pixels


def test_commands_take_the_registrys_psi_unless_given(tmp_path, capsys, monkeypatch):
    entry = dataclasses.replace(MODELS["demo-biggan"], psi_default=0.85)
    monkeypatch.setitem(MODELS, "demo-biggan", entry)
    assert gan_kit.explorer("demo-biggan", "cpu").entry is entry
    given, default = tmp_path / "given.png", tmp_path / "default.png"
    common = ["--model", "demo-biggan", "--quiet", "--no-labels"]
    assert main(["generate", *common, "--seeds", "1", "--out", str(default)]) == 0
    assert recipe_from_png(default).psi == (0.85,)
    assert main(["generate", *common, "--seeds", "1", "--psi", "0.6", "--out", str(given)]) == 0
    assert recipe_from_png(given).psi == (0.6,)
    mix = tmp_path / "mix.png"
    mixing = ["--sources", "1", "--destinations", "2", "--layers", "middle", "--out", str(mix)]
    assert main(["mix", *common, *mixing]) == 0
    assert recipe_from_png(mix).psi == (0.85,)
    assert main(["demo", "--model", "demo-biggan", "--out", str(tmp_path / "d"), "--quiet"]) == 0
    assert recipe_from_png(tmp_path / "d" / "demo-biggan-grid.png").psi == (0.85,)
    path = str(ASSETS / "demo-biggan.pt")  # not the registry's: gan_kit's default
    assert (
        main(
            [
                "generate",
                "--model",
                path,
                "--seeds",
                "1",
                "--quiet",
                "--out",
                str(tmp_path / "p.png"),
            ]
        )
        == 0
    )
    assert recipe_from_png(tmp_path / "p.png").psi == (0.7,)


def test_the_demo_command_takes_any_model(tmp_path, capsys):
    path = ASSETS / "demo-stylegan2.pkl"
    assert main(["demo", "--model", str(path), "--out", str(tmp_path), "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "demo-stylegan2-grid.png",
        "demo-stylegan2-loop.gif",
    ]


def test_the_demo_command_refuses_two_models_writing_the_same_files(tmp_path, capsys):
    same_name = ["demo-stylegan2", str(ASSETS / "demo-stylegan2.pkl")]
    assert main(["demo", "--model", *same_name, "--out", str(tmp_path), "--quiet"]) == 2
    assert "would write the same files" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"scale": 0}, "scale must be a whole number from 1 to 16"),
        ({"keyframes": 1}, "keyframe"),
        ({"frames_per_segment": 0}, "frames"),
    ],
)
def test_a_bad_showcase_setting_fails_before_writing_anything(tmp_path, setting, message):
    with pytest.raises(InvalidInputError, match=message):
        write_showcase("demo-stylegan2", tmp_path, **setting)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("scale", [1, 2])
def test_animations_can_be_enlarged(stylegan2, tmp_path, scale):
    styles = stylegan2.styles(stylegan2.latents([0, 1]))
    path = save_animation(stylegan2, styles, tmp_path / "big.gif", scale=scale)
    frame = np.asarray(Image.open(path).convert("RGB"), dtype=float)
    assert frame.shape == (64 * scale, 64 * scale, 3)
    # The enlarged frame is the image, not a crop or a blank: its shrunk copy matches.
    original = stylegan2.render_uint8(styles[:1])[0].astype(float)
    shrunk = Image.fromarray(frame.astype(np.uint8)).resize((64, 64), Image.Resampling.BOX)
    assert np.abs(np.asarray(shrunk, dtype=float) - original).mean() < 6  # GIF palette error


@pytest.mark.parametrize("scale", [0, 17, True, 1.5])
def test_bad_scales_are_refused(stylegan2, tmp_path, scale):
    styles = stylegan2.styles(stylegan2.latents([0, 1]))
    with pytest.raises(InvalidInputError, match="scale must be a whole number"):
        save_animation(stylegan2, styles, tmp_path / "bad.gif", scale=scale)


def test_the_interpolate_command_refuses_a_bad_scale_before_loading(capsys):
    command = ["interpolate", "--model", "nowhere.pkl", "--seeds", "1,2", "--out", "x.gif"]
    with pytest.raises(SystemExit) as exit_status:
        main([*command, "--scale", "0"])
    assert exit_status.value.code == 2
    assert "scale must be a whole number from 1 to 16, got 0" in capsys.readouterr().err


def test_the_distances_see_colour_and_shape_apart():
    """Recolouring moves only the colour distance; shifting the picture mostly the shape."""
    generator = torch.Generator().manual_seed(0)
    pattern = torch.rand(1, 1, 32, 32, generator=generator).round()  # sharp edges
    image = pattern * torch.tensor([0.9, 0.3, 0.6]).view(1, 3, 1, 1)
    recoloured = pattern * torch.tensor([0.2, 0.8, 0.4]).view(1, 3, 1, 1)
    shifted = image.roll(3, dims=3)
    assert colour_distance(image, image).item() == 0 == shape_distance(image, image).item()
    assert colour_distance(image, recoloured).item() > 0.5
    assert shape_distance(image, recoloured).item() < 1e-6
    assert colour_distance(image, shifted).item() < 0.05
    assert shape_distance(image, shifted).item() > 0.2


def test_stylegan2_coarse_swaps_change_shape_and_fine_swaps_colour(stylegan2):
    effects = swap_effects(stylegan2)
    assert set(effects) == {"coarse", "middle", "fine"}
    assert effects["coarse"].shape > effects["coarse"].colour
    assert effects["fine"].colour > effects["fine"].shape
    assert effects["middle"].colour > effects["middle"].shape
    assert effects["coarse"].shape > effects["middle"].shape > effects["fine"].shape


def test_biggan_early_chunks_change_shape_and_late_chunks_colour(biggan):
    effects = swap_effects(biggan)
    assert effects["coarse"].shape > 1.5 * effects["coarse"].colour
    assert effects["middle"].colour > 1.5 * effects["middle"].shape


@pytest.mark.parametrize("model", ["stylegan2", "biggan"])
def test_demo_interpolations_are_continuous_and_seeds_differ(model, request):
    model_explorer = request.getfixturevalue(model)
    smooth = interpolation_smoothness(model_explorer)
    steps = list(smooth.largest_steps.values())  # 16, 32, 64 frames per segment
    assert steps[1] < 0.8 * steps[0] and steps[2] < 0.8 * steps[1]  # no jumps: they shrink
    assert steps[0] < 0.4 * smooth.keyframe_jump
    spread = seed_spread(model_explorer)
    assert spread.closest > 0.02 and spread.mean > 0.1
