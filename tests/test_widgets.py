"""The notebook explorers, headless: widget values in, JPEG previews out, compared with
direct `Explorer` renders; the frame loop paced by a simulated page; export; favourites."""

from __future__ import annotations

import io
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_page import FakePage
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
    Preview,
    jpeg_bytes,
    load_favourite,
    offer_download,
    render_state,
    save_favourite,
)
from gan_kit.widgets.studio import parse_seeds
from gan_kit.zoo import get_model

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
    return ExplorerWidget(varied_stylegan2, favourites=tmp_path / "favourites")


@pytest.fixture
def biggan_widget(biggan_explorer: Explorer, tmp_path: Path) -> ExplorerWidget:
    return ExplorerWidget(biggan_explorer, favourites=tmp_path / "favourites")


# --- StyleGAN2 ---------------------------------------------------------------------------


def test_stylegan2_sliders_show_the_explorer_render(stylegan2_explorer, tmp_path):
    ex = stylegan2_explorer  # the conformance model
    w = ExplorerWidget(ex, favourites=tmp_path)
    assert_shows(w.preview.image.value, direct(ex, ex.seed_styles([0], psi=0.7)))
    assert w.preview.status.value.startswith("seed 0 · psi 0.70 · ")
    assert re.search(r" · \d+ ms · static preview", w.preview.status.value)
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
    with w.preview.hold():
        w.seed.value, w.psi.value = 3, 0.5
        w.class_a.value, w.class_b.value, w.blend.value = 10, 20, 0.25
    blend = {10: 0.75, 20: 0.25}
    assert w.state().classes == blend
    assert_shows(w.preview.image.value, direct(ex, ex.seed_styles([3], psi=0.5, classes=blend)))
    with w.preview.hold():
        w.blend.value, w.mix_seed.value = 0.0, 8
        w.select_slots(["B3", "class_B3"])
    first = ex.seed_styles([3], psi=0.5, classes=10)
    second = ex.seed_styles([8], psi=0.5, classes=20)
    assert_shows(w.preview.image.value, direct(ex, ex.mix(first, second, ["B3", "class_B3"])))
    assert "cutoff" not in w.describe(w.state()) and w.psi.description == "truncation"


def test_biggan_favourite_restores_the_class_blend(biggan_widget):
    w = biggan_widget
    with w.preview.hold():
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


def test_the_truncation_slider_follows_the_models_registry_entry(varied_stylegan2, tmp_path):
    from dataclasses import replace

    tadne_like = replace(get_model("tadne-512"), resolution=64)
    ex = type(varied_stylegan2)(varied_stylegan2.generator, "tadne-like", tadne_like)
    for widget in (ExplorerWidget(ex, favourites=tmp_path), InterpolationStudio(ex)):
        slider = widget.psi
        assert (slider.min, slider.max, slider.value) == (0.6, 1.2, 1.1)
        assert slider.description == "psi"
    bare = ExplorerWidget(varied_stylegan2, favourites=tmp_path)  # no entry: gan_kit's own
    assert (bare.psi.min, bare.psi.max, bare.psi.value) == (0.5, 1.0, 0.7)
    wide = ExplorerWidget(varied_stylegan2, psi=1.4, favourites=tmp_path)
    assert (wide.psi.max, wide.psi.value) == (1.4, 1.4)


def test_the_controls_are_the_ones_the_model_has(biggan_widget, stylegan2_widget):
    assert not hasattr(biggan_widget, "cutoff") and not hasattr(biggan_widget, "noise")
    assert biggan_widget.psi.description == "truncation" and biggan_widget.class_a.max == 999
    assert stylegan2_widget.cutoff.max == 10 and not hasattr(stylegan2_widget, "class_a")
    assert stylegan2_widget.noise.options == ("const", "random", "none")


def test_the_constructor_keeps_its_values_or_refuses_them(varied_stylegan2, tmp_path):
    w = ExplorerWidget(varied_stylegan2, seed=200_000, psi=2.0)
    assert (w.state().seed, w.state().psi) == (200_000, 2.0)
    with pytest.raises(InvalidInputError, match="seeds must be integers"):
        ExplorerWidget(varied_stylegan2, seed=-5)


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


