"""Crafted checkpoint files, one per way a file can hurt without running code: crash the
interpreter through numpy's reconstruction, make gan_kit allocate far more than the file's
size, escape as a bare Python error, or change gan_kit's own classes. Each must give one
gan_kit error, quickly, in a child process under a memory limit (`isolated_load`)."""

from __future__ import annotations

import collections
import copy
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from isolated_load import load_in_child
from safetensors.torch import save_file
from stylegan2_writers import _AdaPickler, ada_generator, write_ada_pickle
from tf_bundle_writer import write_tensor_bundle

from gan_kit.loading import ada_pickle, tf_network_pickle
from gan_kit.loading.tf_bundle import TensorBundle, find_prefix
from gan_kit.loading.tf_network_pickle import _NetworkPickler, read_networks

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct


class Crafted:
    """Pickles as the reduce tuple it holds (callable, args[, state]), whatever it says."""

    def __init__(self, *reduce):
        self.reduce = reduce


class _HostilePickler(_NetworkPickler):
    def reducer_override(self, obj):
        return obj.reduce if isinstance(obj, Crafted) else NotImplemented


def _dtype(spec: str, state: tuple) -> Crafted:
    return Crafted(np.dtype, (spec, False, True), state)


def _array(shape: tuple, dtype, data: bytes) -> Crafted:
    return Crafted(_reconstruct, (np.ndarray, (0,), b"b"), (1, shape, dtype, False, data))


_F4 = np.dtype("f4")
_TORGB = "64x64/ToRGB/weight"  # [1, 1, C, 3] in the conformance model


def _tf_cases(networks) -> dict[str, tuple]:
    """name -> (edit of the (G, D, Gs) networks, expected error class, message fragment)."""

    def variable(name, value):
        return lambda nets: nets[2].components["synthesis"].variables.__setitem__(name, value)

    dag: list = []
    for _ in range(40):
        dag = [dag, dag]  # 2**40 leaves when walked or printed
    return {
        "dtype-subarray": (
            variable(
                _TORGB,
                _array(
                    (1,),
                    _dtype("f4", (3, "<", (_F4, (5_000_000,)), None, None, -1, -1, 0)),
                    b"\0" * 4,
                ),
            ),
            "UnsafePickleError",
            "only structured or object dtypes",
        ),
        "dtype-fields": (
            variable(
                _TORGB,
                _array(
                    (1,), _dtype("V4", (3, "|", None, ("a",), {"a": (_F4, 10**9)}, 4, 1, 16)), b""
                ),
            ),
            "UnsafePickleError",
            "dtype 'V4'",
        ),
        "dtype-object-flags": (
            variable(
                _TORGB,
                _array((1,), _dtype("f4", (3, "<", None, None, None, -1, -1, 63)), b"\0" * 4),
            ),
            "UnsafePickleError",
            "only structured or object dtypes",
        ),
        "object-array-in-D": (
            lambda nets: nets[1].variables.__setitem__("x", np.array([1, None], dtype=object)),
            "UnsafePickleError",
            "dtype 'O8'",
        ),
        "ndarray-called-with-strides": (
            variable(_TORGB, Crafted(np.ndarray, ((4,), _F4, b"\0" * 16, 0, (-(2**63),)))),
            "UnsafePickleError",
            "numpy.ndarray directly",
        ),
        "stride0-like-50000-channels": (
            variable(_TORGB, _array((1, 1, 50_000, 3), _F4, b"\0" * 16)),
            "CorruptCheckpointError",
            "but 16 bytes of data",
        ),
        "fortran-array": (
            variable(
                _TORGB,
                Crafted(_reconstruct, (np.ndarray, (0,), b"b"), (1, (2, 2), _F4, True, b"\0" * 16)),
            ),
            "UnsafePickleError",
            "Fortran order",
        ),
        "component-not-a-network": (
            lambda nets: nets[2].components.__setitem__("mapping", 5),
            "UnsupportedCheckpointError",
            "components that are not networks",
        ),
        "array-static-kwarg": (
            lambda nets: nets[2].static_kwargs.__setitem__("resolution", np.zeros(3)),
            "UnsupportedCheckpointError",
            "static_kwarg 'resolution'",
        ),
        "dag-static-kwarg": (
            lambda nets: nets[2].static_kwargs.__setitem__("resample_kernel", dag),
            "UnsupportedCheckpointError",
            "static_kwarg 'resample_kernel'",
        ),
        "variables-as-nested-lists": (
            lambda nets: nets[2].components["synthesis"].variables.__setitem__(_TORGB, dag),
            "UnsupportedCheckpointError",
            "not (name, array) pairs",
        ),
    }


