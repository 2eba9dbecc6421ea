"""Recipe PNGs are read as hostile files: bounded text chunks without decoding pixels,
bounded JSON, sizes checked before work, and a model named inside a PNG loaded only when
the caller allows it."""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from loopback_server import Route, serve

import gan_kit
from gan_kit.errors import InvalidInputError, OutputTooLargeError
from gan_kit.export import read_png_text, write_png
from gan_kit.export.png_chunks import MAX_CHUNKS, MAX_TEXT_CHUNK_BYTES
from gan_kit.recipes import MAX_RECIPE_VALUES, RECIPE_KEY, Recipe, recipe_from_png


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(*chunks: bytes, width: int = 1, height: int = 1) -> bytes:
    """A PNG with an IHDR claiming `width` x `height`, then `chunks`, one row of image
    data and IEND (enough for the text reader; Pillow would refuse the claimed size)."""
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\0\0\0\0"))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(chunks) + pixels + chunk(b"IEND", b"")


def text(key: str, value: str) -> bytes:
    return chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))


def recipe_text(**fields: object) -> str:
    data = json.loads(
        Recipe(model="demo-stylegan2", kind="stylegan2", layout="grid", seeds=(1,)).to_json()
    )
    return json.dumps(data | fields)


def write(tmp_path: Path, data: bytes, name: str = "r.png") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_recipe_is_read_from_a_png_claiming_a_decompression_bomb_size(tmp_path):
    path = write(tmp_path, png_bytes(text(RECIPE_KEY, recipe_text()), width=10**5, height=10**5))
    assert recipe_from_png(path).seeds == (1,)


def test_text_chunks_of_every_kind_are_read_as_pillow_writes_them(tmp_path):
    path = write_png(
        np.zeros((2, 2, 3), np.uint8), tmp_path / "t.png", text={"a": "Latin-1 é", "b": "日本"}
    )
    compressed = chunk(b"zTXt", b"c\0\0" + zlib.compress(b"squeezed"))
    international = chunk(b"iTXt", b"d\0\1\0ja\0\0" + zlib.compress("アニメ".encode()))
    other = write(tmp_path, png_bytes(compressed, international), "other.png")
    assert read_png_text(path) == {"a": "Latin-1 é", "b": "日本"}
    assert read_png_text(other) == {"c": "squeezed", "d": "アニメ"}


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        ([text("big", "x" * (MAX_TEXT_CHUNK_BYTES + 1))], "more PNG text than gan_kit reads"),
        ([chunk(b"zTXt", b"z\0\0" + zlib.compress(b"\0" * (100 << 20)))], "more PNG text"),
        ([text(f"k{i}", "x" * (1 << 20)) for i in range(9)], "more PNG text"),
        ([chunk(b"tEXt", b"no separator")], "malformed"),
        ([chunk(b"zTXt", b"z\0\0not zlib")], "fails to inflate"),
        ([text("a", "b")[:-1] + b"\0"], "fails its CRC"),
        ([struct.pack(">I", 2**31 + 5) + b"tEXt"], "claims 2147483653 bytes"),
    ],
    ids=["huge chunk", "zlib bomb", "too much in all", "malformed", "bad zlib", "crc", "length"],
)
def test_hostile_text_chunks_are_one_clear_error(tmp_path, chunks, message):
    with pytest.raises(InvalidInputError, match=message):
        read_png_text(write(tmp_path, png_bytes(*chunks)))


def test_endless_chunks_and_truncations_are_refused(tmp_path):
    many = png_bytes(*[chunk(b"tIME", b"1234567")] * (MAX_CHUNKS + 1))
    with pytest.raises(InvalidInputError, match=f"over {MAX_CHUNKS} PNG chunks"):
        read_png_text(write(tmp_path, many))
    whole = png_bytes(text(RECIPE_KEY, recipe_text()))
    for end in (10, 40, len(whole) - 13):
        with pytest.raises(InvalidInputError, match=r"truncated|CRC"):
            read_png_text(write(tmp_path, whole[:end]))


