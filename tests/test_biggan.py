"""The anime BigGAN (run39): conformance from both published formats, the conditioning
API, folded spectral norm, standing statistics, and the errors for damaged files."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tf_bundle_writer import write_tensor_bundle

import gan_kit
from gan_kit.errors import (
    CheckpointMismatchError,
    CorruptCheckpointError,
    InvalidInputError,
    UnsafePickleError,
    UnsupportedCheckpointError,
)
from gan_kit.generators.biggan import BigGANConfig, BigGANGenerator, truncated_z
from gan_kit.loading.biggan_highcwu import build_from_state_dict, largest_singular_value
from gan_kit.loading.crc32c import crc32c
from gan_kit.loading.tf_bundle import TensorBundle, find_prefix
from gan_kit.zoo import StandingStatisticsCache

TOLERANCE = 1e-4
EMA = "/ExponentialMovingAverage"


@pytest.fixture(scope="module")
def tf_dir(conformance_dir: Path) -> Path:
    return conformance_dir / "biggan_tiny_tf"


@pytest.fixture(scope="module")
def generator(biggan_checkpoint: Path) -> BigGANGenerator:
    return gan_kit.load(biggan_checkpoint, device="cpu")


@pytest.fixture()
def state_dict(biggan_checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(biggan_checkpoint, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def tf_arrays(tf_dir: Path) -> dict[str, np.ndarray]:
    bundle = TensorBundle(find_prefix(tf_dir))
    return {name: bundle.read(name) for name in bundle.entries}


@pytest.fixture()
def tf_copy(tf_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the TF checkpoint folder; returns its prefix."""
    folder = tmp_path / "tf"
    shutil.copytree(tf_dir, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder / "model.ckpt-607250"


def images(generator: BigGANGenerator, z, y) -> np.ndarray:
    with torch.no_grad():
        return generator(torch.as_tensor(z), y).cpu().numpy()


def max_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max())


# --- conformance -------------------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_reference(biggan_checkpoint, biggan_reference, monkeypatch):
    # cuDNN may use TF32 for float32 convolutions (PyTorch's default): compare in full float32.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    G = gan_kit.load(biggan_checkpoint, device="cuda")
    classes = torch.from_numpy(biggan_reference["classes"]).cuda()
    assert (
        max_error(images(G, biggan_reference["z"], classes), biggan_reference["img"]) <= TOLERANCE
    )


@pytest.mark.parametrize("checkpoint", ["biggan_tiny.bin", "biggan_tiny_tf", "prefix", "index"])
def test_reproduces_reference_images(checkpoint, conformance_dir, biggan_reference):
    path = {
        "prefix": conformance_dir / "biggan_tiny_tf" / "model.ckpt-607250",
        "index": conformance_dir / "biggan_tiny_tf" / "model.ckpt-607250.index",
    }.get(checkpoint, conformance_dir / checkpoint)
    G = gan_kit.load(path, device="cpu")
    assert (G.z_dim, G.num_chunks, G.chunk_size, G.n_class, G.resolution) == (140, 7, 20, 1000, 256)
    one_hot = F.one_hot(torch.from_numpy(biggan_reference["classes"]), G.n_class).float()
    assert (
        max_error(images(G, biggan_reference["z"], one_hot), biggan_reference["img"]) <= TOLERANCE
    )
    # Per-chunk mixing: chunks 0..2 (fc, B1, B2) of sample 0, the rest and the class of 1.
    z = biggan_reference["z"]
    z_mix = np.concatenate([z[:1, : 3 * G.chunk_size], z[1:2, 3 * G.chunk_size :]], axis=1)
    np.testing.assert_array_equal(z_mix, biggan_reference["z_mix"])
    mixed = images(G, z_mix, torch.from_numpy(biggan_reference["classes"][1:2]))
    assert max_error(mixed, biggan_reference["img_mix"]) <= TOLERANCE