_TF_HEAD = b"\x80\x02cdnnlib.tflib.network\nNetwork\n0"  # recognised as a TF pickle
_ADA_HEAD = b"\x80\x02ctorch_utils.persistence\n_reconstruct_persistent_obj\n0"
_RECONSTRUCT = b"cnumpy._core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"


def _tuple_dag_key() -> bytes:
    body = b")q\x00"
    for i in range(1, 61):  # t_i = (t_i-1, t_i-1): hashing t_60 would take 2**60 steps
        body += b"h" + bytes([i - 1]) + b"h" + bytes([i - 1]) + b"\x86q" + bytes([i])
    return body + b"0}h\x3cK\x01s."  # pop, then {t_60: 1}


_RAW_PICKLES = {  # name -> (bytes, expected error, message fragment)
    "build-on-tfnetwork-class": (
        _TF_HEAD + b"cdnnlib.tflib.network\nNetwork\n}X\x0d\x00\x00\x00pwned_by_fileK\x01sb.",
        "UnsafePickleError",
        "sets attributes of the class TFNetwork",
    ),
    "build-on-easydict-class": (
        _ADA_HEAD + b"cdnnlib.util\nEasyDict\n}X\x0d\x00\x00\x00pwned_by_fileK\x01sb.",
        "UnsafePickleError",
        "sets attributes of the class _EasyDict",
    ),
    "ordereddict-get-shadowed": (
        _ADA_HEAD + b"ccollections\nOrderedDict\n)R}X\x03\x00\x00\x00getcbuiltins\nset\nsb.",
        "UnsafePickleError",
        "of an OrderedDict",
    ),
    "deep-nesting": (_TF_HEAD + b"(" * 5000 + b".", "CorruptCheckpointError", "nests deeper"),
    "memo-flood": (
        b"\x80\x04cdnnlib.tflib.network\nNetwork\n0" + b"N\x940" * 1_000_100 + b"N.",
        "CorruptCheckpointError",
        "memoizes more than",
    ),
    "bytes-claiming-an-exabyte": (
        _TF_HEAD + b"\x8e" + (1 << 60).to_bytes(8, "little") + b"abc.",
        "CorruptCheckpointError",
        "only 4 are left",
    ),
    "array-used-before-its-state": (
        _TF_HEAD + _RECONSTRUCT + b"q\x000h\x00.",
        "UnsafePickleError",
        "before giving it its state",
    ),
    "array-never-given-state": (
        _TF_HEAD + _RECONSTRUCT + b".",
        "UnsafePickleError",
        "never gives it its state",
    ),
    "tuple-dag-as-dict-key": (_TF_HEAD + _tuple_dag_key(), "UnsafePickleError", "dict key"),
    "dup-opcode": (_TF_HEAD + b"N2.", "UnsafePickleError", "DUP"),
}


def _legacy_torch_claiming(numel: int, keys: tuple[str, ...]) -> bytes:
    """A legacy torch file whose one storage claims `numel` floats but stores three."""

    class Storage:
        pass

    storage = Storage()

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if obj is storage:
                return ("storage", torch.FloatStorage, "0", "cpu", numel, None)
            return None

        def reducer_override(self, obj):
            return obj.reduce if isinstance(obj, Crafted) else NotImplemented

    tensor = Crafted(
        torch._utils._rebuild_tensor_v2, (storage, 0, (3,), (1,), False, collections.OrderedDict())
    )
    stream = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, stream, protocol=2)
    Pickler(stream, protocol=2).dump(dict.fromkeys(keys, tensor))
    pickle.dump(["0"], stream, protocol=2)
    stream.write(numel.to_bytes(8, "little") + b"\0" * 12)
    return stream.getvalue()