# --- the frame loop: the page paces the kernel ---------------------------------------------


@pytest.fixture
def live_widget(varied_stylegan2: Explorer, tmp_path: Path) -> tuple[ExplorerWidget, FakePage]:
    widget = ExplorerWidget(varied_stylegan2, favourites=tmp_path)
    page = FakePage(widget.preview)
    page.run()
    return widget, page


def test_without_the_page_the_preview_is_static_and_says_so(stylegan2_widget):
    w = stylegan2_widget
    assert not w.preview.live and w.preview.image.layout.display != "none"
    assert not w.seed.continuous_update and not w.psi.continuous_update
    assert "static preview: updates when a slider is released" in w.preview.status.value


def test_hello_from_the_page_turns_the_preview_live(live_widget, varied_stylegan2):
    w, page = live_widget
    assert w.preview.live and w.preview.image.layout.display == "none"
    assert w.preview.pane.layout.display is None
    assert w.seed.continuous_update and w.psi.continuous_update and w.cutoff.continuous_update
    assert "static" not in w.preview.status.value
    ((_, first),) = page.frames  # the frame drawn at construction is sent, not rendered again
    assert w.preview.frames_rendered == 1
    assert_shows(first, direct(varied_stylegan2, varied_stylegan2.seed_styles([0], psi=0.7)))


def test_a_drag_renders_only_the_newest_state_once_the_page_is_free(live_widget, varied_stylegan2):
    w, page = live_widget
    ex, rendered = varied_stylegan2, []
    render = w.preview._render

    def slow_render(state: ImageState) -> np.ndarray:
        rendered.append(state.seed)
        if state.seed == 1:  # the rest of the drag arrives while this frame renders
            for seed in range(2, 21):
                page.later(lambda seed=seed: setattr(w.seed, "value", seed))
        return render(state)

    w.preview._render = slow_render
    page.later(lambda: setattr(w.seed, "value", 1))
    page.run()
    assert rendered == [1, 20]  # seeds 2-19 were passed over: never rendered
    assert len(page.frames) == 3  # the first frame, seed 1, seed 20: drawn in order
    assert [seq for seq, _ in page.frames] == sorted(seq for seq, _ in page.frames)
    assert_shows(page.frames[-1][1], direct(ex, ex.seed_styles([20], psi=0.7)))
    page.later(lambda: setattr(w.seed, "value", 21))  # a lone step, the page free: at once
    page.run(1)
    assert rendered[-1] == 21 and len(page.frames) == 4


def test_a_frame_the_page_never_confirms_holds_new_frames_then_counts_as_lost(
    live_widget, monkeypatch
):
    w, page = live_widget
    page.later(lambda: setattr(w.seed, "value", 1))
    page.run(1)  # sent; the page's word that it arrived is still queued
    page.queue.clear()  # ... and lost
    w.seed.value = 2
    assert len(page.frames) == 2  # nothing sent while a frame may still be on its way
    monkeypatch.setattr("gan_kit.widgets.preview.LOST_FRAME_SECONDS", 0.0)
    w.seed.value = 3
    assert len(page.frames) == 3 and w.preview.drawn.state.seed == 3


def test_a_failed_render_is_reported_and_the_loop_goes_on(live_widget, varied_stylegan2):
    w, page = live_widget
    render = w.preview._render

    def fragile(state: ImageState) -> np.ndarray:
        if state.seed == 13:
            raise InvalidInputError("unlucky")
        return render(state)

    w.preview._render = fragile
    page.later(lambda: setattr(w.seed, "value", 13))
    page.run()
    assert "failed: unlucky" in w.preview.status.value
    page.later(lambda: setattr(w.seed, "value", 14))
    page.run()
    ex = varied_stylegan2
    assert_shows(page.frames[-1][1], direct(ex, ex.seed_styles([14], psi=0.7)))


def test_hold_coalesces_a_preset_into_one_frame(live_widget):
    w, page = live_widget
    drawn = len(page.frames)
    page.later(lambda: w.presets["coarse"].click())  # four toggles
    page.run()
    assert len(page.frames) == drawn + 1 and w.preview.frames_rendered == 2


