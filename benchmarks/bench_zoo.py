"""First load vs cached (converted) load, for a full-size synthetic checkpoint of each kind.

A zoo name or URL is fetched once, then built from its published format and converted to
gan_kit's safetensors file; every later load reads only that file. This measures, on the
CPU, what the first load costs after the download (read + build + write the conversion)
against what each later load costs (read the converted file), for:

- StyleGAN2 config-f 512 px as an NVIDIA TF pickle (anime-portraits-512's format);
- StyleGAN2 at TADNE's size (z = w = 1024, 4 mapping layers, 1024 channels up to 64 px)
  in rosinality's layout (tadne-512's format) and as a StyleGAN2-ext TF pickle (G and Gs,
  like the published `orig/...pkl`);
- StyleGAN2 config-f 512 px as a stylegan2-ada-pytorch pickle;
- the anime BigGAN run39 (ch = 96) as HighCWu's PyTorch state dict (anime-biggan-256's).

    python benchmarks/bench_zoo.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

from bench_stylegan2 import write_config_f_pickle  # noqa: E402
from stylegan2_writers import write_ada_pickle, write_rosinality  # noqa: E402

import gan_kit  # noqa: E402
from gan_kit.generators.biggan import BigGANConfig, BigGANGenerator  # noqa: E402
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator  # noqa: E402
from gan_kit.loading.biggan_highcwu import highcwu_layout  # noqa: E402
from gan_kit.loading.converted import write_converted  # noqa: E402
from gan_kit.loading.stylegan2_tf import tf_networks_from_generator  # noqa: E402
from gan_kit.loading.tf_network_pickle import (  # noqa: E402
    TFNetwork,
    read_networks,
    write_networks,
)

TADNE_CONFIG = StyleGAN2Config(
    resolution=512,
    z_dim=1024,
    w_dim=1024,
    mapping_layers=4,
    channels=(1024, 1024, 1024, 1024, 1024, 512, 256, 128),
)


def tadne_sized_networks(seed: int = 0) -> tuple[TFNetwork, TFNetwork, TFNetwork]:
    """(G, D, Gs) at TADNE's size as StyleGAN2-ext pickles them; weights drawn as TF does."""
    networks = tf_networks_from_generator(StyleGAN2Generator(TADNE_CONFIG))
    rng = np.random.default_rng(seed)
    for network in (networks[0], networks[2]):
        for part in (network, *network.components.values()):
            part.static_kwargs.update(resolution_h=512, resolution_w=512)
            for name, value in part.variables.items():
                scale = 0.0 if name.endswith("bias") else 1.0
                part.variables[name] = (rng.standard_normal(value.shape) * scale).astype(np.float32)
    return networks


def write_tadne_sized_rosinality(path: Path) -> None:
    write_rosinality(path, tadne_sized_networks()[2])


def write_tadne_sized_ext_pickle(path: Path) -> None:
    write_networks(path, tadne_sized_networks())


def write_ada_config_f(path: Path, scratch: Path) -> None:
    write_config_f_pickle(scratch)
    write_ada_pickle(path, read_networks(scratch)[2])


def write_biggan_state_dict(path: Path, seed: int = 0) -> None:
    """A full-size HighCWu-layout state dict; BN sums of a unit-variance, zero-mean input."""
    sampler = torch.Generator().manual_seed(seed)
    required, optional = highcwu_layout(BigGANGenerator(BigGANConfig()))
    state = {}
    for key, shape in {**required, **optional}.items():
        if key.endswith(("accumulated_counter", "accumulated_var", "running_var", "bn.weight")):
            state[key] = torch.ones(shape)
        elif key.endswith(("accumulated_mean", "running_mean")):
            state[key] = torch.zeros(shape)
        elif key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(0)
        else:
            state[key] = 0.05 * torch.randn(shape, generator=sampler)
    torch.save(state, path)


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    print(
        f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, median of {args.repeats}"
    )
    print(
        "| checkpoint | file MB | converted MB | first load (build + convert) s | cached load s |"
    )
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        writers: dict[str, tuple[str, Callable[[Path], None]]] = {
            "StyleGAN2 config-f 512, NVIDIA TF pickle": ("tf.pkl", write_config_f_pickle),
            "StyleGAN2 TADNE size, rosinality .pt": ("tadne.pt", write_tadne_sized_rosinality),
            "StyleGAN2-ext TADNE size, TF pickle (G + Gs)": (
                "tadne.pkl",
                write_tadne_sized_ext_pickle,
            ),
            "StyleGAN2 config-f 512, stylegan2-ada pickle": (
                "ada.pkl",
                lambda p: write_ada_config_f(p, scratch / "scratch.pkl"),
            ),
            "BigGAN run39 (ch 96), HighCWu state dict": ("biggan.bin", write_biggan_state_dict),
        }
        for label, (name, write) in writers.items():
            source, converted = scratch / name, scratch / f"{name}.safetensors"
            write(source)

            def first_load(source: Path = source, converted: Path = converted) -> None:
                write_converted(gan_kit.load(source, device="cpu"), converted)

            first = median_seconds(first_load, args.repeats)
            cached = median_seconds(lambda c=converted: gan_kit.load(c, device="cpu"), args.repeats)
            sizes = [p.stat().st_size / 2**20 for p in (source, converted)]
            print(f"| {label} | {sizes[0]:.0f} | {sizes[1]:.0f} | {first:.2f} | {cached:.2f} |")
            source.unlink()
            converted.unlink()


if __name__ == "__main__":
    main()
