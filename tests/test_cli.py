"""The gan-kit command line, end to end on the conformance checkpoints."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from PIL import Image

from gan_kit.cli import grid_axes, main
from gan_kit.errors import InvalidInputError
from gan_kit.latents.seeds import parse_seeds
from gan_kit.recipes import recipe_from_png

# Python advice that a command line user cannot follow.
PYTHON_WORDS = re.compile(r"=True|=None|=\.\.\.|device='|gan_kit\.(load|convert)\b")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit status, stdout, stderr); errors must speak CLI."""
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    assert not PYTHON_WORDS.search(captured.err), captured.err
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


def test_version_and_help_answer_without_importing_torch():
    script = (
        "import sys\n"
        "from gan_kit.cli import main\n"
        "for argv in (['--help'], ['--version'], *([c, '--help'] for c in sys.argv[1:])):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('torch imported' if 'torch' in sys.modules else 'no torch')\n"
    )
    commands = ["models", "demo", "generate", "mix", "interpolate", "rerender", "convert"]
    result = subprocess.run(
        [sys.executable, "-c", script, *commands], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().endswith("no torch")
    assert "gan-kit 0.1.0" in result.stdout and result.stdout.count("usage: gan-kit") == 8


def test_names_for_the_parser_match_the_implementations():
    from gan_kit.latents.interpolation import EASINGS, INTERPOLATIONS
    from gan_kit.names import EASING_NAMES, INTERPOLATION_METHODS

    assert tuple(EASINGS) == EASING_NAMES and tuple(INTERPOLATIONS) == INTERPOLATION_METHODS


def test_errors_name_the_flags(capsys, tmp_path, stylegan2_pickle):
    out = tmp_path / "one.png"
    out.write_bytes(b"keep me")
    status, _, err = run(
        capsys, "generate", "--model", stylegan2_pickle, "--seeds", "1", "--out", out
    )
    assert status == 2 and "pass --overwrite to replace it" in err
    import torch

    if not torch.cuda.is_available():
        status, _, err = run(
            capsys, "generate", "--model", stylegan2_pickle, "--seeds", "1", "--device", "cuda",
            "--out", tmp_path / "two.png",
        )  # fmt: skip
        assert status == 2 and "use --device cpu (or leave --device out" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--fps", "1e9", "--out", "a.mp4"], "fps must be at most 240, got 1e+09"),
        (["--fps", "1e9", "--out", "a.gif"], "GIF fps must be between"),
        (["--frames", "1000000", "--out", "a.gif"], "1,000,001 frames, over the 10,000"),
    ],
)
def test_interpolate_sizes_are_checked_before_loading(capsys, tmp_path, arguments, message):
    """The model does not exist: the size errors come before any attempt to load it."""
    *options, out = arguments
    status, _, err = run(
        capsys, "interpolate", "--model", "no-such-model", "--seeds", "1,2", *options,
        tmp_path / out,
    )  # fmt: skip
    assert status == 2 and message in err and not (tmp_path / out).exists()


def test_convert_refuses_to_overwrite_unless_asked_and_never_its_source(
    capsys, tmp_path, stylegan2_pickle
):
    out = tmp_path / "model.safetensors"
    assert run(capsys, "convert", stylegan2_pickle, "--out", out)[0] == 0
    first = out.read_bytes()
    status, _, err = run(capsys, "convert", stylegan2_pickle, "--out", out)
    assert status == 2 and "pass --overwrite" in err
    assert run(capsys, "convert", stylegan2_pickle, "--out", out, "--overwrite")[0] == 0
    status, _, err = run(capsys, "convert", out, "--out", out, "--overwrite")
    assert status == 2 and "is the checkpoint being converted" in err
    assert out.read_bytes() == first


def test_quiet_silences_download_bars_and_warnings(capsys, tmp_path, stylegan2_pickle, monkeypatch):
    from loopback_server import Route, serve

    monkeypatch.setenv("GAN_KIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_KIT_OFFLINE", raising=False)
    with serve({"/s.pkl": Route(stylegan2_pickle.read_bytes())}) as base:
        arguments = ["generate", "--model", f"{base}/s.pkl", "--seeds", "1", "--device", "cpu"]
        status, out, err = run(capsys, *arguments, "--quiet", "--out", tmp_path / "a.png")
        assert status == 0 and err == "" and out.strip() == str(tmp_path / "a.png")
        cached = next((tmp_path / "cache" / "converted").iterdir())
        cached.write_bytes(cached.read_bytes()[:-100])  # a rebuild warns
        status, _, err = run(capsys, *arguments, "--quiet", "--out", tmp_path / "b.png")
        assert status == 0 and err == ""
        (tmp_path / "cache").rename(tmp_path / "old-cache")
        status, _, err = run(capsys, *arguments, "--out", tmp_path / "c.png")
        assert status == 0 and "s.pkl" in err  # the download bar, without --quiet
