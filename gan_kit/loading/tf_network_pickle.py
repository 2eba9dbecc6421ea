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
from gan_kit.loading.limits import shown
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
            found = (
                sorted(k for k in state if isinstance(k, str)) if isinstance(state, dict) else []
            )
            raise UnsupportedCheckpointError(
                "a dnnlib Network in the pickle lacks the fields "
                f"{shown(sorted(_STATE_KEYS - set(found)))}: it is not a network snapshot "
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
        self.static_kwargs = _checked_kwargs(state["static_kwargs"], self.name)
        self.components = _checked_components(state["components"], self.name)
        self.build_module_src = state["build_module_src"]
        self.build_func_name = state["build_func_name"]
        self.variables = _checked_variables(state["variables"], self.name)


def _is_setting(value: Any, depth: int = 0) -> bool:
    """Whether `value` is a setting a network's static_kwargs may hold: a scalar, a string,
    or a short list or tuple of them (e.g. resample_kernel); never an array."""
    if value is None or isinstance(value, (bool, int, float, str, np.bool_, np.number)):
        return not isinstance(value, str) or len(value) <= 10_000
    return (
        isinstance(value, (list, tuple))
        and depth < 2
        and len(value) <= 64
        and all(_is_setting(item, depth + 1) for item in value)
    )


def _checked_kwargs(kwargs: dict, network: str) -> dict[str, Any]:
    for key, value in kwargs.items():
        if not isinstance(key, str) or not _is_setting(value):
            raise UnsupportedCheckpointError(
                f"the network {shown(network)} has the static_kwarg {shown(key)} = "
                f"{shown(value)}; settings are numbers, strings or short lists of them: it is "
                "not a network snapshot gan_kit understands"
            )
    return dict(kwargs)


def _checked_components(components: Any, network: str) -> dict[str, TFNetwork]:
    """Components must be networks that are complete already (built before their parent)."""
    if not isinstance(components, dict) or not all(
        isinstance(key, str) and isinstance(value, TFNetwork) and hasattr(value, "variables")
        for key, value in components.items()
    ):
        raise UnsupportedCheckpointError(
            f"the network {shown(network)} has components that are not networks "
            f"({shown(components)}): it is not a network snapshot gan_kit understands"
        )
    return dict(components)


def _checked_variables(variables: Any, network: str) -> dict[str, np.ndarray]:
    """The (name, array) pairs of a network; arrays only (a list would be turned into one)."""
    pairs = list(variables) if isinstance(variables, (list, tuple)) else None
    if pairs is None or not all(
        isinstance(pair, tuple)
        and len(pair) == 2
        and isinstance(pair[0], str)
        and isinstance(pair[1], np.ndarray)
        for pair in pairs
    ):
        raise UnsupportedCheckpointError(
            f"the network {shown(network)} has variables that are not (name, array) pairs: "
            "it is not a network snapshot gan_kit understands"
        )
    return dict(pairs)


_ALLOWED = {**NUMPY_GLOBALS, (NETWORK_MODULE, NETWORK_CLASS): TFNetwork}


def recognises(path: Path) -> bool:
    """True when `path` starts like a pickle of dnnlib networks."""
    head = read_head(path)
    return head[:1] == pickle.PROTO and NETWORK_MODULE.encode() in head


def read_networks(path: Path) -> tuple[TFNetwork, TFNetwork, TFNetwork]:
    """Read `(G, D, Gs)` from an NVIDIA TF pickle without TensorFlow or running its code."""
    networks = restricted_load(
        path, _ALLOWED, encoding="latin1", stateful={TFNetwork: TFNetwork.__setstate__}
    )
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
