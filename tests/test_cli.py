"""The gan-kit command line, end to end on the conformance checkpoints."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

from gan_kit.cli import grid_axes, main
from gan_kit.errors import InvalidInputError
from gan_kit.latents.seeds import parse_seeds
from gan_kit.recipes import recipe_from_png


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit status, stdout, stderr)."""
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_seed_lists_and_ranges_in_one_grammar():
    assert parse_seeds("0-3,7, 10-11") == (0, 1, 2, 3, 7, 10, 11)
    assert parse_seeds("1, 2 3") == parse_seeds("1 2 3") == parse_seeds(" 1,2,3 ") == (1, 2, 3)
    assert parse_seeds("4 10-11") == (4, 10, 11)
    for bad, message in [
        ("a", "cannot read the seeds 'a': write whole numbers and ranges"),
        ("1,,2", "cannot read"),
        ("1,", "cannot read"),
        ("", "cannot read"),
        ("1-2-3", "cannot read"),
        ("-1", "seeds must be integers from 0 to 4294967295, got -1"),
        ("4294967296", "seeds must be integers from 0 to 4294967295"),
        ("3-1", "the seed range '3-1' runs backwards"),
        ("0-4294967295", "at most 100000 seeds"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            parse_seeds(bad)


def test_grid_axes_follow_what_varies():
    assert grid_axes(8, 1, 0) == ("seed", None)
    assert grid_axes(3, 4, 1) == ("seed", "psi")
    assert grid_axes(1, 2, 3) == ("psi", "class")
    assert grid_axes(1, 1, 0) == ("seed", None)
    with pytest.raises(InvalidInputError, match="at most two"):
        grid_axes(2, 2, 2)


def test_models_lists_the_zoo_and_the_formats(capsys):
    status, out, _ = run(capsys, "models")
    assert status == 0
    assert "anime-biggan-256" in out and "anime-portraits-512" in out
    assert "NVIDIA TF StyleGAN2 pickle" in out


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "gan_kit", "models"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "anime-biggan-256" in result.stdout


def test_generate_psi_sweep_png_with_recipe(capsys, tmp_path, stylegan2_pickle):
    out = tmp_path / "sweep.png"
    status, stdout, _ = run(
        capsys, "generate", "--model", stylegan2_pickle, "--seeds", "1-2", "--psi", "0.5", "1",
        "--device", "cpu", "--quiet", "--out", out,
    )  # fmt: skip
    assert status == 0 and stdout.strip() == str(out)
    recipe = recipe_from_png(out)
    assert (recipe.seeds, recipe.psi, recipe.rows, recipe.columns) == (
        (1, 2),
        (0.5, 1.0),
        "seed",
        "psi",
    )
    with Image.open(out) as image:
        assert image.width > 2 * 64 and image.height > 2 * 64


def test_generate_biggan_classes_and_blends(capsys, tmp_path, biggan_checkpoint):
    out = tmp_path / "classes.png"
    status, _, _ = run(
        capsys, "generate", "--model", biggan_checkpoint, "--seeds", "4", "--classes", "3",
        "3:0.5+7:0.5", "--psi", "0.7", "--no-labels", "--quiet", "--out", out,
    )  # fmt: skip
    assert status == 0
    recipe = recipe_from_png(out)
    assert recipe.classes == (3, {3: 0.5, 7: 0.5}) and recipe.rows == "class"
    with Image.open(out) as image:
        assert image.size == (2 * 256, 256)


def test_mix_writes_a_mixing_matrix(capsys, tmp_path, stylegan2_pickle):
    out = tmp_path / "mix.png"
    status, _, _ = run(
        capsys, "mix", "--model", stylegan2_pickle, "--sources", "1,2", "--destinations", "3",
        "--layers", "coarse", "w9", "--quiet", "--no-labels", "--out", out,
    )  # fmt: skip
    assert status == 0
    assert recipe_from_png(out).layers == ("coarse", "w9")
    with Image.open(out) as image:
        assert image.size == (2 * 64, 3 * 64)


def test_interpolate_writes_a_seamless_looping_gif(capsys, tmp_path, biggan_checkpoint):
    out = tmp_path / "loop.gif"
    status, _, err = run(
        capsys, "interpolate", "--model", biggan_checkpoint, "--seeds", "1,2", "--frames", "2",
        "--loop", "--easing", "ease-in-out", "--layers", "fine", "--fps", "10", "--out", out,
    )  # fmt: skip
    assert status == 0
    assert "4/4" in err  # the progress bar counted every frame
    with Image.open(out) as gif:
        assert gif.n_frames == 4 and gif.size == (256, 256)  # 2 keyframes x 2, no repeat
        assert gif.info["loop"] == 0 and gif.info["duration"] == 100


def test_interpolate_stylegan2_in_w(capsys, tmp_path, stylegan2_pickle):
    out = tmp_path / "path.gif"
    status, _, _ = run(
        capsys, "interpolate", "--model", stylegan2_pickle, "--seeds", "1,2", "--frames", "2",
        "--space", "w", "--psi", "0.7", "--cutoff", "4", "--quiet", "--out", out,
    )  # fmt: skip
    assert status == 0
    with Image.open(out) as gif:
        assert gif.size == (64, 64)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["generate", "--seeds", "1", "--psi", "nan"], "psi must be a finite number"),
        (["generate", "--seeds", "0-99999"], "grid is too large for memory"),
        (["mix", "--sources", "1", "--destinations", "2", "--layers", "eyes"],
         "unknown layer 'eyes'; valid names are slots: w0"),
        (["interpolate", "--seeds", "1,2", "--frames", "0"], "frames per segment must be"),
        (["interpolate", "--seeds", "1"], "at least 2 keyframes"),
        (["generate", "--seeds", "1", "--classes", "3"], "stylegan2 models are unconditional"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_message(capsys, tmp_path, stylegan2_pickle, arguments, message):
    out = tmp_path / ("out.gif" if arguments[0] == "interpolate" else "out.png")
    status, _, err = run(capsys, *arguments, "--model", stylegan2_pickle, "--out", out)
    assert status == 2
    assert err.startswith("gan-kit: error: ") and message in err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("missing/out.png", "does not exist"),
        ("out.jpg", "should end in .png"),
    ],
)
def test_unwritable_outputs_fail_before_loading(capsys, tmp_path, out, message):
    status, _, err = run(
        capsys, "generate", "--model", "no-such-model", "--seeds", "1", "--out", tmp_path / out
    )
    assert status == 2 and message in err


