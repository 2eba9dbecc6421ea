"""The model registry, loading by name or URL through the caches, and gan_kit.convert."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hub_cache import hand_built_hub_cache
from loopback_server import Route, serve
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import gan_kit
from gan_kit.errors import (
    CheckpointNotFoundError,
    CorruptCheckpointError,
    DownloadError,
    GanKitError,
    InvalidInputError,
    UnknownModelError,
    UnsupportedCheckpointError,
)
from gan_kit.generators.kinds import GENERATORS, KINDS, kind_of
from gan_kit.loading import converted
from gan_kit.zoo import MODELS, converted_cache_path, get_model, registry_entry
from gan_kit.zoo.download import url_cache_path

HF_REPO, HF_FILE = "HighCWu/anime-biggan-pytorch", "pytorch_model.bin"


@pytest.fixture(autouse=True)
def caches(tmp_path, monkeypatch) -> dict[str, Path]:
    """Fresh gan_kit and Hugging Face caches; online unless a test says otherwise."""
    paths = {"gan_kit": tmp_path / "gan_kit", "hub": tmp_path / "hub"}
    monkeypatch.setenv("GAN_KIT_CACHE", str(paths["gan_kit"]))
    monkeypatch.setenv("HF_HUB_CACHE", str(paths["hub"]))
    for name in ("GAN_KIT_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return paths


def biggan_images(generator) -> torch.Tensor:
    z = torch.from_numpy(np.random.default_rng(0).standard_normal((2, generator.z_dim)))
    return generator(z.float(), torch.tensor([3, 7]))


def stylegan2_images(generator) -> torch.Tensor:
    z = torch.from_numpy(np.random.default_rng(0).standard_normal((2, generator.z_dim)))
    return generator(z.float(), psi=0.7)


def test_the_registry_lists_the_documented_models():
    assert gan_kit.models() == [
        "anime-biggan-256",
        "anime-portraits-512",
        "demo-biggan",
        "demo-stylegan2",
        "tadne-512",
    ]
    for entry in MODELS.values():
        assert entry.kind in KINDS and entry.resolution in (64, 256, 512)
        assert entry.description and entry.licence and entry.sources
        assert entry.psi_range[0] <= entry.psi_default <= entry.psi_range[1]
        for source in entry.sources:
            assert source.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", source.sha256)
            assert source.normalize_z is None or entry.kind == "stylegan2"
            assert source.file_format
    assert get_model("tadne-512").default_source.location == "public-data/TADNE"
    assert get_model("anime-portraits-512").default_source is None  # Mega / rsync only


def test_the_kinds_table_names_every_generator_once():
    assert KINDS == ("stylegan2", "biggan")
    for kind, generator_type in GENERATORS.items():
        assert generator_type.kind == kind
    with pytest.raises(UnsupportedCheckpointError, match=r"a Linear is not a gan_kit generator"):
        kind_of(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="unknown kind 'stylegan3'"):
        dataclasses.replace(get_model("tadne-512"), kind="stylegan3")
    with pytest.raises(ValueError, match="psi_default is outside psi_range"):
        dataclasses.replace(get_model("tadne-512"), psi_default=1.5)


def test_a_reference_names_its_registry_entry():
    tadne = get_model("tadne-512")
    assert registry_entry("tadne-512") is tadne
    for source in tadne.sources:  # the .pt and the original pickle
        assert registry_entry(f"hf://{source.location}/{source.filename}") is tadne
    assert registry_entry("hf://someone/else/g.pkl") is None
    assert registry_entry("https://example.org/g.pkl") is None
    assert registry_entry(Path("tadne-512")) is None  # a path is a file, whatever its name


@pytest.mark.parametrize("name", ["stylegan2_tiny_tf.pkl", "biggan_tiny.bin"])
def test_a_generator_is_rebuilt_from_its_json_config(name, conformance_dir):
    generator = gan_kit.load(conformance_dir / name, device="cpu")
    config = json.loads(json.dumps(generator.config.to_dict()))
    rebuilt = type(generator).from_config(config)
    assert rebuilt.config == generator.config
    assert rebuilt.state_dict().keys() == generator.state_dict().keys()


def test_a_hugging_face_model_loads_offline_from_the_hub_cache_then_from_its_conversion(
    caches, conformance_dir, monkeypatch
):
    published = conformance_dir / "biggan_tiny.bin"
    hand_built_hub_cache(caches["hub"], HF_REPO, HF_FILE, published)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    first = gan_kit.load("anime-biggan-256", device="cpu")
    expected = biggan_images(gan_kit.load(published, device="cpu"))
    assert torch.equal(biggan_images(first), expected)

    cached = converted_cache_path("anime-biggan-256")
    header = converted.read_header(cached)
    assert header["kind"] == "biggan" and header["config"]["ch"] == 4
    assert header["source_sha256"] == hashlib.sha256(published.read_bytes()).hexdigest()
    assert header["source"] == f"hf://{HF_REPO}/{HF_FILE}"

    shutil.rmtree(caches["hub"])  # the second load needs only the converted file
    second = gan_kit.load("anime-biggan-256", device="cpu")
    assert torch.equal(biggan_images(second), expected)


def test_hf_addresses_load_through_the_hub_cache(caches, conformance_dir, monkeypatch):
    published = conformance_dir / "biggan_tiny.bin"
    hand_built_hub_cache(caches["hub"], HF_REPO, HF_FILE, published)
    pickle = conformance_dir / "stylegan2_tiny_tf.pkl"
    hand_built_hub_cache(caches["hub"], "someone/tiny-gans", "nested/g.pkl", pickle)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    # A registered model's own file is that model: its settings and its converted cache.
    by_address = gan_kit.load(f"hf://{HF_REPO}/{HF_FILE}", device="cpu")
    assert torch.equal(biggan_images(by_address), biggan_images(gan_kit.load(published, "cpu")))
    assert converted_cache_path("anime-biggan-256").is_file()

    address = "hf://someone/tiny-gans/nested/g.pkl"  # any other file: cached by its address
    generator = gan_kit.load(address, device="cpu")
    expected = stylegan2_images(gan_kit.load(pickle, device="cpu"))
    assert torch.equal(stylegan2_images(generator), expected)
    header = converted.read_header(converted_cache_path(address))
    assert header["source"] == address
    assert header["source_sha256"] == hashlib.sha256(pickle.read_bytes()).hexdigest()

    with pytest.raises(InvalidInputError, match=r"'hf://someone/tiny-gans' is not a Hugging"):
        gan_kit.load("hf://someone/tiny-gans")
    with pytest.raises(DownloadError, match=r"someone/tiny-gans/other.pkl is not in the Hugging"):
        gan_kit.load("hf://someone/tiny-gans/other.pkl")


@pytest.mark.parametrize("switch", ["HF_HUB_OFFLINE", "GAN_KIT_OFFLINE"])
def test_offline_without_any_cache_is_a_clear_error(switch, monkeypatch):
    monkeypatch.setenv(switch, "1")
    with pytest.raises(DownloadError, match=r"anime-biggan-pytorch/pytorch_model.bin is not in"):
        gan_kit.load("anime-biggan-256", device="cpu")


def test_a_url_is_downloaded_once_then_loaded_without_pickle(stylegan2_pickle, monkeypatch):
    route = Route(stylegan2_pickle.read_bytes())
    with serve({"/snapshot.pkl": route}) as base:
        url = f"{base}/snapshot.pkl"
        first = gan_kit.load(url, device="cpu")

        def no_pickle(*args, **kwargs):
            raise AssertionError("the converted cache must not be unpickled")

        monkeypatch.setattr("gan_kit.loading.safe_pickle.restricted_load", no_pickle)
        monkeypatch.setattr("pickle.Unpickler", no_pickle)
        second = gan_kit.load(url, device="cpu")
    assert len(route.requests) == 1
    assert converted_cache_path(url).is_file()
    assert torch.equal(stylegan2_images(first), stylegan2_images(second))


@pytest.mark.parametrize("name", ["stylegan2_tiny_tf.pkl", "biggan_tiny.bin"])
def test_convert_gives_bit_identical_images(name, tmp_path, conformance_dir):
    source = conformance_dir / name
    destination = gan_kit.convert(source, tmp_path / "out" / "model.safetensors")
    original = gan_kit.load(source, device="cpu")
    reloaded = gan_kit.load(destination, device="cpu")
    render = stylegan2_images if name.endswith(".pkl") else biggan_images
    assert torch.equal(render(original), render(reloaded))
    header = converted.read_header(destination)
    assert header["gan_kit_version"] == gan_kit.__version__
    assert header["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert json.loads(json.dumps(header["config"])) == header["config"]
    assert [p.name for p in destination.parent.iterdir()] == ["model.safetensors"]


def test_a_damaged_converted_cache_is_rebuilt(stylegan2_pickle):
    with serve({"/s.pkl": Route(stylegan2_pickle.read_bytes())}) as base:
        url = f"{base}/s.pkl"
        reference = stylegan2_images(gan_kit.load(url, device="cpu"))
        cached = converted_cache_path(url)
        cached.write_bytes(cached.read_bytes()[:-100])
        with pytest.warns(UserWarning, match="unreadable converted cache"):
            rebuilt = gan_kit.load(url, device="cpu")
    assert torch.equal(stylegan2_images(rebuilt), reference)
    assert converted.recognises(cached)


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownModelError, match=r"'anime-faces'.*anime-biggan-256"):
        gan_kit.load("anime-faces")


def test_a_missing_path_is_still_reported_as_a_path(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="check the path"):
        gan_kit.load(tmp_path / "nothing.pkl")


def test_a_manual_only_model_explains_where_to_get_it_and_accepts_the_file(
    caches, stylegan2_pickle
):
    with pytest.raises(CheckpointNotFoundError, match=r"(?s)not downloadable.*mega\.nz.*rsync"):
        gan_kit.load("anime-portraits-512")
    caches["gan_kit"].mkdir()
    name = "2020-01-11-skylion-stylegan2-animeportraits-networksnapshot-024664.pkl"
    shutil.copyfile(stylegan2_pickle, caches["gan_kit"] / name)
    generator = gan_kit.load("anime-portraits-512", device="cpu")
    assert generator.resolution == 64  # the tiny stand-in, read from the cache folder
    assert converted_cache_path("anime-portraits-512").is_file()


@pytest.mark.parametrize(
    "edit",
    [
        lambda header: header.pop("config"),
        lambda header: header.update(config=[1, 2]),
        lambda header: header.update(kind=["stylegan2"]),
    ],
    ids=["no config", "config a list", "kind a list"],
)
def test_a_converted_header_edited_by_hand_is_refused_and_the_cache_rebuilt(stylegan2_pickle, edit):
    with serve({"/s.pkl": Route(stylegan2_pickle.read_bytes())}) as base:
        url = f"{base}/s.pkl"
        reference = stylegan2_images(gan_kit.load(url, device="cpu"))
        cached = converted_cache_path(url)
        header = converted.read_header(cached)
        edit(header)
        save_file(load_file(cached), cached, metadata={converted.METADATA_KEY: json.dumps(header)})
        with pytest.raises(GanKitError, match="converted file"):
            gan_kit.load(cached, device="cpu")
        with pytest.warns(UserWarning, match="unreadable converted cache"):
            rebuilt = gan_kit.load(url, device="cpu")
    assert torch.equal(stylegan2_images(rebuilt), reference)


def test_a_cache_too_full_for_the_conversion_still_gives_the_model(stylegan2_pickle, monkeypatch):
    def full_disk(*args, **kwargs):
        raise SafetensorError("No space left on device (os error 28)")

    monkeypatch.setattr("safetensors.torch.save_file", full_disk)
    with serve({"/s.pkl": Route(stylegan2_pickle.read_bytes())}) as base:
        url = f"{base}/s.pkl"
        with pytest.warns(UserWarning, match=r"could not cache its converted copy .*No space"):
            generator = gan_kit.load(url, device="cpu")
    expected = stylegan2_images(gan_kit.load(stylegan2_pickle, device="cpu"))
    assert torch.equal(stylegan2_images(generator), expected)
    assert not list(converted_cache_path(url).parent.iterdir())  # no partial conversion


@pytest.mark.parametrize(
    ("bad", "error"),
    [("truncated", CorruptCheckpointError), ("html page", UnsupportedCheckpointError)],
)
def test_a_bad_download_is_forgotten_so_loading_again_fetches_it(stylegan2_pickle, bad, error):
    """Without a Content-Length a cut transfer looks complete, and a server may answer with
    an error page: the load fails, and the next load must download again, not fail for ever."""
    body = stylegan2_pickle.read_bytes()
    bad_body = body[: len(body) // 2] if bad == "truncated" else b"<html>try later</html>"
    route = Route(bad_body, content_length="")
    with serve({"/s.pkl": route}) as base:
        url = f"{base}/s.pkl"
        with pytest.raises(error):
            gan_kit.load(url, device="cpu")
        assert not url_cache_path(url).exists()
        route.body, route.content_length = body, None
        generator = gan_kit.load(url, device="cpu")
    assert len(route.requests) == 2
    expected = stylegan2_images(gan_kit.load(stylegan2_pickle, device="cpu"))
    assert torch.equal(stylegan2_images(generator), expected)


def test_converted_files_get_the_usual_permissions(stylegan2_pickle, tmp_path):
    previous = os.umask(0o022)
    try:
        written = gan_kit.convert(stylegan2_pickle, tmp_path / "model.safetensors")
    finally:
        os.umask(previous)
    assert written.stat().st_mode & 0o777 == 0o644


def test_a_converted_cache_of_another_source_is_rebuilt(stylegan2_pickle, biggan_checkpoint):
    """Another model's conversion put at this URL's cache name must not load as this one."""
    routes = {"/s.pkl": Route(stylegan2_pickle.read_bytes())}
    with serve(routes) as base:
        url = f"{base}/s.pkl"
        reference = stylegan2_images(gan_kit.load(url, device="cpu"))
        gan_kit.convert(biggan_checkpoint, converted_cache_path(url), overwrite=True)
        with pytest.warns(UserWarning, match=r"rebuilding the converted cache .*converted from"):
            rebuilt = gan_kit.load(url, device="cpu")
    assert torch.equal(stylegan2_images(rebuilt), reference)
    assert converted.read_header(converted_cache_path(url))["source"] == url


def test_a_converted_cache_with_another_sha256_than_the_registry_is_rebuilt(
    stylegan2_pickle, monkeypatch
):
    body = stylegan2_pickle.read_bytes()
    with serve({"/s.pkl": Route(body)}) as base:
        url = f"{base}/s.pkl"
        source = gan_kit.zoo.Source("url", url, "s.pkl", "a TF pickle", "", sha256=None)
        entry = dataclasses.replace(MODELS["demo-stylegan2"], name="test-url", sources=(source,))
        monkeypatch.setitem(MODELS, "test-url", entry)
        gan_kit.load("test-url", device="cpu")
        published = dataclasses.replace(source, sha256=hashlib.sha256(body).hexdigest())
        monkeypatch.setitem(MODELS, "test-url", dataclasses.replace(entry, sources=(published,)))
        cached = converted_cache_path("test-url")
        header = converted.read_header(cached)
        header["source_sha256"] = "0" * 64
        save_file(load_file(cached), cached, metadata={converted.METADATA_KEY: json.dumps(header)})
        with pytest.warns(UserWarning, match=r"sha256 is not the published"):
            gan_kit.load("test-url", device="cpu")
    assert converted.read_header(cached)["source_sha256"] == published.sha256


def test_a_converted_cache_entry_that_is_a_symlink_is_forgotten(stylegan2_pickle, tmp_path):
    with serve({"/s.pkl": Route(stylegan2_pickle.read_bytes())}) as base:
        url = f"{base}/s.pkl"
        cached = converted_cache_path(url)
        cached.parent.mkdir(parents=True)
        cached.symlink_to(tmp_path / "nowhere.safetensors")
        gan_kit.load(url, device="cpu")
    assert cached.is_file() and not cached.is_symlink()


def test_convert_refuses_an_existing_file_unless_overwrite(tmp_path, stylegan2_pickle):
    destination = tmp_path / "model.safetensors"
    destination.write_bytes(b"keep me")
    with pytest.raises(gan_kit.OutputExistsError, match=r"exists; pass overwrite=True"):
        gan_kit.convert(stylegan2_pickle, destination)
    assert destination.read_bytes() == b"keep me"
    gan_kit.convert(stylegan2_pickle, destination, overwrite=True)
    assert converted.recognises(destination)


def test_convert_never_replaces_its_own_source(tmp_path, stylegan2_pickle):
    original = tmp_path / "snapshot.pkl"
    shutil.copyfile(stylegan2_pickle, original)
    for destination in (original, tmp_path / "." / "snapshot.pkl"):
        with pytest.raises(gan_kit.OutputExistsError, match="is the checkpoint being converted"):
            gan_kit.convert(original, destination, overwrite=True)
    assert original.read_bytes() == stylegan2_pickle.read_bytes()


def test_a_fifo_or_proc_file_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "model.pkl"
    os.mkfifo(fifo)
    with pytest.raises(UnsupportedCheckpointError, match=r"FIFO \(named pipe\), not a checkpoint"):
        gan_kit.load(fifo, device="cpu")  # opening it would block for ever
    if Path("/proc/self/mem").exists():
        with pytest.raises(UnsupportedCheckpointError, match=r"unreadable \(Input/output error"):
            gan_kit.load("/proc/self/mem", device="cpu")
