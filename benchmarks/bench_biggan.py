"""Speed and peak memory of the full-size anime BigGAN (run39) generator, gan_kit's vs the
published PyTorch port (HighCWu's), side by side on the same weights and inputs.

    python benchmarks/bench_biggan.py --batch 1 8 --repeats 3 \\
        [--reference-src /tmp/scratch/anime_biggan_toy/gradio]

A random full-size state dict in the HighCWu layout (ch=96, 256 px, 1000 classes) is
written to a temporary folder: exact u vectors (so the port's power iteration finds the
exact singular value and both compute the same image) and BN accumulators filled from one
batch of samples (so the images are not flat). `--reference-src` is a folder holding the
port's `model.py` (its `Generator`), kept outside this repository. Peak memory is measured
in a fresh subprocess per case: on the CPU the peak resident set during one forward
(VmHWM, reset through /proc/self/clear_refs after loading), on CUDA
torch.cuda.max_memory_allocated at batch 16.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import gan_kit
from gan_kit.generators.biggan import BigGANConfig, BigGANGenerator, truncated_z
from gan_kit.loading.biggan_highcwu import build_from_state_dict, highcwu_layout

PUBLISHED_PARAMETER_COUNT = 82_097_604
GPU_MEMORY_BATCH = 16


def top_singular_vector(weight: torch.Tensor, u_shape: tuple[int, ...]) -> torch.Tensor:
    """The u the port stores for `weight`: left singular vector [rows, 1] or right one
    [1, out] of the TF view [kh*kw*in, out] (whichever side is smaller)."""
    tf_view = weight.permute(*range(2, weight.dim()), 1, 0).reshape(-1, weight.shape[0])
    tf_view = tf_view.double()
    gram = tf_view @ tf_view.T if u_shape[1] == 1 else tf_view.T @ tf_view
    vector = torch.linalg.eigh(gram).eigenvectors[:, -1]
    return vector.float().reshape(u_shape)


def random_state_dict(seed: int) -> dict[str, torch.Tensor]:
    """A full-size HighCWu-layout state dict with random weights (all 198 keys)."""
    sampler = torch.Generator().manual_seed(seed)
    required, optional = highcwu_layout(BigGANGenerator(BigGANConfig()))
    state = {}
    for key, shape in required.items():
        if "accumulated" in key:
            state[key] = torch.ones(shape) if key.endswith("counter") else torch.zeros(shape)
        elif key.endswith("bn.weight"):
            state[key] = 1 + 0.1 * torch.randn(shape, generator=sampler)
        else:
            state[key] = 0.05 * torch.randn(shape, generator=sampler)
    state["blocks.4.attention.gamma"] = torch.tensor([0.5])
    for key, shape in optional.items():
        if key.endswith("weight_u"):
            state[key] = top_singular_vector(state[key.removesuffix("_u")], shape)
        elif key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(0)
        else:
            state[key] = torch.zeros(shape) if key.endswith("mean") else torch.ones(shape)
    fill_accumulators(state, seed)
    return state


def fill_accumulators(state: dict[str, torch.Tensor], seed: int, batch: int = 4) -> None:
    """Set every BN accumulator to the moments of one batch of samples (counter 8)."""
    generator = build_from_state_dict(state)
    z, y = sample_inputs(batch, seed)
    with torch.no_grad(), generator.collecting_statistics() as collected:
        generator(z, y)
    counter = 8.0
    for name, (mean, var) in collected.items():
        if name == "final_norm":
            prefix = "output_layer_bn"
        else:  # "blocks.0.norm1" -> "blocks.0.cond_norm1.bn_in_cond"
            block, norm = name.rsplit(".", 1)
            prefix = f"{block}.cond_{norm}.bn_in_cond"
        state[f"{prefix}.accumulated_mean"] = mean * counter
        state[f"{prefix}.accumulated_var"] = var * counter
        state[f"{prefix}.accumulated_counter"] = torch.tensor([counter])


def sample_inputs(batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents (truncation 1) and one-hot classes for `batch` samples."""
    sampler = torch.Generator().manual_seed(seed)
    z = truncated_z(batch, 1.0, sampler)
    classes = torch.randint(1000, (batch,), generator=sampler)
    return z, F.one_hot(classes, 1000).float()


def load_reference(source: Path, state: dict[str, torch.Tensor]) -> torch.nn.Module:
    """The port's generator, imported from `source` (outside this repo), with `state`."""
    sys.path.insert(0, str(source))
    from model import Generator  # type: ignore[import-not-found]

    reference = Generator(
        code_dim=140, n_class=1000, chn=96, blocks_with_attention="B5", resolution=256
    )
    reference.load_state_dict(state)
    return reference.eval()