def test_tf_checkpoint_uses_the_moving_averages_not_the_decoys(
    tf_arrays, tf_copy, biggan_reference
):
    def reference_error(arrays: dict[str, np.ndarray]) -> float:
        prefix = tf_copy.parent / "rewritten.ckpt-1"
        write_tensor_bundle(prefix, arrays)
        G = gan_kit.load(prefix, device="cpu")
        return max_error(
            images(G, biggan_reference["z"], biggan_reference["classes"]), biggan_reference["img"]
        )

    # Same checkpoint without the EMA copies: the raw (decoy) values are then the weights.
    raw_only = {n: a for n, a in tf_arrays.items() if not n.endswith(EMA)}
    assert reference_error(raw_only) > 0.01
    # ...and with the EMA values in the raw slots, the reference images come back.
    assert (
        reference_error({n: tf_arrays.get(f"{n}{EMA}", a) for n, a in raw_only.items()})
        <= TOLERANCE
    )
    # A checkpoint that kept only the moving averages loads too.
    ema_only = {n: a for n, a in tf_arrays.items() if f"{n}{EMA}" not in tf_arrays}
    assert reference_error(ema_only) <= TOLERANCE


# --- conditioning API --------------------------------------------------------------------


def block_conditions(G: BigGANGenerator, z, y) -> list[torch.Tensor]:
    """The condition vector each block receives for G(z, y)."""
    seen: list[torch.Tensor] = []
    hooks = [b.register_forward_pre_hook(lambda _, args: seen.append(args[1])) for b in G.blocks]
    try:
        images(G, z, y)
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def test_class_indices_equal_one_hot(generator, biggan_reference):
    z, classes = biggan_reference["z"], torch.from_numpy(biggan_reference["classes"])
    by_index = images(generator, z, classes)
    by_one_hot = images(generator, z, F.one_hot(classes, generator.n_class).float())
    assert max_error(by_index, by_one_hot) <= 1e-6


def test_soft_mixture_embeds_the_mixture_of_classes(generator, biggan_reference):
    G, z = generator, biggan_reference["z"][:1]
    mixture = torch.zeros(1, G.n_class)
    mixture[0, 3], mixture[0, 700] = 0.25, 0.75
    expected = 0.25 * G.class_embedding.weight[:, 3] + 0.75 * G.class_embedding.weight[:, 700]
    for condition in block_conditions(G, z, mixture):
        torch.testing.assert_close(condition[0, G.chunk_size :], expected)
    soft = images(G, z, mixture)
    assert max_error(soft, images(G, z, torch.tensor([3]))) > 1e-3
    assert max_error(soft, images(G, z, torch.tensor([700]))) > 1e-3


def test_each_block_gets_its_own_z_chunk_and_class(generator, biggan_reference):
    G, z = generator, torch.from_numpy(biggan_reference["z"][:2])
    per_block = torch.tensor([[10, 11, 12, 13, 14, 15], [20, 21, 22, 23, 24, 25]])
    conditions = block_conditions(G, z, per_block)
    for k, condition in enumerate(conditions):
        torch.testing.assert_close(
            condition[:, : G.chunk_size], z[:, G.chunk_size * (k + 1) :][:, : G.chunk_size]
        )
        torch.testing.assert_close(
            condition[:, G.chunk_size :], G.class_embedding.weight.T[per_block[:, k]]
        )
    # The same classes as [B, blocks, n_class] vectors and as a list of per-block labels.
    as_vectors = images(G, z, F.one_hot(per_block, G.n_class).float())
    as_list = images(G, z, [per_block[:, k] for k in range(G.num_blocks)])
    reference_images = images(G, z, per_block)
    assert max_error(as_vectors, reference_images) <= 1e-6
    assert max_error(as_list, reference_images) <= 1e-6
    # One class repeated in every block is the plain call.
    same = images(G, z, per_block[:, :1].repeat(1, G.num_blocks))
    assert max_error(same, images(G, z, per_block[:, 0])) <= 1e-6


