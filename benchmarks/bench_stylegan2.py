"""Time the config-f 512 px StyleGAN2 generator on the CPU (or GPU), optionally side by side
with NVIDIA's own PyTorch implementation (stylegan2-ada-pytorch, reference ops).

The benchmark writes a full-size NVIDIA TF pickle with random weights, loads it with
gan_kit and, when `--reference-src` points at a checkout of stylegan2-ada-pytorch kept
outside this repository, with NVIDIA's `legacy.load_network_pkl` too; both render the
same ws so the outputs are compared as well as timed.

    python benchmarks/bench_stylegan2.py --batch 1 8 [--reference-src PATH]
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

import gan_kit
from gan_kit.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from gan_kit.latents import z_from_seeds
from gan_kit.loading.stylegan2_tf import tf_networks_from_generator
from gan_kit.loading.tf_network_pickle import write_networks


def write_config_f_pickle(path: Path, resolution: int = 512, seed: int = 0) -> None:
    """A full-size config-f TF pickle, with random weights drawn as TF initialises them."""
    # config-f: fmap_base 16384 halved at each doubling, at most 512 (512 up to 64 px, 64 at 512).
    channels = tuple(min(16384 // 2 ** (k + 1), 512) for k in range(int(np.log2(resolution)) - 1))
    generator = StyleGAN2Generator(StyleGAN2Config(resolution=resolution, channels=channels))
    networks = tf_networks_from_generator(generator)
    rng = np.random.default_rng(seed)
    for network in (networks[0], networks[2]):
        for part in (network, *network.components.values()):
            for name, value in part.variables.items():
                if name.endswith("bias") or name == "lod":
                    fresh = np.zeros_like(value)
                elif name.endswith("noise_strength"):
                    fresh = np.full_like(value, 0.1)
                elif name == "dlatent_avg":
                    fresh = rng.standard_normal(value.shape) * 0.1
                else:
                    fresh = rng.standard_normal(value.shape)
                part.variables[name] = fresh.astype(np.float32)
    write_networks(path, networks)


def interleaved_medians(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each run, taking turns so that both see the same machine load."""
    for run in runs.values():
        run()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def load_nvidia(source: Path, pickle_path: Path, device: torch.device) -> torch.nn.Module:
    """NVIDIA's generator from its own code, imported from a checkout outside this repo."""
    sys.path.insert(0, str(source))
    import legacy  # type: ignore[import-not-found]

    with pickle_path.open("rb") as file:
        _, _, tf_gs = legacy._LegacyUnpickler(file).load()  # the D written here is empty
    return legacy.convert_tf_generator(tf_gs).eval().requires_grad_(False).to(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--reference-src", type=Path, help="checkout of stylegan2-ada-pytorch")
    args = parser.parse_args()
    device = torch.device(args.device)

    with tempfile.TemporaryDirectory() as scratch:
        pickle_path = Path(scratch) / "config-f.pkl"
        write_config_f_pickle(pickle_path, args.resolution)
        pickle_megabytes = pickle_path.stat().st_size / 2**20
        start = time.perf_counter()
        ours = gan_kit.load(pickle_path, device=device)
        load_seconds = time.perf_counter() - start
        reference = (
            load_nvidia(args.reference_src, pickle_path, device) if args.reference_src else None
        )

    print(
        f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads,"
        f" torch {torch.__version__}, device {device}"
    )
    print(f"gan_kit load of the {pickle_megabytes:.0f} MiB config-f pickle: {load_seconds:.2f} s")
    print("\n| batch | gan_kit s/image | NVIDIA reference s/image | speed-up | max abs diff |")
    print("|---|---|---|---|---|")
    with torch.no_grad():
        for batch in args.batch:
            ws = ours.mapping(z_from_seeds(range(batch), ours.z_dim).to(device), psi=0.7)
            runs = {"ours": lambda ws=ws: ours.synthesis(ws)}
            if reference is not None:
                runs["nvidia"] = lambda ws=ws: reference.synthesis(
                    ws, noise_mode="const", force_fp32=True
                )
            seconds = {
                name: value / batch
                for name, value in interleaved_medians(runs, args.repeats).items()
            }
            if reference is None:
                print(f"| {batch} | {seconds['ours']:.3f} | - | - | - |")
                continue
            difference = (runs["ours"]() - runs["nvidia"]()).abs().max().item()
            print(
                f"| {batch} | {seconds['ours']:.3f} | {seconds['nvidia']:.3f} | "
                f"{seconds['nvidia'] / seconds['ours']:.2f}x | {difference:.1e} |"
            )


if __name__ == "__main__":
    main()
