"""The demo: procedural faces, the training recipes, and the export in published formats."""

from __future__ import annotations

import itertools
import json
import pickletools
from pathlib import Path

import numpy as np
import pytest
import torch

import gan_kit
import gan_kit.demo.train as train_module
from gan_kit.demo.export import verify_export
from gan_kit.demo.faces import IMAGE_SIZE, NUM_CLASSES, draw_face, face_batch, to_tensor
from gan_kit.demo.train import (
    MAX_FILE_BYTES,
    BigGANRecipe,
    StyleGAN2Recipe,
    face_seeds,
    main,
)
from gan_kit.generators.biggan import BigGANConfig, BigGANGenerator
from gan_kit.loading.biggan_highcwu import highcwu_layout, largest_singular_value
from gan_kit.loading.biggan_highcwu_writer import highcwu_state_dict, write_highcwu

CPU = torch.device("cpu")


def _train(recipe_class: type, steps: int, seed: int = 0, batch_size: int = 8):
    """A recipe after `steps` steps on the seeded data order, and its losses."""
    recipe = recipe_class(CPU, seed)
    recipe.statistics_batches = 2  # BigGAN's standing statistics: enough for a test
    batches = face_seeds(seed, batch_size)
    losses = []
    for _ in range(steps):
        images, labels = face_batch(next(batches))
        losses.append(recipe.step(to_tensor(images), torch.from_numpy(labels)))
        recipe.update_average(batch_size)
    return recipe, losses


# --- faces ---------------------------------------------------------------------------------


def test_faces_are_deterministic_by_seed() -> None:
    first, first_label = draw_face(123)
    second, second_label = draw_face(123)
    assert np.array_equal(np.asarray(first), np.asarray(second))
    assert first_label == second_label