def test_a_single_class_is_broadcast_and_plain_lists_are_indices(generator, biggan_reference):
    z = biggan_reference["z"]
    expected = images(generator, z, torch.full((3,), 42))
    assert max_error(images(generator, z, torch.tensor([42])), expected) <= 1e-6
    assert max_error(images(generator, z, [42, 42, 42]), expected) <= 1e-6
    assert max_error(images(generator, z, np.array([42])), expected) <= 1e-6


def test_empty_accumulators_warn_and_give_identity_statistics(state_dict):
    for key in [k for k in state_dict if k.endswith("accumulated_counter")]:
        state_dict[key] = torch.tensor([1e-12])  # compare_gan's never-filled accumulators
    with pytest.warns(UserWarning, match=r"no batch-norm statistics.*recompute_standing_stats"):
        G = build_from_state_dict(state_dict)
    for module in G.standing_statistics_modules().values():
        assert torch.equal(module.mean, torch.zeros_like(module.mean))
        assert torch.equal(module.var, torch.ones_like(module.var))


@pytest.mark.parametrize(
    ("z_shape", "y", "message"),
    [
        ((2, 139), torch.tensor([1, 2]), r"z must be \[batch, 140\], got \[2, 139\]: its second"),
        ((4, 2, 140), torch.tensor([1, 2]), r"z must be \[batch, 140\], got 3 dimensions"),
        ((2, 140), torch.tensor([1, 1000]), r"class indices must be in 0\.\.999"),
        ((2, 140), torch.zeros(2, 999), r"class vectors \[B, 1000\]"),
        ((2, 140), [torch.tensor([1, 2])] * 5, r"needs 6 items"),
        ((2, 140), torch.tensor([1, 2, 3]), r"y has batch 3 but z has batch 2"),
    ],
)
def test_bad_call_arguments_raise_invalid_input(generator, z_shape, y, message):
    with pytest.raises(InvalidInputError, match=message):
        generator(torch.zeros(z_shape), y)


# --- spectral norm -----------------------------------------------------------------------


def test_spectral_norm_is_folded_into_the_weights(generator, state_dict):
    normalised = [
        # up_conv holds the transposed-conv layout [in, out, kh, kw]: view it as [out, in, ...]
        p.transpose(0, 1) if ".up_conv." in n else p
        for n, p in generator.named_parameters()
        if n.endswith("weight") and p.dim() >= 2 and not n.startswith("class_embedding")
    ]
    assert len(normalised) == 4 * 6 + 3 * 6 + 4 + 2  # cBN gamma/beta, convs, attention, fc+out
    for weight in normalised:
        assert largest_singular_value(weight) == pytest.approx(1.0, abs=1e-5)
    # The class embedding has no spectral norm: taken as stored.
    assert torch.equal(generator.class_embedding.weight, state_dict["embed_y.weight"])


def test_stored_u_vectors_are_not_used(state_dict, biggan_reference, biggan_checkpoint):
    expected = images(
        gan_kit.load(biggan_checkpoint, device="cpu"),
        biggan_reference["z"],
        biggan_reference["classes"],
    )
    for key in [k for k in state_dict if k.endswith("weight_u")]:
        state_dict[key] = torch.randn_like(state_dict[key])
    scrambled = build_from_state_dict(state_dict)
    assert (
        max_error(images(scrambled, biggan_reference["z"], biggan_reference["classes"]), expected)
        == 0
    )
    without_u = build_from_state_dict({k: v for k, v in state_dict.items() if "weight_u" not in k})
    assert (
        max_error(images(without_u, biggan_reference["z"], biggan_reference["classes"]), expected)
        == 0
    )


def test_gradients_flow_through_the_generator():
    G = BigGANGenerator(
        BigGANConfig(ch=2, resolution=64, n_class=5, attention_block=3)
    ).requires_grad_(True)
    images = G(truncated_z(2, seed=0, z_dim=G.z_dim), torch.tensor([0, 3]))
    images.mean().backward()
    assert G.final_conv.weight.grad is not None and G.final_conv.weight.grad.abs().sum() > 0
    assert G.class_embedding.weight.grad.abs().sum() > 0


