"""The common exploration interface on the conformance checkpoints: seeds, truncation,
slots and mixing, interpolation, and rendering in batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import gan_kit
from gan_kit.errors import ExportError, InvalidInputError, OutputTooLargeError
from gan_kit.explore import (
    NOISE_MODES,
    BigGANExplorer,
    Latents,
    StyleGAN2Explorer,
    save_animation,
)
from gan_kit.explore import memory as explore_memory
from gan_kit.generators.biggan import truncated_z
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from gan_kit.latents.seeds import truncated_normal_from_seeds

TOLERANCE = 1e-4


def native_stylegan2(images: torch.Tensor) -> np.ndarray:
    """Explorer images in [0, 1] back to StyleGAN2's native [-1, 1]."""
    return images.numpy() * 2 - 1


def max_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max())


@pytest.fixture(scope="module")
def biggan_latents(biggan_reference) -> Latents:
    """The reference samples' z and one-hot classes."""
    classes = torch.from_numpy(biggan_reference["classes"]).long()
    return Latents(torch.from_numpy(biggan_reference["z"]), F.one_hot(classes, 1000).float())


# --- StyleGAN2 --------------------------------------------------------------------------


def test_stylegan2_seeds_reproduce_the_reference(stylegan2_explorer, stylegan2_reference):
    seeds = stylegan2_reference["seeds"].tolist()
    latents = stylegan2_explorer.latents(seeds)
    np.testing.assert_array_equal(latents.z.numpy(), stylegan2_reference["z"])
    styles = stylegan2_explorer.seed_styles(seeds, psi=float(stylegan2_reference["psi"]))
    assert max_error(styles.numpy(), stylegan2_reference["ws"]) <= TOLERANCE
    images = stylegan2_explorer.render(styles)
    assert images.shape == (3, 3, 64, 64) and images.dtype == torch.float32
    assert max_error(native_stylegan2(images), stylegan2_reference["img_const"]) <= TOLERANCE
    none = stylegan2_explorer.render(styles, noise_mode="none")
    assert max_error(native_stylegan2(none), stylegan2_reference["img_none"]) <= TOLERANCE


def test_psi_zero_gives_the_w_avg_image(stylegan2_explorer):
    generator = stylegan2_explorer.generator
    styles = stylegan2_explorer.seed_styles([0, 1, 2], psi=0.0)
    average = generator.w_avg.expand(1, generator.num_ws, -1)
    assert torch.equal(styles, average.expand(3, -1, -1))
    images = stylegan2_explorer.render(styles)
    expected = stylegan2_explorer.render(average)
    assert all(torch.equal(image, expected[0]) for image in images)


def test_the_explorer_truncates_as_the_mapping_does(stylegan2_explorer):
    generator = stylegan2_explorer.generator
    latents = stylegan2_explorer.latents([5, 6, 7])
    psis = [0.5, 1.0, 1.3]
    styles = stylegan2_explorer.styles(latents, psi=psis, cutoff=4)
    assert torch.equal(styles, generator.mapping(latents.z, psi=psis, cutoff=4))
    for index, psi in enumerate(psis):  # one psi per sample is each sample's own psi
        assert torch.equal(styles[index], generator.mapping(latents.z, psi=psi, cutoff=4)[index])
    with pytest.raises(InvalidInputError, match="psi must be a finite number"):
        generator.mapping(latents.z, psi=float("nan"))


def test_cutoff_truncates_only_the_first_ws(stylegan2_explorer):
    generator = stylegan2_explorer.generator
    latents = stylegan2_explorer.latents([5, 6])
    styles = stylegan2_explorer.styles(latents, psi=0.5, cutoff=3)
    expected = generator.mapping(latents.z, psi=0.5, cutoff=3)
    torch.testing.assert_close(styles, expected, rtol=0, atol=1e-6)
    untruncated = stylegan2_explorer.styles(latents)
    assert torch.equal(styles[:, 3:], untruncated[:, 3:])


def test_stylegan2_slots_and_groups(stylegan2_explorer):
    assert stylegan2_explorer.slots == tuple(f"w{i}" for i in range(10))
    groups = stylegan2_explorer.slot_groups
    assert groups["coarse"] == ("w0", "w1", "w2", "w3")
    assert groups["middle"] == ("w4", "w5", "w6", "w7")
    assert groups["fine"] == ("w8", "w9")