def test_a_fifo_or_proc_file_is_refused_at_once(tmp_path):
    fifo = tmp_path / "recipe.png"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInputError, match=r"FIFO \(named pipe\), not a PNG"):
        recipe_from_png(fifo)  # would block for ever if opened
    if Path("/proc/self/mem").exists():
        with pytest.raises(InvalidInputError, match="unreadable"):
            recipe_from_png("/proc/self/mem")


def test_deeply_nested_json_is_refused_before_parsing(tmp_path):
    path = write(tmp_path, png_bytes(text(RECIPE_KEY, "[" * 200_000 + "]" * 200_000)))
    with pytest.raises(InvalidInputError, match="nests deeper than 32 levels"):
        recipe_from_png(path)
    favourite = json.dumps({"kind": "stylegan2", "state": {"seed": 1, "classes": 0}})
    nested = favourite.replace('"classes": 0', '"classes": ' + "[" * 5000 + "]" * 5000)
    path = write(tmp_path, png_bytes(text("gan_kit.favourite", nested)), "f.png")
    with pytest.raises(InvalidInputError, match="nests deeper"):
        recipe_from_png(path)


def test_a_recipe_with_too_many_seeds_is_refused_on_reading(tmp_path):
    seeds = [0] * (MAX_RECIPE_VALUES + 1)
    path = write(tmp_path, png_bytes(text(RECIPE_KEY, recipe_text(seeds=seeds))))
    with pytest.raises(InvalidInputError, match=f"seeds has {len(seeds)} values, over the"):
        recipe_from_png(path)


def test_a_grid_too_large_is_refused_before_any_label_or_render(stylegan2_explorer, monkeypatch):
    recipe = Recipe(model=None, kind="stylegan2", layout="grid", seeds=tuple(range(50_000)))
    monkeypatch.setattr(
        "gan_kit.explore.grids._Geometry.of", lambda *a: pytest.fail("labels were laid out")
    )
    monkeypatch.setattr(stylegan2_explorer, "_synthesize", lambda *a: pytest.fail("rendered"))
    with pytest.raises(OutputTooLargeError, match="50,000 images of 64 px"):
        gan_kit.render_recipe(recipe, stylegan2_explorer)
    mixing = Recipe(
        model=None, kind="stylegan2", layout="mixing-matrix", seeds=tuple(range(300)),
        sources=tuple(range(300)), layers=("coarse",),
    )  # fmt: skip
    with pytest.raises(OutputTooLargeError, match="90,601 images"):
        gan_kit.render_recipe(mixing, stylegan2_explorer)


def test_a_zoo_model_named_by_a_recipe_is_loaded(tmp_path):
    recipe = Recipe(model="demo-stylegan2", kind="stylegan2", layout="grid", seeds=(1,))
    grid = gan_kit.render_recipe(recipe, device="cpu")
    assert grid.images.shape[:2] == (1, 1) and grid.recipe.model == "demo-stylegan2"


def test_a_url_named_by_a_png_is_not_fetched_unless_allowed(
    tmp_path, stylegan2_pickle, monkeypatch
):
    monkeypatch.setenv("GAN_KIT_CACHE", str(tmp_path / "cache"))
    route = Route(stylegan2_pickle.read_bytes())
    with serve({"/evil.pkl": route}) as base:
        fields = dict(model=f"{base}/evil.pkl", labels=False)
        path = write(tmp_path, png_bytes(text(RECIPE_KEY, recipe_text(**fields))))
        recipe = recipe_from_png(path)
        with pytest.raises(
            InvalidInputError, match=r"a path or URL.*pass model=\.\.\..*trust_model"
        ):
            gan_kit.render_recipe(recipe, device="cpu")
        assert route.requests == []
        chosen = gan_kit.render_recipe(recipe, model=stylegan2_pickle, device="cpu")
        assert route.requests == [] and chosen.recipe.model == str(stylegan2_pickle)
        trusted = gan_kit.render_recipe(recipe, trust_model=True, device="cpu")
        assert len(route.requests) == 1
    np.testing.assert_array_equal(trusted.images, chosen.images)