# --- interpolation studio ------------------------------------------------------------------


@pytest.fixture
def studio(varied_stylegan2: Explorer, tmp_path: Path) -> InterpolationStudio:
    studio = InterpolationStudio(varied_stylegan2, folder=tmp_path)
    studio.keyframes.value, studio.frames.value = "4, 5, 6", 4
    studio.easing.value, studio.method.value = "ease-in-out", "lerp"
    return studio


def studio_styles(ex: Explorer, loop: bool = True):
    return ex.interpolate(
        ex.latents([4, 5, 6]), 4, loop=loop, method="lerp", easing="ease-in-out", psi=0.7
    )


def test_studio_preview_shows_the_frame_of_the_slider(studio, varied_stylegan2):
    ex = varied_stylegan2
    assert studio.play.max == 11 and studio.frame.max == 11  # 3 keyframes, loop, 4 per segment
    studio.frame.value = 6
    assert_shows(studio.preview.image.value, direct(ex, studio_styles(ex)[6:7]))
    assert "frame 7" in studio.preview.status.value
    studio.loop.value = False  # an open path: 9 frames, the slider follows
    assert studio.play.max == 8 and studio.frame.value == 6
    assert_shows(studio.preview.image.value, direct(ex, studio_styles(ex, loop=False)[6:7]))
    studio.fps.value = 20
    assert studio.play.interval == 50


def test_render_all_caches_every_frame_for_play(studio, varied_stylegan2):
    ex = varied_stylegan2
    studio.render_button.click()  # static: runs to the end at once
    rendered = studio.preview.frames_rendered
    assert sorted(studio._cached) == list(range(12))
    for index in range(12):
        studio.play.value = index
        assert_shows(studio.preview.image.value, direct(ex, studio_styles(ex)[index : index + 1]))
    assert studio.preview.frames_rendered == rendered + 11  # encoded, never rendered again
    assert studio.progress.layout.visibility == "hidden" and studio.cancel_button.disabled


def test_a_live_studio_renders_the_newest_play_position(studio, varied_stylegan2):
    page = FakePage(studio.preview)
    page.run()
    assert sorted(studio._cached) == [0]
    render = studio.preview._render

    def slow_render(frame):
        if frame.index == 1:  # Play ticks on while frame 1 renders
            for index in range(2, 8):
                page.later(lambda index=index: setattr(studio.play, "value", index))
        return render(frame)

    studio.preview._render = slow_render
    page.later(lambda: setattr(studio.play, "value", 1))
    page.run()
    assert sorted(studio._cached) == [0, 1, 7]  # ticks 2-6 were passed over
    ex = varied_stylegan2
    assert_shows(page.frames[-1][1], direct(ex, studio_styles(ex)[7:8]))


def test_a_live_export_is_stepped_by_the_page_with_progress(studio, monkeypatch, tmp_path):
    monkeypatch.setattr("gan_kit.widgets.preview.STEP_SECONDS", 0.0)  # one frame per step
    page = FakePage(studio.preview)
    page.run()
    progress: list[float] = []
    studio.progress.observe(lambda change: progress.append(change["new"]), "value")
    page.later(lambda: studio.export_button.click())
    page.run()
    target = tmp_path / "interpolation.gif"
    with Image.open(target) as image:
        assert image.n_frames == 12
    assert page.steps == 13  # a step per frame (frame 0 was rendered already), then the file
    assert progress == sorted(progress) and progress[-1] == pytest.approx(0.95)
    assert studio.preview.status.value == f"exported {target}"
    assert studio.progress.layout.visibility == "hidden" and not studio.preview.pane.job


def test_cancel_stops_a_live_export_between_steps(studio, monkeypatch, tmp_path):
    monkeypatch.setattr("gan_kit.widgets.preview.STEP_SECONDS", 0.0)
    page = FakePage(studio.preview)
    page.run()
    studio.format.value = "mp4"
    page.later(lambda: studio.export_button.click())
    page.run(3)  # the click and two steps: three frames rendered
    assert not studio.cancel_button.disabled and studio.progress.layout.visibility == "visible"
    page.later(lambda: studio.cancel_button.click())
    page.run()
    assert studio.preview.status.value == "export cancelled: nothing was written"
    assert list(tmp_path.iterdir()) == [] and not studio.preview.pane.job
    assert studio.cancel_button.disabled and len(studio._cached) == 3  # frames 0 to 2