@pytest.mark.parametrize(
    ("resolution", "fine"),
    [(512, range(8, 16)), (1024, range(8, 18)), (256, range(8, 14))],
)
def test_stylegan2_groups_at_any_resolution(resolution, fine):
    blocks = resolution.bit_length() - 2
    config = StyleGAN2Config(resolution=resolution, z_dim=4, w_dim=4, channels=(4,) * blocks)
    groups = StyleGAN2Explorer(StyleGAN2Generator(config)).slot_groups
    assert groups["coarse"] == ("w0", "w1", "w2", "w3")
    assert groups["middle"] == ("w4", "w5", "w6", "w7")
    assert groups["fine"] == tuple(f"w{i}" for i in fine)


def test_small_stylegan2_has_no_empty_groups():
    config = StyleGAN2Config(resolution=16, z_dim=4, w_dim=4, channels=(4, 4, 4))
    groups = StyleGAN2Explorer(StyleGAN2Generator(config)).slot_groups
    assert groups == {
        "coarse": ("w0", "w1", "w2", "w3"),
        "middle": ("w4", "w5"),
        "all": tuple(f"w{i}" for i in range(6)),
    }


def test_stylegan2_mix_reproduces_the_reference(stylegan2_explorer, stylegan2_reference):
    ws = torch.from_numpy(stylegan2_reference["ws"])
    mixed = stylegan2_explorer.mix(ws[1:2], ws[0:1], ["w0", "w1", "w2", "w3"])
    assert torch.equal(mixed, stylegan2_explorer.mix(ws[1:2], ws[0:1], "coarse"))
    image = stylegan2_explorer.render(mixed)
    reference = stylegan2_reference["img_mix_coarse0_from_seed0"]
    assert max_error(native_stylegan2(image), reference) <= TOLERANCE


def test_stylegan2_mix_of_different_sources(stylegan2_explorer):
    # The fixture's mapping sends every z to nearly the same w, so mixing seeds proves
    # little; these sources differ everywhere.
    generator = stylegan2_explorer.generator
    a, b = torch.randn(2, 1, 10, 64, generator=torch.Generator().manual_seed(1)).unbind()
    mixed = stylegan2_explorer.mix(a, b, ["fine", "w0"])
    taken = [0, 8, 9]
    kept = [1, 2, 3, 4, 5, 6, 7]
    assert torch.equal(mixed[:, taken], b[:, taken])
    assert torch.equal(mixed[:, kept], a[:, kept])
    image = stylegan2_explorer.render(mixed)
    by_hand = torch.cat([b[:, :1], a[:, 1:8], b[:, 8:]], dim=1)
    expected = (generator.synthesis(by_hand) + 1) / 2
    torch.testing.assert_close(image, expected, rtol=0, atol=1e-6)
    for source in (a, b):
        assert (image - stylegan2_explorer.render(source)).abs().max() > 0.01


def test_unknown_layer_names_list_the_valid_ones(stylegan2_explorer, biggan_explorer):
    ws = stylegan2_explorer.seed_styles([1, 2])
    with pytest.raises(InvalidInputError, match=r"unknown layer 'w10'.*slots: w0 w1 .* w9;"):
        stylegan2_explorer.mix(ws[:1], ws[1:], ["w10"])
    with pytest.raises(InvalidInputError, match=r"unknown layer 'B7'.*fc B1 B2 .*class_B6"):
        biggan_explorer.layout.resolve("B7")


def test_explorers_say_what_they_support(stylegan2_explorer, biggan_explorer):
    assert stylegan2_explorer.max_cutoff == 10 and biggan_explorer.max_cutoff is None
    assert stylegan2_explorer.noise_modes == NOISE_MODES and biggan_explorer.noise_modes == ()
    assert (stylegan2_explorer.n_class, biggan_explorer.n_class) == (0, 1000)
    assert stylegan2_explorer.truncation_name == "psi"
    assert biggan_explorer.truncation_name == "truncation"
    # a cutoff beyond max_cutoff is refused; BigGAN refuses any
    stylegan2_explorer.seed_styles([1], cutoff=stylegan2_explorer.max_cutoff)
    with pytest.raises(InvalidInputError, match="cutoff must be a whole number from 0 to 10"):
        stylegan2_explorer.seed_styles([1], cutoff=stylegan2_explorer.max_cutoff + 1)


def test_a_local_file_has_no_registry_entry_and_gan_kits_psi(stylegan2_explorer):
    assert stylegan2_explorer.entry is None
    assert (stylegan2_explorer.psi_default, stylegan2_explorer.psi_range) == (0.7, (0.5, 1.0))


def test_stylegan2_refuses_classes(stylegan2_explorer):
    with pytest.raises(InvalidInputError, match="stylegan2 models are unconditional"):
        stylegan2_explorer.latents([1], classes=3)


# --- BigGAN -----------------------------------------------------------------------------


