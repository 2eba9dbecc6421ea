"""The notebook explorers, headless: widget values in, JPEG previews out, compared with
direct `Explorer` renders; the latest-request-wins loop; export; favourites."""

from __future__ import annotations

import io
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import gan_kit
from gan_kit.errors import ExportError, InvalidInputError, OutputExistsError
from gan_kit.explore import Explorer
from gan_kit.export import write_png
from gan_kit.recipes import FAVOURITE_KEY, recipe_from_png
from gan_kit.widgets import (
    ExplorerWidget,
    ImageState,
    InterpolationStudio,
    LatestWins,
    jpeg_bytes,
    load_favourite,
    offer_download,
    render_state,
    save_favourite,
)
from gan_kit.widgets.studio import parse_seeds

# Mean absolute difference (0-255) allowed between a decoded q85 JPEG and its pixels: the
# random-weight test images are saturated noise, JPEG's worst case (distinct images: ~130).
JPEG_TOLERANCE = 25.0


def decoded(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(np.float32)


def assert_shows(jpeg: bytes, expected: np.ndarray) -> None:
    """The JPEG shows `expected` (uint8 HxWx3): close once decoded, and encoded from
    exactly those pixels."""
    difference = np.abs(decoded(jpeg) - expected.astype(np.float32)).mean()
    assert difference < JPEG_TOLERANCE, f"mean difference {difference:.1f}"
    assert bytes(jpeg) == jpeg_bytes(expected)


def direct(explorer: Explorer, styles, noise_mode: str = "const") -> np.ndarray:
    return explorer.render_uint8(styles, noise_mode=noise_mode)[0]


def count_draws(widget) -> list[bytes]:
    """Every value the preview image is given from now on, in order."""
    drawn: list[bytes] = []
    widget.preview.image.observe(lambda change: drawn.append(change["new"]), "value")
    return drawn


@pytest.fixture(scope="module")
def varied_stylegan2(stylegan2_pickle: Path) -> Explorer:
    """The conformance StyleGAN2 (64 px, 10 ws) with a re-initialised mapping: its own maps
    every z to nearly one w, so its images could not show seeds and mixing reach the pixels."""
    torch.manual_seed(0)
    generator = gan_kit.load(stylegan2_pickle, "cpu")
    for layer in generator.mapping.layers:
        nn.init.kaiming_normal_(layer.weight, a=0.2)
        nn.init.zeros_(layer.bias)
    return gan_kit.explorer(generator)


@pytest.fixture
def stylegan2_widget(varied_stylegan2: Explorer, tmp_path: Path) -> ExplorerWidget:
    return ExplorerWidget(varied_stylegan2, favourites=tmp_path / "favourites", threaded=False)


@pytest.fixture
def biggan_widget(biggan_explorer: Explorer, tmp_path: Path) -> ExplorerWidget:
    return ExplorerWidget(biggan_explorer, favourites=tmp_path / "favourites", threaded=False)


# --- StyleGAN2 ---------------------------------------------------------------------------


def test_stylegan2_sliders_show_the_explorer_render(stylegan2_explorer, tmp_path):
    ex = stylegan2_explorer  # the conformance model
    w = ExplorerWidget(ex, favourites=tmp_path, threaded=False)
    assert_shows(w.preview.image.value, direct(ex, ex.seed_styles([0], psi=0.7)))
    assert w.preview.status.value.startswith("seed 0 · psi 0.70 · ")
    assert w.preview.status.value.endswith(" ms")
    w.seed.value, w.psi.value, w.cutoff.value, w.noise.value = 5, 0.5, 4, "none"
    assert w.state() == ImageState(seed=5, psi=0.5, cutoff=4, noise_mode="none", mix_seed=1)
    assert_shows(w.preview.image.value, direct(ex, ex.seed_styles([5], psi=0.5, cutoff=4), "none"))


def test_seed_slider_changes_the_image(stylegan2_widget, varied_stylegan2):
    ex, w = varied_stylegan2, stylegan2_widget
    before = bytes(w.preview.image.value)
    w.seed.value = 5
    assert bytes(w.preview.image.value) != before
    assert_shows(w.preview.image.value, direct(ex, ex.seed_styles([5], psi=0.7)))


def test_stylegan2_mixing_toggles_and_presets(stylegan2_widget, varied_stylegan2):
    ex, w = varied_stylegan2, stylegan2_widget
    unmixed = bytes(w.preview.image.value)
    seed, other = ex.seed_styles([0], psi=0.7), ex.seed_styles([1], psi=0.7)
    drawn = count_draws(w)
    w.presets["coarse"].click()  # four toggles, one render
    assert len(drawn) == 1
    assert [s for s, t in w.slot_toggles.items() if t.value] == list(ex.slot_groups["coarse"])
    assert_shows(w.preview.image.value, direct(ex, ex.mix(seed, other, "coarse")))
    assert bytes(w.preview.image.value) != unmixed
    w.presets["none"].click()
    w.slot_toggles["w5"].value = True
    assert_shows(w.preview.image.value, direct(ex, ex.mix(seed, other, ["w5"])))
    w.mix_seed.value = 7
    assert_shows(
        w.preview.image.value, direct(ex, ex.mix(seed, ex.seed_styles([7], psi=0.7), ["w5"]))
    )


# --- BigGAN ------------------------------------------------------------------------------


def test_biggan_classes_blend_and_chunk_swapping(biggan_widget, biggan_explorer):
    ex, w = biggan_explorer, biggan_widget
    with w.preview.loop.hold():
        w.seed.value, w.psi.value = 3, 0.5
        w.class_a.value, w.class_b.value, w.blend.value = 10, 20, 0.25
    blend = {10: 0.75, 20: 0.25}
    assert w.state().classes == blend
    assert_shows(w.preview.image.value, direct(ex, ex.seed_styles([3], psi=0.5, classes=blend)))
    with w.preview.loop.hold():
        w.blend.value, w.mix_seed.value = 0.0, 8
        w.select_slots(["B3", "class_B3"])
    first = ex.seed_styles([3], psi=0.5, classes=10)
    second = ex.seed_styles([8], psi=0.5, classes=20)
    assert_shows(w.preview.image.value, direct(ex, ex.mix(first, second, ["B3", "class_B3"])))
    assert "cutoff" not in w.describe(w.state()) and w.psi.description == "truncation"


def test_biggan_favourite_restores_the_class_blend(biggan_widget):
    w = biggan_widget
    with w.preview.loop.hold():
        w.class_a.value, w.class_b.value, w.blend.value = 10, 20, 0.3
        w.select_slots(["class_B6"])
    kept, image = w.state(), bytes(w.preview.image.value)
    path = w.keep_favourite()
    w.set_state(ImageState(seed=4, classes=5))
    assert (w.class_a.value, w.blend.value, w.state().mix_layers) == (5, 0.0, ())
    w.load_favourite(path)
    assert w.state() == kept and bytes(w.preview.image.value) == image


def test_set_state_shows_exactly_the_state_or_refuses_before_moving(biggan_widget):
    w = biggan_widget
    w.set_state(ImageState(seed=3, classes={7: 1.0}))  # a one-class blend is that class
    assert (w.class_a.value, w.blend.value) == (7, 0.0)
    w.set_state(ImageState(seed=3, classes={7: 0.25, 9: 0.75}))
    assert w.state().classes == {7: 0.25, 9: 0.75}
    before, image = w.state(), bytes(w.preview.image.value)
    for state, message in [
        (ImageState(seed=5, classes=4000), "class indices must be in 0..999"),
        (ImageState(seed=5, classes={1: 0.2, 4: 0.2}), "blend of two whose weights add up to 1"),
        (ImageState(seed=5, classes={1: 0.2, 4: 0.3, 6: 0.5}), "one class or a blend of two"),
        (ImageState(seed=-5), "seeds must be integers"),
        (ImageState(seed=5, psi=float("nan")), "psi must be a finite number"),
        (ImageState(seed=5, mix_seed=6, mix_layers=("B9",)), "B9"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            w.set_state(state)
        assert w.state() == before and bytes(w.preview.image.value) == image


def test_set_state_reaches_values_beyond_the_sliders(stylegan2_widget, varied_stylegan2):
    w = stylegan2_widget
    state = ImageState(seed=2**32 - 1, psi=2.5, cutoff=0, mix_seed=123_456)
    w.set_state(state)
    assert w.state() == state
    expected = varied_stylegan2.seed_styles([2**32 - 1], psi=2.5, cutoff=0)
    assert_shows(w.preview.image.value, direct(varied_stylegan2, expected))
    with pytest.raises(InvalidInputError, match="cutoff must be a whole number from 0 to 10"):
        w.set_state(ImageState(seed=1, cutoff=11))


def test_the_constructor_keeps_its_values_or_refuses_them(varied_stylegan2, tmp_path):
    w = ExplorerWidget(varied_stylegan2, seed=200_000, psi=2.0, threaded=False)
    assert (w.state().seed, w.state().psi) == (200_000, 2.0)
    with pytest.raises(InvalidInputError, match="seeds must be integers"):
        ExplorerWidget(varied_stylegan2, seed=-5, threaded=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{bad", "favourite is not valid JSON"),
        ('{"kind": "stylegan2"}', "lacks its kind or state"),
        ('{"kind": "stylegan2", "state": {"seed": 1, "hue": 2}}', r"does not know \(hue\)"),
        ('{"kind": "stylegan2", "state": {"seed": "1"}}', "seed must be a whole number"),
        ('{"kind": "biggan", "state": {"seed": 1, "classes": {"a": 1}}}', "classes must be"),
        ('{"kind": "stylegan2", "state": {"seed": 1, "psi": null}}', "psi must be a number"),
        ('{"kind": "stylegan2", "state": {"psi": 1}}', "needs at least a seed"),
    ],
)
def test_a_hand_edited_favourite_is_a_clear_error(tmp_path, text, message):
    pixels = np.zeros((4, 4, 3), np.uint8)
    path = write_png(pixels, tmp_path / "edited.png", text={FAVOURITE_KEY: text})
    with pytest.raises(InvalidInputError, match=message):
        load_favourite(path)


# --- the latest request wins ---------------------------------------------------------------


def test_threaded_loop_renders_only_the_newest_pending_state():
    release, rendered, drawn = threading.Event(), [], []

    def render(state: int) -> int:
        if state == 0:
            assert release.wait(10)
        rendered.append(state)
        return state * 10

    loop = LatestWins(render, lambda s, r, _: drawn.append((s, r)), pytest.fail, threaded=True)
    for state in range(10):  # a slider drag while the first render is still running
        loop.request(state)
    release.set()
    assert loop.wait(10)
    assert rendered == [0, 9]
    assert drawn == [(0, 0), (9, 90)]


def test_synchronous_loop_draws_in_order_and_hold_coalesces():
    drawn: list[int] = []
    loop = LatestWins(lambda s: s, lambda s, r, _: drawn.append(r), pytest.fail, threaded=False)
    loop.request(1)
    loop.request(2)
    with loop.hold():
        for state in range(3, 8):
            loop.request(state)
        assert drawn == [1, 2]
    assert drawn == [1, 2, 7]


def test_render_errors_reach_the_status_line_and_the_loop_goes_on():
    failures, drawn = [], []

    def render(state: int) -> int:
        if state < 0:
            raise ValueError("negative")
        return state

    loop = LatestWins(render, lambda s, r, _: drawn.append(r), lambda s, e: failures.append(s))
    loop.request(-1)
    loop.request(4)
    assert loop.wait(10)
    assert failures == [-1] and drawn == [4]


def test_slider_burst_in_a_threaded_widget_draws_only_the_last_seed(varied_stylegan2, tmp_path):
    w = ExplorerWidget(varied_stylegan2, favourites=tmp_path, threaded=True)
    assert w.preview.loop.wait(10)
    release, rendered = threading.Event(), []
    render = w.preview._render

    def slow_render(state: ImageState) -> np.ndarray:
        assert release.wait(10)
        rendered.append(state.seed)
        return render(state)

    w.preview._render = slow_render
    drawn = count_draws(w)
    for seed in range(1, 21):
        w.seed.value = seed
    release.set()
    assert w.preview.loop.wait(10)
    assert rendered == [1, 20]
    assert len(drawn) == 2 and w.preview.drawn.state.seed == 20
    ex = varied_stylegan2
    assert_shows(drawn[-1], direct(ex, ex.seed_styles([20], psi=0.7)))


# --- interpolation studio ------------------------------------------------------------------


@pytest.fixture
def studio(varied_stylegan2: Explorer, tmp_path: Path) -> InterpolationStudio:
    studio = InterpolationStudio(varied_stylegan2, folder=tmp_path, threaded=False)
    studio.keyframes.value, studio.frames.value = "4, 5, 6", 4
    studio.easing.value, studio.method.value = "ease-in-out", "lerp"
    return studio


def test_studio_preview_plays_the_interpolated_frames(studio, varied_stylegan2):
    ex = varied_stylegan2
    studio.render_preview()
    assert studio.play.max == 11 and studio.frame.max == 11  # 3 keyframes, loop, 4 per segment
    styles = ex.interpolate(
        ex.latents([4, 5, 6]), 4, loop=True, method="lerp", easing="ease-in-out", psi=0.7
    )
    studio.play.value = 6
    assert_shows(studio.preview.image.value, direct(ex, styles[6:7]))
    studio.fps.value = 20
    assert studio.play.interval == 50


def test_studio_exports_gif_and_mp4_with_every_frame(studio, monkeypatch):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    studio.render_preview()
    gif = studio.export("gif")
    with Image.open(gif) as image:
        assert image.n_frames == 12
    studio.loop.value = False  # not previewed: rendered for the export
    mp4 = studio.export("mp4")
    assert imageio_ffmpeg.count_frames_and_secs(str(mp4))[0] == 9
    assert mp4.parent == gif.parent and mp4.name == "interpolation.mp4"


def test_studio_replaces_an_export_only_when_asked(studio):
    first = studio.export("gif")
    before = first.read_bytes()
    studio.keyframes.value = "7, 8"
    with pytest.raises(OutputExistsError, match="exists"):
        studio.export("gif")
    studio.export_button.click()  # the button reports in the status line instead
    assert "not exported" in studio.preview.status.value and "exists" in studio.preview.status.value
    assert first.read_bytes() == before
    studio.overwrite.value = True
    assert studio.export("gif") == first and first.read_bytes() != before


def test_studio_keeps_its_settings_and_names_bad_keyframes(varied_stylegan2, tmp_path):
    studio = InterpolationStudio(
        varied_stylegan2, frames_per_segment=1, psi=2.0, folder=tmp_path, threaded=False
    )
    assert (studio.path().frames_per_segment, studio.path().psi) == (1, 2.0)
    with pytest.raises(InvalidInputError, match="seeds must be integers from 0 to"):
        parse_seeds("-1, 2")
    with pytest.raises(InvalidInputError, match="frames per segment must be a whole number"):
        InterpolationStudio(varied_stylegan2, frames_per_segment=0, threaded=False)


def test_an_output_folder_that_is_a_file_is_a_clear_error(varied_stylegan2, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    with pytest.raises(ExportError, match=r"cannot create the folder .*blocker"):
        save_favourite(varied_stylegan2, ImageState(seed=1), blocker / "favourites")
    studio = InterpolationStudio(varied_stylegan2, folder=blocker / "animations", threaded=False)
    with pytest.raises(ExportError, match="cannot create the folder"):
        studio.export("gif")


def test_offer_download_uses_colab_files_in_colab(tmp_path, monkeypatch):
    downloaded: list[str] = []
    colab = types.ModuleType("google.colab")
    colab.files = types.SimpleNamespace(download=downloaded.append)
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    import ipywidgets

    offer_download(tmp_path / "a.gif", ipywidgets.Output())
    assert downloaded == [str(tmp_path / "a.gif")]


def test_studio_rejects_bad_keyframes(studio):
    assert parse_seeds("1, 2 3") == (1, 2, 3)
    studio.keyframes.value = "1, two"
    studio.render_preview()
    assert "whole numbers" in studio.preview.status.value
    with pytest.raises(InvalidInputError):
        studio.keyframes.value = "1"
        studio.export("gif")


# --- favourites ----------------------------------------------------------------------------


def test_favourites_round_trip_with_recipe(stylegan2_widget, varied_stylegan2):
    w = stylegan2_widget
    w.seed.value, w.psi.value, w.cutoff.value = 9, 0.6, 6
    kept_state, kept_image = w.state(), w.preview.image.value
    path = w.keep_favourite()
    assert w.favourite_list.value == path.name
    w.seed.value = 2
    assert bytes(w.preview.image.value) != bytes(kept_image)
    w.load_favourite(path)
    assert w.state() == kept_state and bytes(w.preview.image.value) == bytes(kept_image)
    png = np.asarray(Image.open(path).convert("RGB"))
    again = gan_kit.render_recipe(recipe_from_png(path), varied_stylegan2)
    np.testing.assert_array_equal(again.images[0, 0], png)


def test_favourites_keep_mixed_and_blended_states(biggan_explorer, stylegan2_explorer, tmp_path):
    mixed = ImageState(seed=123_456, psi=1.8, mix_seed=2, mix_layers=("w0", "w9"))
    path = save_favourite(stylegan2_explorer, mixed, tmp_path)
    assert load_favourite(path, stylegan2_explorer) == mixed
    widget = ExplorerWidget(stylegan2_explorer, favourites=tmp_path, threaded=False)
    widget.load_favourite(path)  # beyond the sliders' default ranges
    assert widget.state() == mixed
    assert_shows(widget.preview.image.value, render_state(stylegan2_explorer, mixed))
    again = gan_kit.render_recipe(recipe_from_png(path), stylegan2_explorer)  # mixed: a recipe
    np.testing.assert_array_equal(again.images[0, 0], render_state(stylegan2_explorer, mixed))
    with pytest.raises(InvalidInputError, match="stylegan2"):
        load_favourite(path, biggan_explorer)
    blended = ImageState(seed=3, psi=0.5, classes={4: 0.5, 7: 0.5})
    image = np.zeros((8, 8, 3), np.uint8)  # no render needed to test the file
    assert load_favourite(save_favourite(biggan_explorer, blended, tmp_path, image)) == blended
    with pytest.raises(InvalidInputError):
        ImageState(seed=1, mix_layers=("w0",))