def test_forward_changes_no_state(generator, biggan_reference):
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    first = images(generator, biggan_reference["z"][:1], torch.tensor([5]))
    second = images(generator, biggan_reference["z"][:1], torch.tensor([5]))
    assert max_error(first, second) == 0
    for key, value in generator.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_full_size_generator_has_the_published_parameter_count():
    G = BigGANGenerator(BigGANConfig(ch=96, resolution=256, n_class=1000, chunk_size=20))
    assert sum(p.numel() for p in G.parameters()) == 82_097_604
    assert G.channels == [1536, 1536, 768, 768, 384, 192, 96]


# --- standing statistics ------------------------------------------------------------------


@pytest.fixture()
def stats_cache(tmp_path: Path, monkeypatch) -> StandingStatisticsCache:
    """The zoo's cache of standing statistics, under a fresh GAN_KIT_CACHE."""
    monkeypatch.setenv("GAN_KIT_CACHE", str(tmp_path / "gan_kit"))
    return StandingStatisticsCache()


def fc_moments(state_dict, z_batches) -> tuple[torch.Tensor, torch.Tensor]:
    """Expected standing stats of the first BN: the moments of the dense layer's output,
    computed from the HighCWu tensors (NHWC reshape, exact spectral norm)."""
    weight = state_dict["noise_fc.weight"].double()
    weight = weight / torch.linalg.matrix_norm(weight, ord=2)
    means, variances = [], []
    for z in z_batches:
        out = z[:, :20].double() @ weight.T + state_dict["noise_fc.module.bias"].double()
        out = out.reshape(len(z), 4, 4, -1)
        means.append(out.mean((0, 1, 2)))
        variances.append(out.var((0, 1, 2), unbiased=False))
    return torch.stack(means).mean(0).float(), torch.stack(variances).mean(0).float()