def test_biggan_renders_the_reference(biggan_explorer, biggan_reference, biggan_latents):
    images = biggan_explorer.render(biggan_explorer.styles(biggan_latents))
    assert max_error(images.numpy(), biggan_reference["img"]) <= TOLERANCE


def test_biggan_mix_reproduces_the_reference(biggan_explorer, biggan_reference, biggan_latents):
    styles = biggan_explorer.styles(biggan_latents)
    mixed = biggan_explorer.mix(styles[1:2], styles[0:1], ["fc", "B1", "B2"])
    assert torch.equal(mixed, biggan_explorer.mix(styles[1:2], styles[0:1], "coarse"))
    np.testing.assert_array_equal(mixed[:, :140].numpy(), biggan_reference["z_mix"])
    assert torch.equal(mixed[:, 140:], styles[1:2, 140:])  # the class of sample 1
    image = biggan_explorer.render(mixed)
    assert max_error(image.numpy(), biggan_reference["img_mix"]) <= TOLERANCE


def test_biggan_slots(biggan_explorer):
    assert biggan_explorer.slots == (
        "fc",
        *(f"B{i}" for i in range(1, 7)),
        *(f"class_B{i}" for i in range(1, 7)),
    )
    groups = biggan_explorer.slot_groups
    assert groups["coarse"] == ("fc", "B1", "B2")
    assert groups["middle"] == ("B3", "B4")
    assert groups["fine"] == ("B5", "B6")
    assert groups["class"] == tuple(f"class_B{i}" for i in range(1, 7))
    assert groups["z"] == ("fc", *(f"B{i}" for i in range(1, 7)))


def test_biggan_seed_convention(biggan_explorer):
    latents = biggan_explorer.latents([3, 1003])
    assert torch.equal(latents.z, truncated_normal_from_seeds([3, 1003], 140, bound=2.0))
    assert latents.classes.argmax(dim=1).tolist() == [3, 3]  # default: seed % n_class
    assert torch.equal(latents.classes.sum(dim=1), torch.ones(2))
    again = biggan_explorer.latents([3, 1003])
    assert torch.equal(again.z, latents.z)


def test_truncated_z_follows_the_explorers_seed_convention(biggan_explorer):
    """The README's two routes to BigGAN latents give the same z for the same seed."""
    for seed in (0, 5):
        assert torch.equal(truncated_z(1, seed=seed), biggan_explorer.latents([seed]).z)
    styles = biggan_explorer.seed_styles(range(3, 7), psi=0.7)
    assert torch.equal(truncated_z(4, truncation=0.7, seed=3), styles[:, :140])
    assert not torch.equal(truncated_z(4, seed=3), truncated_z(4, seed=4))


def test_a_missing_class_is_the_seeds_default_class(biggan_explorer, stylegan2_explorer):
    assert biggan_explorer.default_class(1003) == 3
    assert stylegan2_explorer.default_class(1003) is None  # unconditional
    latents = biggan_explorer.latents([1003, 4], classes=[None, 7])
    assert latents.classes.argmax(dim=1).tolist() == [3, 7]
    assert torch.equal(latents[0].classes, biggan_explorer.latents([1003]).classes)


def test_biggan_truncation_scales_z(biggan_explorer):
    latents = biggan_explorer.latents([4, 5], classes=7)
    for psi in (0.0, 0.3, 0.8):
        styles = biggan_explorer.styles(latents, psi=psi)
        torch.testing.assert_close(styles[:, :140], psi * latents.z, rtol=0, atol=1e-7)
        assert torch.equal(styles[:, 140:], latents.classes.repeat(1, 6))


def test_biggan_class_blends_and_per_block_classes(biggan_explorer):
    latents = biggan_explorer.latents([9, 9, 9], classes=[3, {3: 0.5, 7: 0.5}, 7])
    assert latents.classes[1, [3, 7]].tolist() == [0.5, 0.5]
    styles = biggan_explorer.styles(latents, psi=0.7)
    fine_class = biggan_explorer.mix(styles[:1], styles[2:], ["class_B5", "class_B6"])
    classes = fine_class[0, 140:].view(6, 1000).argmax(dim=1).tolist()
    assert classes == [3, 3, 3, 3, 7, 7]
    images = biggan_explorer.render(torch.cat([styles, fine_class]))
    pure_3, blend, pure_7, mixed = images
    for other in (pure_3, pure_7, mixed):
        assert (blend - other).abs().max() > 1e-3
    assert (mixed - pure_3).abs().max() > 1e-3


