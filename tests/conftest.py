"""Shared fixtures: the conformance checkpoints (tests/data/conformance, see its README)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_kit.explore import Explorer, explorer

# The test models are tiny: one thread is faster than two that wait for each other, and
# much faster on a shared, busy machine.
torch.set_num_threads(1)

CONFORMANCE_DIR = Path(__file__).resolve().parent / "data" / "conformance"


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """The folder of reference checkpoints and images (read only: copy before editing)."""
    return CONFORMANCE_DIR


@pytest.fixture(scope="session")
def stylegan2_pickle(conformance_dir: Path) -> Path:
    return conformance_dir / "stylegan2_tiny_tf.pkl"


@pytest.fixture(scope="session")
def stylegan2_reference(conformance_dir: Path) -> dict[str, np.ndarray]:
    with np.load(conformance_dir / "stylegan2_tiny_tf_ref.npz") as arrays:
        return dict(arrays)


@pytest.fixture(scope="session")
def biggan_checkpoint(conformance_dir: Path) -> Path:
    return conformance_dir / "biggan_tiny.bin"


@pytest.fixture(scope="session")
def biggan_reference(conformance_dir: Path) -> dict[str, np.ndarray]:
    with np.load(conformance_dir / "biggan_tiny_ref.npz") as arrays:
        return dict(arrays)


@pytest.fixture(scope="session")
def stylegan2_explorer(stylegan2_pickle: Path) -> Explorer:
    """The tiny conformance StyleGAN2 (64 px, 10 ws) behind the exploration interface."""
    return explorer(stylegan2_pickle, device="cpu")


@pytest.fixture(scope="session")
def biggan_explorer(biggan_checkpoint: Path) -> Explorer:
    """The tiny conformance BigGAN (256 px, 7 z chunks, 1000 classes) behind the interface."""
    return explorer(biggan_checkpoint, device="cpu")


@pytest.fixture(scope="session")
def _colab_rule_log() -> list[str]:
    """Widget messages sent off the main thread, over the whole session (see colab_rule)."""
    log: list[str] = []
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return log
    import colab_rule

    colab_rule.install(log)
    return log


@pytest.fixture(autouse=True)
def colab_rule(_colab_rule_log: list[str]) -> Iterator[None]:
    """Fail any test during which a widget message was sent from a thread other than the
    main one: Colab would never show it (colabtools#3373)."""
    _colab_rule_log.clear()
    yield
    assert not _colab_rule_log, "widget messages sent off the main thread:\n" + "\n".join(
        _colab_rule_log[:10]
    )