def test_studio_exports_gif_and_mp4_with_every_frame(studio):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    studio.render_preview()
    gif = studio.export("gif")
    with Image.open(gif) as image:
        assert image.n_frames == 12
    studio.loop.value = False  # not previewed: rendered for the export
    mp4 = studio.export("mp4")
    assert imageio_ffmpeg.count_frames_and_secs(str(mp4))[0] == 9
    assert mp4.parent == gif.parent and mp4.name == "interpolation.mp4"


def test_studio_exports_a_gif_through_moviepy_too(studio):
    pytest.importorskip("moviepy")
    studio.overwrite.value = True
    fast, slow = studio.export("gif"), None
    fast_frames = Image.open(fast).n_frames
    studio.name.value = "through-moviepy"
    slow = studio.export("gif (moviepy)")
    with Image.open(slow) as image:
        assert image.n_frames == fast_frames == 12
    with pytest.raises(InvalidInputError, match="export format is one of"):
        studio.export("webm")


def test_studio_replaces_an_export_only_when_asked(studio):
    first = studio.export("gif")
    before = first.read_bytes()
    studio.keyframes.value = "7, 8"
    with pytest.raises(OutputExistsError, match="exists"):
        studio.export("gif")
    studio.export_button.click()  # the button reports in the status line instead
    status = studio.preview.status.value
    assert status.startswith("export failed") and "exists" in status
    assert first.read_bytes() == before
    studio.overwrite.value = True
    assert studio.export("gif") == first and first.read_bytes() != before


def test_studio_keeps_its_settings_and_names_bad_keyframes(varied_stylegan2, tmp_path):
    studio = InterpolationStudio(
        varied_stylegan2,
        frames_per_segment=1,
        psi=2.0,
        folder=tmp_path,
    )
    assert (studio.path().frames_per_segment, studio.path().psi) == (1, 2.0)
    with pytest.raises(InvalidInputError, match="seeds must be integers from 0 to"):
        parse_seeds("-1, 2")
    with pytest.raises(InvalidInputError, match="frames per segment must be a whole number"):
        InterpolationStudio(varied_stylegan2, frames_per_segment=0)


def test_an_output_folder_that_is_a_file_is_a_clear_error(varied_stylegan2, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    with pytest.raises(ExportError, match=r"cannot create the folder .*blocker"):
        save_favourite(varied_stylegan2, ImageState(seed=1), blocker / "favourites")
    studio = InterpolationStudio(varied_stylegan2, folder=blocker / "animations")
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
    widget = ExplorerWidget(stylegan2_explorer, favourites=tmp_path)
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


def test_the_colab_rule_catches_a_widget_changed_from_a_thread(_colab_rule_log):
    """The fixture every test runs under would fail this one, were the log not emptied."""
    import threading

    import ipywidgets

    slider = ipywidgets.IntSlider()
    worker = threading.Thread(target=lambda: setattr(slider, "value", 3), name="worker")
    worker.start()
    worker.join()
    slider.value = 4  # on the main thread: allowed
    assert _colab_rule_log == ["worker: IntSlider.value = 3"]
    _colab_rule_log.clear()


def test_clicks_on_a_clickable_pane_reach_its_view(varied_stylegan2):
    clicks: list[tuple[float, float]] = []
    preview = Preview(
        lambda state: np.zeros((8, 8, 3), np.uint8),
        str,
        64,
        on_click=lambda x, y: clicks.append((x, y)),
    )
    preview.show(1)
    assert preview.pane.clickable
    for content in ({"type": "click", "x": 0.25, "y": 1}, {"type": "click", "x": 2, "y": 0}):
        preview.pane._received(preview.pane, content, [])  # the second is off the image
    assert clicks == [(0.25, 1.0)]
    plain = Preview(lambda state: np.zeros((8, 8, 3), np.uint8), str, 64)
    plain.pane._received(plain.pane, {"type": "click", "x": 0.5, "y": 0.5}, [])
    assert not plain.pane.clickable