def test_biggan_refuses_cutoff_and_w_space(biggan_explorer):
    latents = biggan_explorer.latents([1, 2])
    with pytest.raises(InvalidInputError, match="cutoff is StyleGAN2's per-layer truncation"):
        biggan_explorer.styles(latents, psi=0.5, cutoff=2)
    with pytest.raises(InvalidInputError, match="biggan models interpolate in z, not 'w'"):
        biggan_explorer.interpolate(latents, 2, space="w")


# --- interpolation ----------------------------------------------------------------------


def test_w_space_path_passes_through_the_keyframes(stylegan2_explorer):
    latents = stylegan2_explorer.latents([1, 2, 3])
    keyframe_styles = stylegan2_explorer.styles(latents, psi=0.7)
    path = stylegan2_explorer.interpolate(latents, 3, space="w", psi=0.7)
    assert len(path) == 7
    assert torch.equal(path[[0, 3, 6]], keyframe_styles)
    torch.testing.assert_close(
        path[1], keyframe_styles[0] + (keyframe_styles[1] - keyframe_styles[0]) / 3
    )


def test_z_space_loop_renders_seamlessly(biggan_explorer):
    latents = biggan_explorer.latents([1, 2], classes=[3, 7])
    path = biggan_explorer.interpolate(latents, 2, loop=True, psi=0.5)
    assert len(path) == 4
    start = biggan_explorer.styles(latents, psi=0.5)
    assert torch.equal(path[0], start[0]) and torch.equal(path[2], start[1])
    middle_class = path[1, 140:1140]
    assert middle_class[[3, 7]].tolist() == [0.5, 0.5]  # classes blend along the way
    closed = biggan_explorer.interpolate(latents[[0, 1, 0]], 2, psi=0.5)
    assert torch.equal(path, closed[:-1]) and torch.equal(closed[-1], path[0])


def test_only_chosen_slots_animate(biggan_explorer):
    # A freshly initialised mapping, since the fixture's maps every z to nearly one w.
    config = StyleGAN2Config(resolution=64, z_dim=8, w_dim=8, channels=(4,) * 5)
    explorer = StyleGAN2Explorer(StyleGAN2Generator(config))
    latents = explorer.latents([1, 2, 3])
    for space in ("z", "w"):
        path = explorer.interpolate(latents, 4, loop=True, layers="fine", space=space)
        first = explorer.styles(latents[0])
        assert torch.equal(path[:, :8], first[:, :8].expand(12, -1, -1))
        assert path[:, 8:].unique(dim=0).shape[0] == 12  # every frame differs in the fine ws

    biggan_path = biggan_explorer.interpolate(biggan_explorer.latents([1, 2]), 3, layers="B6")
    first = biggan_explorer.styles(biggan_explorer.latents([1]))
    assert torch.equal(biggan_path[:, :120], first[:, :120].expand(4, -1))
    assert torch.equal(biggan_path[:, 140:], first[:, 140:].expand(4, -1))
    assert not torch.equal(biggan_path[-1, 120:140], first[0, 120:140])


# --- rendering --------------------------------------------------------------------------