def test_existing_outputs_need_overwrite(capsys, tmp_path, stylegan2_pickle):
    out = tmp_path / "one.png"
    out.write_bytes(b"keep me")
    arguments = ["generate", "--model", stylegan2_pickle, "--seeds", "1", "--quiet", "--out", out]
    status, _, err = run(capsys, *arguments)
    assert status == 2 and "exists" in err and out.read_bytes() == b"keep me"
    assert run(capsys, *arguments, "--overwrite")[0] == 0
    assert recipe_from_png(out).seeds == (1,)


def test_animation_suffix_and_unknown_models(capsys, tmp_path, stylegan2_pickle):
    status, _, err = run(
        capsys, "interpolate", "--model", stylegan2_pickle, "--seeds", "1,2",
        "--out", tmp_path / "a.avi",
    )  # fmt: skip
    assert status == 2 and "written as .gif or .mp4, not" in err
    status, _, err = run(
        capsys, "generate", "--model", "no-such-model", "--seeds", "1", "--out", tmp_path / "x.png"
    )
    assert status == 2 and "no model called 'no-such-model'" in err


@pytest.mark.parametrize("seeds", ["-1", "4294967296"])
def test_argparse_errors_exit_2(capsys, stylegan2_pickle, seeds):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--model", str(stylegan2_pickle), "--seeds", seeds, "--out", "x.png"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "argument --seeds: seeds must be integers from 0 to 4294967295, got" in error


def test_mp4_export(capsys, tmp_path, stylegan2_pickle):
    pytest.importorskip("moviepy")
    out = tmp_path / "path.mp4"
    status, _, err = run(
        capsys, "interpolate", "--model", stylegan2_pickle, "--seeds", "1,2", "--frames", "4",
        "--fps", "8", "--quiet", "--out", out,
    )  # fmt: skip
    assert status == 0, err
    assert out.stat().st_size > 0


def test_rerender_reproduces_a_saved_png(capsys, tmp_path, stylegan2_pickle):
    first, again = tmp_path / "first.png", tmp_path / "again.png"
    arguments = ["--seeds", "3,4", "--psi", "0.6", "--cutoff", "5", "--quiet", "--out", first]
    assert run(capsys, "generate", "--model", stylegan2_pickle, *arguments)[0] == 0
    status, _, err = run(capsys, "rerender", first, "--quiet", "--out", again)
    assert status == 2 and "--trust-recipe-model" in err and not again.exists()
    status, _, _ = run(capsys, "rerender", first, "--trust-recipe-model", "--quiet", "--out", again)
    assert status == 0
    assert recipe_from_png(again) == recipe_from_png(first)
    with Image.open(first) as expected, Image.open(again) as actual:
        assert list(actual.getdata()) == list(expected.getdata())


def test_rerender_refuses_files_without_a_recipe(capsys, tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    status, _, err = run(capsys, "rerender", plain, "--out", tmp_path / "again.png")
    assert status == 2 and "holds no gan_kit recipe" in err
