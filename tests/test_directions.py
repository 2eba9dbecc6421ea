"""Directions (SeFa, GANSpace) and edits on the demo models: orthonormal, deterministic,
cached per model, moving only the chosen slots; bad input refused with clear errors."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

import gan_kit
from gan_kit.directions import Directions, Edit, save_names
from gan_kit.directions.cache import model_folder
from gan_kit.directions.record import max_orthonormality_error
from gan_kit.errors import InvalidInputError

METHODS = {"sefa": gan_kit.sefa, "ganspace": gan_kit.ganspace}


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    """Every test starts from an empty GAN_KIT_CACHE."""
    monkeypatch.setenv("GAN_KIT_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module", params=["demo-stylegan2", "demo-biggan"])
def demo(request):
    return gan_kit.explorer(request.param, device="cpu")


@pytest.mark.parametrize("method", METHODS)
def test_directions_are_orthonormal_and_deterministic(demo, method):
    directions = METHODS[method](demo, slots="coarse", top=6, cache=False)
    assert directions.vectors.shape == (6, demo.direction_dim)
    assert directions.slots == demo.slot_groups["coarse"]
    assert directions.method == method and directions.fingerprint == demo.fingerprint
    assert max_orthonormality_error(directions.vectors) < 1e-5
    again = METHODS[method](demo, slots="coarse", top=6, cache=False)
    assert torch.equal(directions.vectors, again.vectors)
    assert torch.equal(directions.scales, again.scales)
    assert (directions.scales > 0).all()


@pytest.mark.parametrize("method", METHODS)
def test_the_cache_gives_back_the_same_directions(demo, method, tmp_path):
    computed = METHODS[method](demo, slots="coarse", top=4)
    files = list(model_folder(demo.fingerprint).glob("*.safetensors"))
    assert len(files) == 1
    cached = METHODS[method](demo, slots="coarse", top=8)
    assert torch.equal(cached.vectors[:4], computed.vectors)
    files[0].write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}garbage")  # a damaged cache
    with pytest.warns(UserWarning, match="ignoring the cached file"):
        recomputed = METHODS[method](demo, slots="coarse", top=4)
    assert torch.equal(recomputed.vectors, computed.vectors)


def test_a_cached_file_that_is_not_orthonormal_is_recomputed(demo):
    from safetensors.torch import load_file, save_file

    computed = gan_kit.sefa(demo, top=3)
    (path,) = model_folder(demo.fingerprint).glob("*.safetensors")
    tensors = load_file(str(path))
    tensors["vectors"][0] *= 2
    metadata = {"fingerprint": demo.fingerprint, "key": computed.key}
    save_file(tensors, str(path), metadata=metadata)
    with pytest.warns(UserWarning, match="not orthonormal"):
        again = gan_kit.sefa(demo, top=3)
    assert torch.equal(again.vectors, computed.vectors)


def test_edits_move_only_the_chosen_slots(demo):
    directions = gan_kit.sefa(demo, slots="coarse", top=4)
    styles = demo.seed_styles([0, 1, 2], psi=0.7)
    edited = demo.edit(styles, directions, 1, 2.5)
    moved = demo.layout.mask("coarse")
    assert torch.equal(edited[:, ~moved], styles[:, ~moved])  # exactly unchanged
    step = (edited - styles)[:, moved].reshape(3, len(directions.slots), -1)
    expected = directions.vectors[1] * directions.scales[1] * 2.5
    torch.testing.assert_close(step, expected.expand_as(step), atol=1e-5, rtol=1e-5)


def test_edits_compose(demo):
    directions = gan_kit.ganspace(demo, top=3)
    styles = demo.seed_styles([3], psi=0.7)
    twice = demo.edit(demo.edit(styles, directions, 0, 1.0), directions, 2, -1.5)
    records = [directions.edit(0, 1.0), directions.edit(2, -1.5)]
    assert torch.equal(demo.apply_edits(styles, records), twice)
    assert not torch.equal(twice, demo.edit(styles, directions, 0, 1.0))


def test_image_distance_grows_with_the_strength(demo):
    directions = gan_kit.sefa(demo, top=3)
    styles = demo.seed_styles([5], psi=0.7)
    start = demo.render(styles)
    for index in range(3):
        for sign in (-1, 1):
            edited = torch.cat(
                [demo.edit(styles, directions, index, sign * s) for s in (0.5, 1, 2, 3)]
            )
            distances = (demo.render(edited) - start).abs().mean(dim=(1, 2, 3)).tolist()
            assert distances[0] > 0
            assert distances == sorted(distances), (index, sign, distances)


def test_keep_projects_the_direction_off_another(demo):
    sefa = gan_kit.sefa(demo, top=4)
    ganspace = gan_kit.ganspace(demo, top=4)
    free = sefa.edit(0, 1.0)
    kept = sefa.edit(0, 1.0, keep=[(ganspace, 0), (ganspace, 1)])
    for index in (0, 1):
        assert abs(float(torch.tensor(kept.vector) @ ganspace.vectors[index])) < 1e-5
    assert abs(float(torch.tensor(free.vector) @ ganspace.vectors[0])) > 1e-3
    styles = demo.seed_styles([0], psi=0.7)
    edited = demo.edit(styles, sefa, 0, 3.0, keep=[(ganspace, 0)])
    along = (edited - styles)[:, demo.layout.mask(sefa.slots)].reshape(len(sefa.slots), -1)
    assert (along @ ganspace.vectors[0]).abs().max() < 1e-4


def test_names_are_saved_per_model_and_come_back(demo):
    directions = gan_kit.sefa(demo, slots="coarse", top=4).with_names({0: "hair colour"})
    assert directions.label(0) == "hair colour" and directions.label(1) == "sefa 1"
    path = save_names(directions)
    assert path.parent == model_folder(demo.fingerprint)
    again = gan_kit.sefa(demo, slots="coarse", top=4)
    assert again.names == ("hair colour", None, None, None)
    assert gan_kit.sefa(demo, slots="middle", top=4).names is None  # other directions
    assert directions.edit(0, 1.0).name == "hair colour"
    path.write_text(json.dumps({directions.key: {"0": "x" * 5000}}))  # hostile names
    with pytest.warns(UserWarning, match="ignoring the cached file"):
        assert gan_kit.sefa(demo, slots="coarse", top=4).names is None


def test_edit_records_round_trip_through_json(demo):
    directions = gan_kit.ganspace(demo, slots="coarse", top=2).with_names(["tilt", None])
    edit = directions.edit(0, -2.0)
    again = Edit.from_dict(json.loads(json.dumps(edit.to_dict())))
    assert again == edit
    styles = demo.seed_styles([1], psi=0.7)
    assert torch.equal(demo.apply_edits(styles, [again]), demo.edit(styles, directions, 0, -2.0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vector": [1.0, "x"]}, "vector must be a list of finite numbers"),
        ({"strength": float("nan")}, "strength must be a finite number"),
        ({"strength": 1e9}, "strength must be between"),
        ({"index": -1}, "index must be a whole number"),
        ({"slots": []}, "slots must be a list of slot names"),
        ({"extra": 1}, "must have exactly the fields"),
    ],
)
def test_hostile_edit_records_are_refused(demo, change, message):
    data = {**gan_kit.sefa(demo, top=1).edit(0, 1.0).to_dict(), **change}
    with pytest.raises(InvalidInputError, match=message):
        Edit.from_dict(data)


def test_bad_input_gets_clear_errors(demo):
    directions = gan_kit.sefa(demo, top=2)
    styles = demo.seed_styles([0])
    with pytest.raises(InvalidInputError, match="unknown layer 'w99'"):
        gan_kit.sefa(demo, slots="w99")
    with pytest.raises(InvalidInputError, match=f"top must be .* 1 to {demo.direction_dim}.*513"):
        gan_kit.ganspace(demo, top=513)
    with pytest.raises(InvalidInputError, match="samples must be"):
        gan_kit.ganspace(demo, samples=1)
    for strength in (float("nan"), float("inf"), 1e6, "2"):
        with pytest.raises(InvalidInputError, match="strength"):
            demo.edit(styles, directions, 0, strength)
    with pytest.raises(InvalidInputError, match=r"direction index must be .* 0 to 1, got 2"):
        demo.edit(styles, directions, 2, 1.0)


def test_biggan_directions_move_z_chunks_only():
    ex = gan_kit.explorer("demo-biggan", device="cpu")
    with pytest.raises(InvalidInputError, match="B1 class_B1 is not inside one"):
        gan_kit.sefa(ex, slots=["B1", "class_B1"])


def test_directions_of_another_model_are_refused():
    stylegan2 = gan_kit.explorer("demo-stylegan2", device="cpu")
    biggan = gan_kit.explorer("demo-biggan", device="cpu")
    foreign = gan_kit.sefa(biggan, top=2)
    with pytest.raises(InvalidInputError, match="has 20 dimensions, this model's slots 128"):
        stylegan2.edit(stylegan2.seed_styles([0]), foreign, 0, 1.0)
    other = gan_kit.explorer("demo-stylegan2", device="cpu")
    with torch.no_grad():
        other.generator.mapping.layers[0].weight[0, 0] += 1  # another model of the same shape
    own = gan_kit.sefa(stylegan2, top=2)
    with pytest.raises(InvalidInputError, match=rf"fingerprint {stylegan2.fingerprint}, not"):
        other.edit(other.seed_styles([0]), own, 0, 1.0)
    with pytest.raises(InvalidInputError, match="from the model with fingerprint"):
        own.edit(0, 1.0, keep=[(gan_kit.sefa(other, top=2), 0)])


def test_directions_hold_no_pickle(demo):
    gan_kit.sefa(demo, top=1)
    (path,) = model_folder(demo.fingerprint).glob("*.safetensors")
    assert b"\x80\x04" not in path.read_bytes()[:8]  # a safetensors header, not a pickle
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(gan_kit.sefa(demo, top=1), Directions)