def test_uint8_and_pil_renders_agree(stylegan2_explorer):
    styles = stylegan2_explorer.seed_styles([1, 2, 3, 4, 5], psi=0.7)
    floats = stylegan2_explorer.render(styles)
    arrays = stylegan2_explorer.render_uint8(styles, batch_size=2)
    assert arrays.shape == (5, 64, 64, 3) and arrays.dtype == np.uint8
    expected = (floats.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    assert np.abs(arrays.astype(int) - expected.numpy().astype(int)).max() <= 1
    images = stylegan2_explorer.render_pil(styles[:2])
    assert [image.size for image in images] == [(64, 64)] * 2
    np.testing.assert_array_equal(np.asarray(images[1]), arrays[1])


def test_bad_render_arguments_are_refused(stylegan2_explorer):
    styles = stylegan2_explorer.seed_styles([1])
    with pytest.raises(InvalidInputError, match="noise_mode must be one of const, random"):
        stylegan2_explorer.render(styles, noise_mode="loud")
    for batch_size in (0, 1.5, True):
        with pytest.raises(InvalidInputError, match="batch_size must be a whole number >= 1"):
            stylegan2_explorer.render(styles, batch_size=batch_size)
    for cutoff in (1.5, "3", True, 11):
        with pytest.raises(InvalidInputError, match="cutoff must be a whole number from 0 to 10"):
            stylegan2_explorer.seed_styles([1], cutoff=cutoff)
    with pytest.raises(InvalidInputError, match="psi must be between -1000 and 1000"):
        stylegan2_explorer.seed_styles([1], psi=1e39)
    with pytest.raises(InvalidInputError, match=r"style codes must have shape \[batch, 10, 64\]"):
        stylegan2_explorer.render(styles[:, :4])
    with pytest.raises(InvalidInputError, match="no style codes to render"):
        stylegan2_explorer.render_uint8(styles[:0])


def test_renders_too_large_for_memory_are_refused(stylegan2_explorer, monkeypatch):
    monkeypatch.setattr(explore_memory, "available_host_bytes", lambda: 10 * 64 * 64 * 3)
    styles = stylegan2_explorer.seed_styles(range(11))
    with pytest.raises(OutputTooLargeError, match=r"11 images needs .* GiB of memory is free"):
        stylegan2_explorer.render_uint8(styles)


class RunsOutOfMemory(BigGANExplorer):
    """Pretends that batches larger than `fits` exhaust the GPU."""

    fits = 2
    sizes: list[int]

    def _synthesize(self, styles, noise_mode):
        self.sizes.append(len(styles))
        if len(styles) > self.fits:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return torch.zeros(len(styles), 3, 4, 4)


def test_batches_halve_when_memory_runs_out(biggan_explorer):
    explorer = RunsOutOfMemory(biggan_explorer.generator)
    explorer.sizes = []
    images = explorer.render(biggan_explorer.seed_styles(range(7)), batch_size=5)
    assert len(images) == 7
    assert explorer.sizes == [5, 2, 2, 2, 1]
    explorer.fits, explorer.sizes = 0, []
    with pytest.raises(OutputTooLargeError, match="one 256 px image does not fit"):
        explorer.render(biggan_explorer.seed_styles([1]))


# --- animations -------------------------------------------------------------------------


def test_save_animation_checks_the_file_before_rendering(stylegan2_explorer, tmp_path, monkeypatch):
    rendered = []
    monkeypatch.setattr(stylegan2_explorer, "_synthesize", lambda *args: rendered.append(args))
    styles = stylegan2_explorer.seed_styles([1, 2])
    with pytest.raises(InvalidInputError, match=r"written as \.gif or \.mp4, not"):
        save_animation(stylegan2_explorer, styles, tmp_path / "a.webp")
    with pytest.raises(ExportError, match="does not exist"):
        save_animation(stylegan2_explorer, styles, tmp_path / "missing" / "a.gif")
    with pytest.raises(InvalidInputError, match="GIF fps must be between"):
        save_animation(stylegan2_explorer, styles, tmp_path / "a.gif", fps=500)
    assert rendered == []


def test_save_animation_writes_every_frame(biggan_explorer, tmp_path):
    keyframes = biggan_explorer.latents([1, 2], classes=[3, 7])
    path = biggan_explorer.interpolate(keyframes, 2, loop=True, psi=0.7)
    written = save_animation(biggan_explorer, path, tmp_path / "loop.gif", fps=20)
    with Image.open(written) as gif:
        assert gif.n_frames == 4 and gif.info["duration"] == 50
        gif.seek(2)
        frame = np.asarray(gif.convert("RGB"))
    keyframe = biggan_explorer.render_uint8(biggan_explorer.styles(keyframes[1], psi=0.7))[0]
    assert np.abs(frame.astype(int) - keyframe).mean() < 8  # a 256-colour palette's error


def test_an_animation_clip_holds_the_rendered_frames(biggan_explorer):
    pytest.importorskip("moviepy")
    keyframes = biggan_explorer.latents([1, 2], classes=[3, 7])
    path = biggan_explorer.interpolate(keyframes, 3, loop=True, psi=0.7)
    clip = gan_kit.animation_clip(biggan_explorer, path, fps=12)
    frames = np.stack(list(clip.iter_frames(fps=12, dtype="uint8")))
    assert np.array_equal(frames, biggan_explorer.render_uint8(path)) and clip.fps == 12
    enlarged = gan_kit.animation_clip(biggan_explorer, path[:2], fps=12, scale=2)
    assert enlarged.get_frame(0).shape == (512, 512, 3)
    with pytest.raises(InvalidInputError, match="fps must be a finite number above 0"):
        gan_kit.animation_clip(biggan_explorer, path, fps=0)


def test_latents_index_keeps_the_batch_dimension(biggan_explorer):
    latents = biggan_explorer.latents([5, 6, 7])
    for index, seed in ((0, 5), (np.int64(1), 6), (-1, 7), (-2, 6)):
        picked = latents[index]
        assert len(picked) == 1 and picked.classes.shape == (1, 1000)
        assert torch.equal(picked.z, biggan_explorer.latents([seed]).z)
    assert len(latents[[2, 0]]) == 2 and len(latents[1:]) == 2
