"""The pure latent math: seeds, truncation, interpolation paths, slots and class specs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_kit.errors import InvalidInputError
from gan_kit.latents.classes import (
    class_vector,
    format_class,
    normalised_class,
    parse_class,
    per_sample_classes,
)
from gan_kit.latents.interpolation import interpolate, lerp, path_positions, slerp
from gan_kit.latents.seeds import MAX_SEED, truncated_normal_from_seeds, z_from_seeds
from gan_kit.latents.slots import SlotLayout, resolution_group
from gan_kit.latents.truncation import truncate


def keyframes(count: int, dim: int = 8) -> torch.Tensor:
    return torch.randn(count, dim, generator=torch.Generator().manual_seed(count))


# --- seeds ------------------------------------------------------------------------------


def test_truncated_normal_follows_the_documented_draws():
    seed, dim = 7, 140
    state = np.random.RandomState(seed)
    expected = state.randn(dim)
    while (np.abs(expected) > 2).any():
        outside = np.abs(expected) > 2
        expected[outside] = state.randn(int(outside.sum()))
    z = truncated_normal_from_seeds([seed, 8], dim)
    assert z.dtype == torch.float32 and z.shape == (2, dim)
    np.testing.assert_array_equal(z[0].numpy(), expected.astype(np.float32))
    assert z.abs().max() <= 2
    assert not torch.equal(z[0], z[1])


def test_truncated_normal_redraws_every_value_outside_the_bound():
    z = truncated_normal_from_seeds(range(20), 140, bound=0.5)
    assert z.abs().max() <= 0.5
    untruncated = torch.from_numpy(np.random.RandomState(0).randn(140).astype(np.float32))
    assert (untruncated.abs() > 0.5).any()  # so redrawing did happen


@pytest.mark.parametrize("bad", [-1, MAX_SEED + 1, 1.5, True, "3"])
def test_bad_seeds_are_refused(bad):
    with pytest.raises(InvalidInputError, match="seeds must be integers from 0"):
        truncated_normal_from_seeds([0, bad], 4)
    with pytest.raises(InvalidInputError, match="seeds must be integers from 0"):
        z_from_seeds([bad], 4)


def test_no_seeds_is_refused():
    with pytest.raises(InvalidInputError, match="at least one seed"):
        truncated_normal_from_seeds([], 4)


# --- truncation -------------------------------------------------------------------------


def test_truncation_endpoints_are_exact_and_cutoff_limits_it():
    ws = torch.randn(2, 6, 4)
    centre = torch.randn(4)
    assert torch.equal(truncate(ws, centre, 1.0), ws)
    assert torch.equal(truncate(ws, centre, 0.0), centre.expand_as(ws))
    half = truncate(ws, centre, 0.5, cutoff=2)
    torch.testing.assert_close(half[:, :2], centre + 0.5 * (ws[:, :2] - centre))
    assert torch.equal(half[:, 2:], ws[:, 2:])
    exaggerated = truncate(ws, centre, 1.5)
    torch.testing.assert_close(exaggerated, centre + 1.5 * (ws - centre))


def test_truncation_takes_one_psi_per_sample():
    z = torch.randn(3, 5)
    scaled = truncate(z, 0.0, [0.0, 0.5, 2.0])
    torch.testing.assert_close(scaled, z * torch.tensor([[0.0], [0.5], [2.0]]))


@pytest.mark.parametrize("psi", [math.nan, math.inf, "0.5", None])
def test_non_finite_psi_is_refused(psi):
    with pytest.raises(InvalidInputError, match="psi must be a finite number"):
        truncate(torch.zeros(1, 2), 0.0, psi)


def test_cutoff_out_of_range_is_refused():
    with pytest.raises(InvalidInputError, match="cutoff must be a whole number from 0 to 6"):
        truncate(torch.zeros(1, 6, 2), 0.0, 0.5, cutoff=7)


# --- interpolation ----------------------------------------------------------------------


@pytest.mark.parametrize("method", [lerp, slerp])
def test_interpolation_endpoints_are_exact(method):
    a, b = keyframes(2)
    t = torch.tensor([0.0, 1.0])
    path = method(torch.stack([a, a]), torch.stack([b, b]), t)
    assert torch.equal(path[0], a)
    torch.testing.assert_close(path[1], b)


def test_slerp_follows_the_great_circle():
    a = torch.tensor([[1.0, 0.0]])
    b = torch.tensor([[0.0, 1.0]])
    middle = slerp(a, b, torch.tensor([0.5]))
    torch.testing.assert_close(middle, torch.tensor([[math.sqrt(0.5), math.sqrt(0.5)]]))
    same = slerp(a, 2 * a, torch.tensor([0.5]))  # parallel: falls back to lerp
    torch.testing.assert_close(same, 1.5 * a)


def test_open_path_frame_count_and_ends():
    frames = keyframes(3)
    path = interpolate(frames, 4)
    assert len(path) == (3 - 1) * 4 + 1
    assert torch.equal(path[0], frames[0])
    assert torch.equal(path[4], frames[1])
    assert torch.equal(path[-1], frames[2])


@pytest.mark.parametrize("method", ["lerp", "slerp"])
@pytest.mark.parametrize("easing", ["linear", "ease-in-out"])
def test_loop_closes_without_seam_or_repeated_frame(method, easing):
    frames = keyframes(3)
    loop = interpolate(frames, 5, loop=True, method=method, easing=easing)
    assert len(loop) == 3 * 5
    # The loop is the open path through the keyframes and back to the first, minus its
    # last frame: so the frame after the last one is exactly the first.
    closed = interpolate(torch.cat([frames, frames[:1]]), 5, method=method, easing=easing)
    assert torch.equal(loop, closed[:-1])
    assert torch.equal(closed[-1], loop[0])
    assert not torch.equal(loop[-1], loop[0])


def test_easing_shapes_the_timing():
    _, _, linear = path_positions(2, 8)
    _, _, eased = path_positions(2, 8, easing="ease-in-out")
    assert linear[:-1].tolist() == [i / 8 for i in range(8)]
    assert eased[0] == 0 and math.isclose(eased[4], 0.5)
    assert eased[1] < linear[1] and eased[7] > linear[7]  # slow at both keyframes
    assert (eased[1:-1].diff() > 0).all()
    _, _, ease_in = path_positions(2, 4, easing="ease-in")
    assert ease_in[:-1].tolist() == [0.0, 1 / 16, 4 / 16, 9 / 16]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"frames_per_segment": 0}, "frames per segment must be a whole number >= 1"),
        ({"frames_per_segment": 2.5}, "frames per segment must be a whole number >= 1"),
        ({"easing": "bounce"}, "unknown easing 'bounce'; use one of linear, ease-in"),
        ({"method": "cubic"}, "unknown interpolation 'cubic'; use one of lerp, slerp"),
    ],
)
def test_bad_path_arguments_are_refused(arguments, message):
    options = {"frames_per_segment": 3, **arguments}
    with pytest.raises(InvalidInputError, match=message):
        interpolate(keyframes(2), **options)


def test_a_path_needs_two_keyframes():
    with pytest.raises(InvalidInputError, match="at least 2 keyframes"):
        interpolate(keyframes(1), 3, loop=True)


# --- slots ------------------------------------------------------------------------------


@pytest.fixture()
def layout() -> SlotLayout:
    return SlotLayout(
        shape=(3, 2),
        regions={"w0": (0,), "w1": (1,), "w2": (2,)},
        groups={"coarse": ("w0", "w1"), "fine": ("w2",)},
    )


def test_resolution_groups_follow_the_stylegan_paper():
    assert [resolution_group(2**k) for k in range(2, 10)] == (
        ["coarse"] * 2 + ["middle"] * 2 + ["fine"] * 4
    )


def test_layers_resolve_to_slots_in_model_order(layout):
    assert layout.resolve(["fine", "w0"]) == ("w0", "w2")
    assert layout.resolve("coarse") == ("w0", "w1")
    assert layout.mask("fine").tolist() == [[False, False], [False, False], [True, True]]


def test_mix_takes_the_named_slots_from_b(layout):
    a, b = torch.zeros(2, 3, 2), torch.ones(1, 3, 2)
    mixed = layout.mix(a, b, ["w1"])
    assert mixed.shape == (2, 3, 2)
    assert mixed[:, 1].eq(1).all() and mixed[:, [0, 2]].eq(0).all()


def test_unknown_layers_are_refused_with_the_valid_names(layout):
    with pytest.raises(InvalidInputError) as error:
        layout.resolve(["w0", "toRGB"])
    assert "unknown layer 'toRGB'" in str(error.value)
    assert "slots: w0 w1 w2; groups: coarse = w0 w1; fine = w2" in str(error.value)
    with pytest.raises(InvalidInputError, match="at least one layer"):
        layout.resolve([])


def test_mix_refuses_codes_of_another_shape(layout):
    with pytest.raises(InvalidInputError, match="style codes must have shape"):
        layout.mix(torch.zeros(1, 3, 2), torch.zeros(1, 2, 2), "w0")


# --- classes ----------------------------------------------------------------------------


def test_class_specs_normalise_and_round_trip_as_text():
    assert normalised_class(3, 10) == 3
    assert normalised_class({"3": 0.25, 7: 0.75}, 10) == {3: 0.25, 7: 0.75}
    vector = torch.zeros(10)
    vector[[2, 5]] = torch.tensor([0.5, 0.5])
    assert normalised_class(vector, 10) == {2: 0.5, 5: 0.5}
    for choice in (4, {3: 0.5, 7: 0.5}):
        assert parse_class(format_class(choice)) == choice
    assert class_vector({3: 0.5, 7: 0.5}, 10).tolist() == [0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0]


def test_per_sample_classes_repeat_one_or_take_one_each():
    assert per_sample_classes(2, 3, 10) == [2, 2, 2]
    assert per_sample_classes([1, {2: 1.0}, 3], 3, 10) == [1, {2: 1.0}, 3]
    with pytest.raises(InvalidInputError, match="one per sample"):
        per_sample_classes([1, 2], 3, 10)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (10, r"class indices must be in 0\.\.9"),
        (-1, r"class indices must be in 0\.\.9"),
        ({3: math.nan}, "class weights must be finite"),
        ({}, "at least one class"),
        (torch.zeros(4), "needs 10 values"),
        ("cat", "a class is an index"),
    ],
)
def test_bad_class_specs_are_refused(spec, message):
    with pytest.raises(InvalidInputError, match=message):
        normalised_class(spec, 10)


@pytest.mark.parametrize("text", ["x", "3:a", "3:0.5+", "1:2:3"])
def test_unreadable_class_text_is_refused(text):
    with pytest.raises(InvalidInputError, match="cannot read the class"):
        parse_class(text)