def load_model(name: str, checkpoint: Path, reference_src: Path | None) -> torch.nn.Module:
    """gan_kit's generator ("gan_kit") or the port's ("HighCWu port") for `checkpoint`."""
    if name == "gan_kit":
        return gan_kit.load(checkpoint, device="cpu")
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    return load_reference(reference_src, state)


def interleaved_seconds_per_image(
    models: dict[str, torch.nn.Module], batch: int, repeats: int
) -> dict[str, list[float]]:
    """Wall-clock seconds per image of `repeats` calls of each model (after a warm-up
    call each), the models taking turns so that load from other work on a shared
    machine hits them alike."""
    z, y = sample_inputs(batch, seed=batch)
    times: dict[str, list[float]] = {name: [] for name in models}
    with torch.no_grad():
        for model in models.values():
            model(z, y)
        for _ in range(repeats):
            for name, model in models.items():
                start = time.perf_counter()
                model(z, y)
                times[name].append((time.perf_counter() - start) / batch)
    return times


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure_peak(args: argparse.Namespace) -> None:
    """(Subprocess) load one model, run one forward, print its peak memory as JSON."""
    model = load_model(args.measure_peak, args.checkpoint, args.reference_src)
    batch = args.batch[0]
    z, y = sample_inputs(batch, seed=0)
    if args.device == "cuda":
        model = model.cuda()
        z, y = z.cuda(), y.cuda()
        with torch.no_grad():
            model(z, y)  # warm-up: cuDNN workspaces, kernels
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            model(z, y)
            torch.cuda.synchronize()
        result = {"peak_mib": torch.cuda.max_memory_allocated() / 2**20}
    else:
        loaded = _vm_kib("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
        with torch.no_grad():
            model(z, y)
        result = {"loaded_mib": loaded / 1024, "peak_mib": _vm_kib("VmHWM") / 1024}
    print(json.dumps(result))


def peak_in_subprocess(args: argparse.Namespace, name: str, batch: int, device: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--measure-peak",
        name,
        "--checkpoint",
        str(args.checkpoint),
        "--batch",
        str(batch),
        "--device",
        device,
    ]
    if args.reference_src is not None:
        command += ["--reference-src", str(args.reference_src)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-src", type=Path, help="folder with the port's model.py")
    parser.add_argument("--checkpoint", type=Path, help="reuse a state dict written before")
    parser.add_argument("--measure-peak", help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_peak:
        measure_peak(args)
        return

    with tempfile.TemporaryDirectory() as folder:
        if args.checkpoint is None:
            args.checkpoint = Path(folder) / "pytorch_model.bin"
            torch.save(random_state_dict(seed=0), args.checkpoint)
        names = ["HighCWu port", "gan_kit"] if args.reference_src else ["gan_kit"]
        models = {name: load_model(name, args.checkpoint, args.reference_src) for name in names}
        ours = models["gan_kit"]
        parameters = sum(p.numel() for p in ours.parameters())
        assert parameters == PUBLISHED_PARAMETER_COUNT, parameters
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        print(f"CPU: {cpu}, {torch.get_num_threads()} threads; torch {torch.__version__}")
        print(f"gan_kit generator: {parameters:,} parameters\n")
        if "HighCWu port" in models:
            z, y = sample_inputs(2, seed=1)
            with torch.no_grad():
                difference = (ours(z, y) - models["HighCWu port"](z, y)).abs().max().item()
            print(f"max |gan_kit - port| over 2 images: {difference:.1e}\n")

        print("| generator | batch | s/image (median) | s/image (min) | speed-up | peak RSS MiB |")
        print("|---|---|---|---|---|---|")
        for batch in args.batch:
            times = interleaved_seconds_per_image(models, batch, args.repeats)
            for name, seconds in times.items():
                speedup = "-"
                if name == "gan_kit" and len(times) > 1:  # median of the paired ratios
                    ratios = [p / o for p, o in zip(times["HighCWu port"], seconds, strict=True)]
                    speedup = f"{statistics.median(ratios):.2f}x"
                peak = peak_in_subprocess(args, name, batch, "cpu")
                print(
                    f"| {name} | {batch} | {statistics.median(seconds):.3f} | {min(seconds):.3f} "
                    f"| {speedup} | {peak['peak_mib']:.0f} (loaded {peak['loaded_mib']:.0f}) |"
                )
        if torch.cuda.is_available():
            print(f"\n| generator | CUDA peak allocated at batch {GPU_MEMORY_BATCH} (MiB) |")
            print("|---|---|")
            for name in models:
                peak = peak_in_subprocess(args, name, GPU_MEMORY_BATCH, "cuda")
                print(f"| {name} | {math.ceil(peak['peak_mib'])} |")


if __name__ == "__main__":
    main()