def test_recompute_standing_stats_and_reuse_the_cache(
    biggan_checkpoint, state_dict, biggan_reference, stats_cache, tmp_path, monkeypatch
):
    G = gan_kit.load(biggan_checkpoint, device="cpu")
    before = images(G, biggan_reference["z"][:1], torch.tensor([1]))
    settings = {"n_samples": 8, "truncation": 0.5, "batch_size": 4, "seed": 3}
    G.recompute_standing_stats(**settings, progress=False, cache=stats_cache)
    key = G.standing_statistics_key(**settings)
    assert key.endswith("-n8-t0.5-b4-seed3")
    assert [p.name for p in (tmp_path / "gan_kit" / "standing_stats").iterdir()] == [f"{key}.pt"]

    sampler = torch.Generator().manual_seed(3)
    z_batches = []
    for _ in range(2):
        z_batches.append(truncated_z(4, 0.5, sampler))
        torch.randint(1000, (4,), generator=sampler)  # the classes drawn in between
    assert all(float(z.abs().max()) <= 1.0 for z in z_batches)
    mean, var = fc_moments(state_dict, z_batches)
    torch.testing.assert_close(G.blocks[0].norm1.mean, mean, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(G.blocks[0].norm1.var, var, rtol=1e-4, atol=1e-5)
    after = images(G, biggan_reference["z"][:1], torch.tensor([1]))
    assert max_error(before, after) > 1e-3

    # A fresh load with the same arguments reads the cache instead of sampling; its key
    # does not depend on the statistics in use, nor on where the weights came from.
    reloaded = gan_kit.load(biggan_checkpoint.parent / "biggan_tiny_tf", device="cpu")
    assert reloaded.standing_statistics_key(**settings) == key

    def fail(*args, **kwargs):
        raise AssertionError("recomputed instead of reading the cache")

    monkeypatch.setattr(reloaded, "collect_standing_statistics", fail)
    reloaded.recompute_standing_stats(**settings, progress=False, cache=stats_cache)
    assert max_error(images(reloaded, biggan_reference["z"][:1], torch.tensor([1])), after) == 0
    with pytest.raises(AssertionError, match="recomputed"):
        reloaded.recompute_standing_stats(**{**settings, "seed": 4}, progress=False, cache={})


def test_any_mapping_caches_standing_stats_by_weights_and_settings(state_dict):
    G = build_from_state_dict(state_dict)
    memory: dict = {}
    G.recompute_standing_stats(4, batch_size=4, progress=False, cache=memory)
    (key,) = memory
    assert key == G.standing_statistics_key(4, 1.0, 4, 0)
    fresh = build_from_state_dict(state_dict)
    fresh.recompute_standing_stats(4, batch_size=4, progress=False)
    for name, module in fresh.standing_statistics_modules().items():
        assert torch.equal(module.mean, memory[key][name]["mean"])
    other = build_from_state_dict(
        {**state_dict, "noise_fc.module.bias": state_dict["noise_fc.module.bias"] + 1}
    )
    assert other.standing_statistics_key(4, 1.0, 4, 0) != key  # other weights, other key
    with pytest.raises(InvalidInputError, match="of another BigGAN"):
        G.set_standing_statistics({"final_norm": memory[key]["final_norm"]})


def test_standing_stats_cache_is_written_atomically(state_dict, stats_cache, monkeypatch):
    G = build_from_state_dict(state_dict)
    real_save = torch.save

    def save_then_fail(payload, file, *args, **kwargs):
        Path(file).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", save_then_fail)
    with pytest.warns(UserWarning, match="in use but could not be cached.*disk full"):
        G.recompute_standing_stats(4, batch_size=4, progress=False, cache=stats_cache)
    assert list(stats_cache.folder.iterdir()) == []  # no partial cache, no temporary file left
    monkeypatch.setattr(torch, "save", real_save)
    G.recompute_standing_stats(4, batch_size=4, progress=False, cache=stats_cache)
    assert list(stats_cache.folder.iterdir()) == [
        stats_cache.path(G.standing_statistics_key(4, 1.0, 4, 0))
    ]


def test_a_damaged_or_unwritable_stats_cache_is_not_fatal(state_dict, stats_cache, tmp_path):
    G = build_from_state_dict(state_dict)
    key = G.standing_statistics_key(4, 1.0, 4, 0)
    stats_cache.folder.mkdir(parents=True)
    stats_cache.path(key).write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="ignoring unreadable standing statistics"):
        G.recompute_standing_stats(4, batch_size=4, progress=False, cache=stats_cache)
    assert stats_cache.get(key) is not None  # recomputed and kept
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.warns(UserWarning, match="set GAN_KIT_CACHE to a writable folder"):
        G.recompute_standing_stats(
            4, batch_size=4, progress=False, cache=StandingStatisticsCache(blocker / "stats")
        )


def test_standing_stats_need_whole_batches(generator):
    with pytest.raises(InvalidInputError, match="multiple of batch_size"):
        generator.recompute_standing_stats(10, batch_size=4, progress=False)


# --- bad input: PyTorch files -----------------------------------------------------------------


def test_state_dict_of_another_architecture(tmp_path):
    other = tmp_path / "stylegan.pt"
    torch.save(
        {"mapping.fc0.weight": torch.zeros(4, 4), "synthesis.b4.const": torch.zeros(4)}, other
    )
    with pytest.raises(UnsupportedCheckpointError, match="not a checkpoint format gan_kit reads"):
        gan_kit.load(other)
    with pytest.raises(UnsupportedCheckpointError, match=r"another architecture.*mapping\.fc0"):
        build_from_state_dict(torch.load(other, weights_only=True))


def test_biggan_of_another_size_is_a_mismatch(state_dict, tmp_path):
    fewer_blocks = {k: v for k, v in state_dict.items() if not k.startswith("blocks.5.")}
    path = tmp_path / "five_blocks.bin"
    torch.save(fewer_blocks, path)
    with pytest.raises(CheckpointMismatchError, match=r"128 px.*wrong shape: noise_fc.weight"):
        gan_kit.load(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda sd: sd.pop("blocks.2.conv1.weight"), r"missing: blocks\.2\.conv1\.weight"),
        (
            lambda sd: sd.update({"blocks.2.extra.weight": torch.zeros(3)}),
            r"unexpected: blocks\.2\.extra\.weight",
        ),
        (
            lambda sd: sd.update({"blocks.1.conv0.module.bias": torch.zeros(33)}),
            r"wrong shape: blocks\.1\.conv0\.module\.bias is \[33\], expected \[32\]",
        ),
    ],
    ids=["missing", "extra", "wrong-shape"],
)
def test_missing_extra_or_misshaped_tensors(state_dict, tmp_path, edit, message):
    edit(state_dict)
    path = tmp_path / "edited.bin"
    torch.save(state_dict, path)
    with pytest.raises(CheckpointMismatchError, match=message):
        gan_kit.load(path)