def _zip_bomb(path: Path) -> None:
    """A torch-like zip whose data.pkl inflates to 256 MB (from about 250 KB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("archive/data.pkl", "w", force_zip64=True) as member:
            member.write(b"\x80\x02}X\x0e\x00\x00\x00embed_y.weight noise_fc. ")
            zeros = bytes(1 << 20)
            for _ in range(256):
                member.write(zeros)
        archive.writestr("archive/version", "3\n")
    assert path.stat().st_size < 2 << 20


def _safetensors_with(path: Path, metadata: str) -> Path:
    save_file({"x": torch.zeros(1)}, str(path), metadata={"gan_kit": metadata})
    return path


def _deep_json_file(path: Path) -> Path:
    header = b'{"__metadata__": ' + b"[" * 100_000
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    return path


@pytest.fixture(scope="module")
def crafted(tmp_path_factory, stylegan2_pickle, biggan_checkpoint, conformance_dir):
    """name -> (path, expected error class, message fragment), all written in one folder."""
    folder = tmp_path_factory.mktemp("hostile")
    cases: dict[str, tuple[Path, str, str]] = {}
    networks = read_networks(stylegan2_pickle)
    for name, (edit, error, fragment) in _tf_cases(networks).items():
        edited = copy.deepcopy(networks)
        edit(edited)
        path = folder / f"{name}.pkl"
        with path.open("wb") as file:
            _HostilePickler(file, protocol=4).dump(tuple(edited))
        cases[name] = (path, error, fragment)
    plain = folder / "plain.pkl"
    with plain.open("wb") as file:
        _HostilePickler(file, protocol=4).dump(tuple(networks))
    for name, (data, error, fragment) in _RAW_PICKLES.items():
        (folder / f"{name}.pkl").write_bytes(data)
        cases[name] = (folder / f"{name}.pkl", error, fragment)

    # torch files: views that claim far more than their storages hold
    state = torch.load(biggan_checkpoint, map_location="cpu", weights_only=True)
    views = {
        "biggan-3m-classes-stride0": ("embed_y.weight", torch.zeros(1).expand(128, 3_000_000)),
        "biggan-ch2000-stride0": (
            "blocks.0.conv0.weight",
            torch.zeros(1).expand(32000, 32000, 3, 3),
        ),
        "biggan-overlapping-strides": (
            "noise_fc.weight",
            torch.zeros(16000).as_strided((8000, 8000), (1, 1)),
        ),
    }
    for name, (key, view) in views.items():
        for legacy in (False, True):
            path = folder / f"{name}{'-legacy' if legacy else ''}.bin"
            torch.save({**state, key: view}, path, _use_new_zipfile_serialization=not legacy)
            cases[path.stem] = (path, "CorruptCheckpointError", "overlap")
    claim = folder / "legacy-storage-claiming-2e40.bin"
    keys = ("embed_y.weight", "noise_fc.weight")
    claim.write_bytes(_legacy_torch_claiming(1 << 40, keys))
    cases["legacy-storage-claiming-2e40"] = (
        claim,
        "CorruptCheckpointError",
        "is truncated: a storage needs",
    )
    _zip_bomb(folder / "zip-bomb.bin")
    cases["zip-bomb"] = (folder / "zip-bomb.bin", "CorruptCheckpointError", "inflate beyond")

    # ada pickles
    gs = networks[2]
    stride0 = folder / "ada-stride0.pkl"
    write_ada_pickle(stride0, gs, progress=torch.zeros(1).expand(50_000, 50_000))
    cases["ada-stride0"] = (stride0, "CorruptCheckpointError", "overlap")
    for name, value in (("inf", float("inf")), ("huge", 1 << 40)):
        g_ema = ada_generator(gs)
        g_ema.meta["state"]["img_resolution"] = value
        path = folder / f"ada-img-resolution-{name}.pkl"
        with path.open("wb") as file:
            _AdaPickler(file, protocol=3).dump({"G_ema": g_ema})
        cases[path.stem] = (path, "CheckpointMismatchError", "img_resolution is")

    # TF bundles whose index claims what the data does not hold
    bundle = TensorBundle(find_prefix(conformance_dir / "biggan_tiny_tf"))
    arrays = {name: bundle.read(name) for name in bundle.entries}
    kernel = "generator/fc_noise/kernel/ExponentialMovingAverage"  # the one that is read
    for name, claimed, fragment in (
        ("bundle-2e40-elements", (1 << 20, 1 << 20), "the index is damaged"),
        ("bundle-shape-wraps-to-0", (1 << 32, 1 << 32), "the index is damaged"),
        ("bundle-negative-dim", (-1, 5), "the index is damaged"),
    ):
        prefix = folder / name / "model.ckpt-1"
        prefix.parent.mkdir()
        write_tensor_bundle(prefix, arrays, {kernel: claimed})
        cases[name] = (prefix, "CorruptCheckpointError", fragment)
    prefix = folder / "bundle-wrong-rank" / "model.ckpt-1"
    prefix.parent.mkdir()
    write_tensor_bundle(prefix, {**arrays, kernel: arrays[kernel][None]})
    cases["bundle-wrong-rank"] = (prefix, "CheckpointMismatchError", "has 3 dimensions")

    # safetensors (gan_kit's converted files)
    cases["safetensors-deep-json"] = (
        _deep_json_file(folder / "deep.safetensors"),
        "UnsupportedCheckpointError",
        "not a",
    )
    cases["safetensors-deep-metadata"] = (
        _safetensors_with(folder / "deep-meta.safetensors", "[" * 100_000),
        "UnsupportedCheckpointError",
        "not a",
    )
    huge = {
        "format_version": 1,
        "kind": "stylegan2",
        "config": {"resolution": 1024, "channels": [8192] * 9},
    }
    cases["converted-huge-config"] = (
        _safetensors_with(folder / "huge.safetensors", json.dumps(huge)),
        "CheckpointMismatchError",
        "holds only",
    )
    infinite = {"format_version": 1, "kind": "stylegan2", "config": {"resolution": "inf"}}
    cases["converted-infinite-resolution"] = (
        _safetensors_with(
            folder / "inf.safetensors", json.dumps(infinite).replace('"inf"', "Infinity")
        ),
        "CorruptCheckpointError",
        "could not be read as a gan_kit converted file",
    )
    big_claim = folder / "header-longer-than-file.safetensors"
    big_claim.write_bytes((10**8).to_bytes(8, "little") + b"{}")
    cases["header-longer-than-file"] = (big_claim, "UnsupportedCheckpointError", "not a")
    cases["plain"] = (plain, "", "")
    return cases


@pytest.fixture(scope="module")
def outcomes(crafted, tmp_path_factory):
    paths = [path for path, _, _ in crafted.values()]
    return load_in_child(paths, tmp_path_factory.mktemp("child"))


def test_every_crafted_file_gives_one_gan_kit_error(crafted, outcomes):
    results, _ = outcomes
    wrong = {}
    for name, (path, error, fragment) in crafted.items():
        if name == "plain":
            continue
        result = results[str(path)]
        if result.get("error") != error or fragment not in result.get("message", ""):
            wrong[name] = result
    assert not wrong, json.dumps(wrong, indent=1)[:6000]


def test_messages_stay_short(crafted, outcomes):
    """Values from the file are shown with a bounded repr (a DAG printed in full took 60 s)."""
    results, _ = outcomes
    lengths = {
        name: len(results[str(path)].get("message", "")) for name, (path, _, _) in crafted.items()
    }
    assert max(lengths.values()) < 1500, lengths


def test_no_file_changes_gan_kit_classes(outcomes):
    _, probe = outcomes
    now = {
        cls.__name__: sorted(vars(cls))
        for cls in (tf_network_pickle.TFNetwork, ada_pickle._EasyDict, collections.OrderedDict)
    }
    assert probe == now
    assert "pwned_by_file" not in json.dumps(probe)


def test_the_crafting_pickler_writes_loadable_files(crafted, outcomes):
    """The crafting itself is sound: the same pickler, unedited networks, loads."""
    results, _ = outcomes
    assert results[str(crafted["plain"][0])]["outcome"] == "loaded"