def test_faces_vary_and_labels_cover_every_class() -> None:
    images, labels = face_batch(range(300))
    assert images.shape == (300, IMAGE_SIZE, IMAGE_SIZE, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert set(labels.tolist()) == set(range(NUM_CLASSES))
    flat = images[:20].reshape(20, -1).astype(np.int16)
    differences = np.abs(flat[:, None] - flat[None]).mean(axis=2)
    assert differences[~np.eye(20, dtype=bool)].min() > 5  # every pair clearly different
    assert images.std(axis=0).mean() > 30  # not one template in changing colours


def test_to_tensor_layout_and_range() -> None:
    images, _ = face_batch([0, 1])
    tensor = to_tensor(images)
    assert tensor.shape == (2, 3, IMAGE_SIZE, IMAGE_SIZE) and tensor.dtype == torch.float32
    assert tensor.min() >= -1 and tensor.max() <= 1
    assert float(tensor[1, 2, 5, 7]) == pytest.approx(images[1, 5, 7, 2] / 127.5 - 1, abs=1e-6)


def test_data_order_is_seeded_epochs() -> None:
    order = face_seeds(7, batch_size=4, dataset_size=10)
    first_epoch = [next(order) for _ in range(2)] + [next(order)[:2]]
    assert sorted(itertools.chain(*first_epoch)) == list(range(10))
    assert next(face_seeds(7, 4, 10)) == first_epoch[0]
    assert next(face_seeds(8, 4, 10)) != first_epoch[0]


# --- training --------------------------------------------------------------------------------


@pytest.mark.parametrize("recipe_class", [StyleGAN2Recipe, BigGANRecipe])
def test_training_is_reproducible_and_finite(recipe_class: type) -> None:
    recipe, losses = _train(recipe_class, steps=2)
    again, losses_again = _train(recipe_class, steps=2)
    assert losses == losses_again
    assert all(np.isfinite(v) for step in losses for v in step.values())
    average, average_again = recipe.average.state_dict(), again.average.state_dict()
    assert all(torch.equal(average[key], average_again[key]) for key in average)
    initial = recipe_class(CPU, 0).generator.state_dict()
    trained = recipe.generator.state_dict()
    assert any(not torch.equal(initial[k], trained[k]) for k in initial)  # it did learn


def test_stylegan2_inference_copy_matches_the_trained_parametrization() -> None:
    recipe, _ = _train(StyleGAN2Recipe, steps=1)
    plain = recipe.inference_generator()
    z = torch.randn(3, plain.z_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = plain(z, noise_mode="const")
    actual = recipe.average(z, noise_mode="const").detach()  # raw weights scaled at run time
    assert torch.allclose(actual, expected, atol=1e-5)


def test_biggan_inference_copy_is_spectrally_normalised() -> None:
    recipe, _ = _train(BigGANRecipe, steps=1)
    plain = recipe.inference_generator()
    kernels = [plain.noise_fc.weight, plain.blocks[0].up_conv.weight.transpose(0, 1)]
    kernels += [plain.blocks[-1].conv.weight, plain.attention.out.weight, plain.final_conv.weight]
    for kernel in kernels:
        assert largest_singular_value(kernel) == pytest.approx(1.0, abs=1e-5)
    assert plain.final_norm.var.min() > 0 and not torch.equal(plain.final_norm.var, torch.ones(16))


# --- export ------------------------------------------------------------------------------------


def test_stylegan2_command_writes_an_nvidia_pickle_that_loads_back(tmp_path: Path) -> None:
    main(["stylegan2", "--out", str(tmp_path), "--steps", "1", "--batch-size", "4"])
    path = tmp_path / "demo-stylegan2.pkl"
    assert 0 < path.stat().st_size <= MAX_FILE_BYTES
    opcodes = itertools.islice(pickletools.genops(path.read_bytes()), 3)
    assert ("GLOBAL", "dnnlib.tflib.network Network") in [(op.name, arg) for op, arg, _ in opcodes]
    report = json.loads((tmp_path / "training.json").read_text())
    assert report["steps"] == 1 and report["export_max_abs_diff"] < 1e-4
    assert (tmp_path / "samples-final.png").is_file()
    loaded = gan_kit.load(path, device="cpu")
    assert loaded.resolution == 64 and loaded.z_dim == 128


def test_stylegan2_export_reproduces_the_generator(tmp_path: Path) -> None:
    recipe, _ = _train(StyleGAN2Recipe, steps=1)
    generator = recipe.inference_generator()
    path = tmp_path / "g.pkl"
    recipe.export(path, generator)
    assert verify_export(path, generator) < 1e-4
    with torch.no_grad():  # the check itself must notice a different generator
        generator.synthesis.blocks[-1].to_rgb.bias.add_(0.1)
    assert verify_export(path, generator) > 0.05


def _random_normalised_biggan(resolution: int, seed: int) -> BigGANGenerator:
    """A small BigGAN with random spectrally normalised kernels and random BN statistics."""
    torch.manual_seed(seed)
    generator = BigGANGenerator(
        BigGANConfig(ch=2, resolution=resolution, n_class=3, attention_block=2)
    )
    with torch.no_grad():
        for name, tensor in generator.state_dict().items():
            if name.endswith(".mean"):
                tensor.normal_(0, 0.1)
            elif name.endswith(".var"):
                tensor.uniform_(0.5, 2)
            elif tensor.dim() >= 2 and not name.startswith("class_embedding"):
                as_conv = tensor.transpose(0, 1) if "up_conv" in name else tensor  # [in, out, ..]
                tensor.div_(largest_singular_value(as_conv))
        generator.attention.sigma.fill_(0.3)
    return generator


def test_biggan_export_has_exactly_the_highcwu_keys_and_shapes() -> None:
    generator = _random_normalised_biggan(64, seed=0)
    state = highcwu_state_dict(generator, statistics_batches=4)
    required, optional = highcwu_layout(generator)
    assert set(state) == set(required) | set(optional)
    for key, tensor in state.items():
        assert tuple(tensor.shape) == {**required, **optional}[key], key
    assert float(state["output_layer_bn.accumulated_counter"]) == 4
    torch.testing.assert_close(
        state["output_layer_bn.accumulated_mean"] / 4, generator.final_norm.mean
    )


def test_biggan_export_round_trips_through_gan_kit_load(tmp_path: Path) -> None:
    generator = _random_normalised_biggan(128, seed=1)
    path = tmp_path / "pytorch_model.bin"
    write_highcwu(path, generator, statistics_batches=3)
    assert verify_export(path, generator) < 1e-4
    with torch.no_grad():
        generator.final_norm.mean.add_(0.5)  # the check notices other BN statistics
    assert verify_export(path, generator) > 1e-2


def test_demo_biggan_export_loads_back(tmp_path: Path) -> None:
    recipe, _ = _train(BigGANRecipe, steps=1)
    generator = recipe.inference_generator()
    path = tmp_path / "demo-biggan.pt"
    recipe.export(path, generator)
    assert path.stat().st_size <= MAX_FILE_BYTES
    assert verify_export(path, generator) < 1e-4


def test_a_broken_export_stops_the_run_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_train(*_args: object) -> None:
        raise AssertionError("trained although the export does not load back")

    monkeypatch.setattr(StyleGAN2Recipe, "step", must_not_train)
    monkeypatch.setattr(train_module, "verify_export", lambda path, generator: 0.5)
    with pytest.raises(RuntimeError, match="loads back as a different generator"):
        train_module.train("stylegan2", tmp_path, steps=3, progress=False)


def test_sample_grids_do_not_change_the_training(tmp_path: Path) -> None:
    def losses(sample_every: int) -> list[dict[str, float]]:
        report = train_module.train(
            "stylegan2",
            tmp_path / str(sample_every),
            steps=2,
            batch_size=4,
            sample_every=sample_every,
            log_every=1,
            progress=False,
        )
        return report.losses

    assert losses(sample_every=1) == losses(sample_every=1000)
    assert (tmp_path / "1" / "samples-000002.png").is_file()