class NotATensor:
    """Any class outside torch's weights-only allow-list."""


def test_bin_files_that_are_not_state_dicts(tmp_path):
    not_tensors = tmp_path / "strings.bin"
    torch.save({"embed_y.weight": torch.zeros(1), "noise_fc.weight": "text"}, not_tensors)
    with pytest.raises(UnsupportedCheckpointError, match="not a state dict of tensors"):
        gan_kit.load(not_tensors)
    objects = tmp_path / "objects.bin"
    torch.save({"embed_y.weight": NotATensor(), "noise_fc.weight": torch.zeros(1)}, objects)
    with pytest.raises(UnsafePickleError, match="pickled Python objects"):
        gan_kit.load(objects)
    a_list = tmp_path / "list.bin"
    torch.save([torch.zeros(2)], a_list)
    with pytest.raises(UnsupportedCheckpointError, match="not a checkpoint format"):
        gan_kit.load(a_list)
    text = tmp_path / "text.bin"
    text.write_text("version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(UnsupportedCheckpointError, match="not a checkpoint format"):
        gan_kit.load(text)


def test_truncated_bin_is_corrupt(biggan_checkpoint, tmp_path):
    truncated = tmp_path / "pytorch_model.bin"
    truncated.write_bytes(biggan_checkpoint.read_bytes()[:400_000])
    with pytest.raises(CorruptCheckpointError, match=r"pytorch_model\.bin.*truncated or damaged"):
        gan_kit.load(truncated)


def test_legacy_torch_serialization_loads(state_dict, tmp_path, biggan_reference):
    legacy = tmp_path / "legacy.bin"
    torch.save(state_dict, legacy, _use_new_zipfile_serialization=False)
    G = gan_kit.load(legacy, device="cpu")
    assert (
        max_error(
            images(G, biggan_reference["z"], biggan_reference["classes"]), biggan_reference["img"]
        )
        <= TOLERANCE
    )


# --- bad input: TF checkpoints ------------------------------------------------------------------


def test_truncated_tf_index(tf_copy):
    index = Path(f"{tf_copy}.index")
    index.write_bytes(index.read_bytes()[:6000])
    with pytest.raises(CorruptCheckpointError, match=r"model\.ckpt-607250\.index is truncated"):
        gan_kit.load(tf_copy.parent)


def test_tf_index_with_a_flipped_byte(tf_copy):
    index = Path(f"{tf_copy}.index")
    damaged = bytearray(index.read_bytes())
    damaged[100] ^= 0x01
    index.write_bytes(bytes(damaged))
    with pytest.raises(
        CorruptCheckpointError, match=r"\.index: checksum mismatch in the table block"
    ):
        gan_kit.load(tf_copy)


def test_truncated_tf_data_file(tf_copy):
    data = Path(f"{tf_copy}.data-00000-of-00001")
    data.write_bytes(data.read_bytes()[:3_000_000])
    with pytest.raises(
        CorruptCheckpointError,
        match=r"data-00000-of-00001 is truncated: tensor 'generator/embed_y/kernel/Exponential",
    ):
        gan_kit.load(tf_copy)


def test_tf_data_file_with_a_flipped_byte(tf_copy, tf_arrays):
    bundle = TensorBundle(tf_copy)
    name = f"generator/B3/same_conv2/kernel{EMA}"
    data = Path(f"{tf_copy}.data-00000-of-00001")
    damaged = bytearray(data.read_bytes())
    damaged[bundle.entries[name].offset + 1000] ^= 0x10
    data.write_bytes(bytes(damaged))
    with pytest.raises(CorruptCheckpointError, match=rf"checksum mismatch in tensor '{name}'"):
        gan_kit.load(tf_copy)


def test_tf_checkpoint_missing_a_variable(tf_arrays, tmp_path):
    arrays = {n: a for n, a in tf_arrays.items() if n != f"generator/B3/same_conv2/kernel{EMA}"}
    write_tensor_bundle(tmp_path / "model.ckpt-1", arrays)
    with pytest.raises(
        CheckpointMismatchError, match=r"lacks .*generator/B3/same_conv2/kernel/Exp"
    ):
        gan_kit.load(tmp_path)


def test_tf_variable_of_the_wrong_shape_is_named(tf_arrays, tmp_path):
    name = f"generator/B2/bn1/condition/gamma/kernel{EMA}"
    arrays = {**tf_arrays, name: np.zeros((140, 64), np.float32)}
    write_tensor_bundle(tmp_path / "model.ckpt-1", arrays)
    with pytest.raises(CheckpointMismatchError, match=rf"wrong shape: {name} is \[64, 140\]"):
        gan_kit.load(tmp_path)


def test_folder_of_several_tf_checkpoints_asks_for_a_prefix(tf_arrays, tmp_path):
    bias = f"generator/final_conv/bias{EMA}"
    for step in (1, 2):
        shifted = {**tf_arrays, bias: tf_arrays[bias] + step}  # two different checkpoints
        write_tensor_bundle(tmp_path / f"model.ckpt-{step}", shifted)
    with pytest.raises(UnsupportedCheckpointError, match=r"model\.ckpt-1, model\.ckpt-2.*prefix"):
        gan_kit.load(tmp_path)
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "/elsewhere/model.ckpt-2"\n')
    named = gan_kit.load(tmp_path, device="cpu").final_conv.bias
    assert torch.equal(named, torch.from_numpy(tf_arrays[bias] + 2))


def test_tf_checkpoint_of_another_model(tmp_path):
    write_tensor_bundle(
        tmp_path / "model.ckpt-1", {"discriminator/fc/kernel": np.zeros((3, 2), np.float32)}
    )
    with pytest.raises(UnsupportedCheckpointError, match="not of the anime BigGAN"):
        gan_kit.load(tmp_path)


# --- CRC-32C -------------------------------------------------------------------------------------


def bitwise_crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_crc32c_known_values_and_lengths():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4, 32 zero bytes
    assert crc32c(b"") == 0
    rng = np.random.default_rng(0)
    for length in (1, 3, 4, 5, 63, 64, 255, 1027, 40_000):
        data = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        assert crc32c(data) == bitwise_crc32c(data), length


def test_renders_in_another_thread_never_see_a_recomputation(biggan_checkpoint):
    """Each render during `recompute_standing_stats` gives the image of the old statistics
    or of the new ones, never one of the collecting mode or of half-copied buffers."""
    z = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 140))).float()
    y = torch.tensor([3])
    settings = dict(n_samples=16, batch_size=4, progress=False)
    recomputed = gan_kit.load(biggan_checkpoint, device="cpu")
    recomputed.recompute_standing_stats(**settings)
    G = gan_kit.load(biggan_checkpoint, device="cpu")
    with torch.no_grad():
        old, new = G(z, y), recomputed(z, y)
    assert not torch.equal(old, new)
    renders: list[torch.Tensor] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def render_until_done() -> None:
        try:
            while not done.is_set() or len(renders) < 3:
                with torch.no_grad():
                    renders.append(G(z, y))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    renderer = threading.Thread(target=render_until_done)
    renderer.start()
    try:
        for _ in range(3):
            G.recompute_standing_stats(**settings)
    finally:
        done.set()
        renderer.join()
    assert errors == []
    assert all(torch.equal(image, old) or torch.equal(image, new) for image in renders)
    assert torch.equal(renders[-1], new)
