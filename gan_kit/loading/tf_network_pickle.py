"""NVIDIA's TF network pickles: a `(G, D, Gs)` tuple of `dnnlib.tflib.network.Network`.

The real class runs `exec(build_module_src)` when unpickled and needs TensorFlow. Here
that one class maps to a plain `TFNetwork` record, numpy reconstruction is the only other
thing allowed, and the build source is kept as inert text. Writing is supported too, so
that tests, benchmarks and the demo models can produce files in the published format.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gan_kit.errors import UnsupportedCheckpointError
from gan_kit.files import atomic_path, read_head
from gan_kit.loading.safe_pickle import NUMPY_GLOBALS, restricted_load

NETWORK_MODULE, NETWORK_CLASS = "dnnlib.tflib.network", "Network"
_STATE_KEYS = frozenset(
    [
        "version",
        "name",
        "static_kwargs",
        "components",
        "build_module_src",
        "build_func_name",
        "variables",
    ]
)


@dataclass
class TFNetwork:
    """The saved state of one `dnnlib.tflib.network.Network`, as plain data."""

    name: str
    static_kwargs: dict[str, Any]
    variables: dict[str, np.ndarray]
    components: dict[str, TFNetwork] = field(default_factory=dict)
    build_func_name: str = ""
    build_module_src: str = ""  # Python source in the original; never executed here
    version: int = 4

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "static_kwargs": dict(self.static_kwargs),
            "components": dict(self.components),
            "build_module_src": self.build_module_src,
            "build_func_name": self.build_func_name,
            "variables": list(self.variables.items()),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or not state.keys() >= _STATE_KEYS:
            raise UnsupportedCheckpointError(
                "a dnnlib Network in the pickle lacks the fields "
                f"{sorted(_STATE_KEYS - set(state or ()))}: it is not a network snapshot "
                "gan_kit understands"
            )
        text = ("name", "build_module_src", "build_func_name")
        if not all(isinstance(state[key], str) for key in text) or not isinstance(
            state["static_kwargs"], dict
        ):
            raise UnsupportedCheckpointError(
                "a dnnlib Network in the pickle has a name, build source or static_kwargs "
                "of the wrong type: it is not a network snapshot gan_kit understands"
            )
        self.version = state["version"]
        self.name = state["name"]
        self.static_kwargs = dict(state["static_kwargs"])
        self.components = dict(state["components"])
        self.build_module_src = state["build_module_src"]
        self.build_func_name = state["build_func_name"]
        self.variables = {name: np.asarray(value) for name, value in state["variables"]}


_ALLOWED = {**NUMPY_GLOBALS, (NETWORK_MODULE, NETWORK_CLASS): TFNetwork}


def recognises(path: Path) -> bool:
    """True when `path` starts like a pickle of dnnlib networks."""
    head = read_head(path)
    return head[:1] == pickle.PROTO and NETWORK_MODULE.encode() in head


def read_networks(path: Path) -> tuple[TFNetwork, TFNetwork, TFNetwork]:
    """Read `(G, D, Gs)` from an NVIDIA TF pickle without TensorFlow or running its code."""
    networks = restricted_load(path, _ALLOWED, encoding="latin1")
    if not (
        isinstance(networks, tuple)
        and len(networks) == 3
        and all(isinstance(network, TFNetwork) for network in networks)
    ):
        raise UnsupportedCheckpointError(
            f"{path} holds {type(networks).__name__}, not NVIDIA's (G, D, Gs) tuple of "
            "networks: pass a network snapshot pickle (network-snapshot-*.pkl)"
        )
    return networks


class _NetworkPickler(pickle._Pickler):  # the Python pickler lets us name a foreign class
    def save_global(self, obj: Any, name: str | None = None) -> None:
        if obj is TFNetwork:
            self.write(pickle.GLOBAL + f"{NETWORK_MODULE}\n{NETWORK_CLASS}\n".encode())
            self.memoize(obj)
        else:
            super().save_global(obj, name)


def write_networks(path: Path, networks: tuple[TFNetwork, TFNetwork, TFNetwork]) -> None:
    """Write `(G, D, Gs)` as NVIDIA's code pickles them, atomically (replacing `path`)."""
    with atomic_path(path, overwrite=True) as temporary, temporary.open("wb") as file:
        _NetworkPickler(file, protocol=4).dump(tuple(networks))
