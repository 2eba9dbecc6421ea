"""`gan_kit.load`: turn what the user typed (zoo name, URL, `hf://` address, local path)
into a generator, via the caches.

Names, URLs and `hf://` addresses are fetched once (see `gan_kit.zoo.download`) and
converted to gan_kit's safetensors format under `cache_dir()/converted`; later loads read
only that file, so they are fast, work offline and unpickle nothing. Local paths are read
where they are, by `gan_kit.loading` (which knows files and formats, nothing of names).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from gan_kit.devices import resolve_device
from gan_kit.errors import (
    CheckpointNotFoundError,
    DownloadError,
    ExportError,
    GanKitError,
    OutputExistsError,
    UnsupportedCheckpointError,
)
from gan_kit.files import not_a_regular_file
from gan_kit.loading import build_from_file, checkpoint_exists, converted
from gan_kit.zoo.download import (
    cache_dir,
    download_url,
    forget_cache_entry,
    hf_address,
    hf_address_parts,
    hf_hub_file,
    is_hf_address,
    sha256_of,
)
from gan_kit.zoo.registry import MODELS, ModelEntry, Source, get_model

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass
class _Opened:
    generator: nn.Module
    source: str  # what it was loaded from, for the converted file's header
    source_sha256: str | None  # None for local files: hashing them on every load is slow


def is_url(reference: object) -> bool:
    """Whether `reference` is an http(s) URL (a str)."""
    return isinstance(reference, str) and reference.startswith(("http://", "https://"))


def converted_cache_path(reference: str) -> Path:
    """Where the converted copy of `reference` (a zoo name, URL or `hf://` address) is
    cached."""
    if is_url(reference) or is_hf_address(reference):
        scheme = "url" if is_url(reference) else "hf"
        key = f"{scheme}-{hashlib.sha256(reference.encode()).hexdigest()[:16]}"
    else:
        key = get_model(reference).name
    return cache_dir() / "converted" / f"{key}{converted.SUFFIX}"


def load(reference: str | Path, device: str | torch.device | None = None) -> nn.Module:
    """Load a generator onto `device`, in eval mode, without gradients.

    `reference` is one of:
    - a model name from `gan_kit.models()` (e.g. "tadne-512"): downloaded into the cache
      the first time (Hugging Face files through huggingface_hub's cache), then converted
      to gan_kit's safetensors format, which later loads read instead, without pickle;
    - an http(s) URL or an `hf://org/repo/path/to/file` address (a file of a Hugging Face
      model repo): downloaded (resumed, verified) and converted the same way; the address
      of a registered model's file gets that model's settings too;
    - a local path: an NVIDIA TF pickle (`(G, D, Gs)`, the generator built is `Gs`), a
      PyTorch state dict, a TF checkpoint (folder or prefix), or a gan_kit converted file;
      the format is read from the file itself, not its name.
    `device` is "cpu", "cuda", "cuda:N" or a torch.device; None picks CUDA when available,
    else the CPU.
    """
    target = resolve_device(device)
    generator = _open(reference).generator
    generator.requires_grad_(False)
    return generator.eval().to(target)


def convert(source: str | Path, destination: str | Path, *, overwrite: bool = False) -> Path:
    """Convert `source` (name, URL, `hf://` address or path) to gan_kit's safetensors format
    at `destination` (a file path; its folder is created), replacing an existing file
    only if `overwrite` (never `source` itself).

    The converted file loads with `gan_kit.load(destination)`, without pickle, and gives
    bit-identical images. Returns the destination path.
    """
    target = Path(destination).expanduser()
    _check_conversion_target(source, target, overwrite=overwrite)
    opened = _open(source)
    digest = opened.source_sha256 or _file_sha256(Path(opened.source))
    return converted.write_converted(
        opened.generator, target, source_sha256=digest, source=opened.source
    )


def _check_conversion_target(source: str | Path, target: Path, *, overwrite: bool) -> None:
    """Refuse, before any work, to write over `source` itself or, unless `overwrite`,
    over an existing file."""
    if not is_url(source) and not is_hf_address(source):
        original = Path(source).expanduser()
        if target.exists() and original.exists() and os.path.samefile(original, target):
            raise OutputExistsError(
                f"{target} is the checkpoint being converted: choose another destination"
            )
    if target.is_dir():
        raise ExportError(f"cannot write {target}: it is a folder; name a file in it")
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target} exists; pass overwrite=True to replace it")


def _open(reference: str | Path) -> _Opened:
    if is_url(reference) or is_hf_address(reference):
        registered = registered_source(reference)
        if registered is not None and registered[1] is registered[0].default_source:
            return _open_model(registered[0])  # the model's own file: the model's cache
        spec = None if registered is None else registered[1]
        if is_url(reference):
            return _through_cache(reference, reference, _url_fetcher(reference, spec), spec)
        repo_id, filename = hf_address_parts(reference)
        fetch = lambda: hf_hub_file(repo_id, filename)  # noqa: E731
        return _through_cache(reference, reference, fetch, spec)
    if isinstance(reference, str) and reference in MODELS:
        return _open_model(MODELS[reference])
    path = Path(reference).expanduser()
    if isinstance(reference, str) and not checkpoint_exists(path) and _looks_like_a_name(reference):
        get_model(reference)  # raises UnknownModelError, listing the names
    _check_file_kind(path)
    return _Opened(build_from_file(path), str(path), None)


def _check_file_kind(path: Path) -> None:
    """Refuse at once a local path that is no regular file nor folder (a FIFO would block
    for ever, /proc/self/mem fails on reading), before any loader opens it."""
    if not path.exists() or path.is_dir() or not os.access(path, os.R_OK):
        return  # missing, a TF checkpoint folder or prefix, or unreadable: the loaders say
    problem = not_a_regular_file(path)
    if problem is not None:
        raise UnsupportedCheckpointError(
            f"{path} is {problem}, not a checkpoint file: pass a regular file (or a TF "
            "checkpoint folder)"
        )


def _looks_like_a_name(reference: str) -> bool:
    return "/" not in reference and "\\" not in reference and "." not in reference


def _open_model(entry: ModelEntry) -> _Opened:
    source = entry.default_source
    if source is not None and source.kind == "bundled":
        path = bundled_path(source)  # tiny and local: read in place, no conversion cache
        return _Opened(build_from_file(path), str(path), None)
    if source is not None:
        fetch = _fetcher(source)
    else:
        local = cache_dir() / source_filename(entry.sources[0])
        if not local.exists():
            raise CheckpointNotFoundError(_manual_instructions(entry, local))
        fetch = lambda: local  # noqa: E731
    return _through_cache(entry.name, _describe(source or entry.sources[0]), fetch, source)


def bundled_path(source: Source) -> Path:
    """Where a file shipped inside gan_kit is installed."""
    package, _, folder = source.location.partition("/")
    path = Path(str(importlib.resources.files(package))) / folder / source.filename
    if not path.is_file():
        raise CheckpointNotFoundError(
            f"{path} is missing from this gan_kit installation (it ships in assets/demo/ of "
            "the repository): reinstall gan_kit, or pass the file's path to gan_kit.load"
        )
    return path


def source_filename(source: Source) -> str:
    """The file name of a source once fetched and decompressed."""
    return Path(source.filename).name.removesuffix(".xz")


def _fetcher(source: Source) -> Callable[[], Path]:
    if source.kind == "huggingface":
        return lambda: hf_hub_file(source.location, source.filename)
    return _url_fetcher(source.location, source)


def _url_fetcher(url: str, spec: Source | None) -> Callable[[], Path]:
    if spec is None:
        return lambda: download_url(url)
    return lambda: download_url(url, sha256=spec.sha256, size=spec.size)


def _describe(source: Source) -> str:
    """The address of a source: `hf://...` for Hugging Face files, else its location."""
    if source.kind == "huggingface":
        return hf_address(source.location, source.filename)
    return source.location


def registry_entry(reference: str | Path) -> ModelEntry | None:
    """The registered model `reference` stands for: a zoo name, or the URL or `hf://`
    address of one of its files; None for anything else (a local path)."""
    if not isinstance(reference, str):
        return None
    if reference in MODELS:
        return MODELS[reference]
    registered = registered_source(reference)
    return None if registered is None else registered[0]


def registered_source(address: str) -> tuple[ModelEntry, Source] | None:
    """The registered model, and its source, published at `address` (a URL or `hf://`
    address); None for an address the registry does not list."""
    downloadable = (
        (entry, source)
        for entry in MODELS.values()
        for source in entry.sources
        if source.kind in ("huggingface", "url")
    )
    return next((pair for pair in downloadable if _describe(pair[1]) == address), None)


def _manual_instructions(entry: ModelEntry, local: Path) -> str:
    lines = [
        f"{entry.name} is not downloadable by gan_kit (published only as below). Download "
        f"it yourself, then pass the file to gan_kit.load, or put it at {local}:"
    ]
    lines += [f"  - {s.location} {s.filename}: {s.file_format}. {s.note}" for s in entry.sources]
    return "\n".join(lines)


def _through_cache(
    reference: str, source: str, fetch: Callable[[], Path], spec: Source | None = None
) -> _Opened:
    """Load the converted copy of `reference`, or fetch, build and convert it first."""
    target = converted_cache_path(reference)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        forget_cache_entry(target)
    elif target.is_file():
        header = converted.read_header(target) or {}
        stale = _not_converted_from(header, source, spec)
        if stale:
            warnings.warn(f"rebuilding the converted cache {target}: {stale}", stacklevel=4)
        else:
            try:
                generator = _with_source_settings(converted.build(target), spec)
                return _Opened(generator, source, header.get("source_sha256"))
            except GanKitError as exc:
                warnings.warn(
                    f"ignoring the unreadable converted cache {target}: {exc}", stacklevel=4
                )
    checkpoint = fetch()
    digest = _file_sha256(checkpoint)
    try:
        if spec is not None and spec.sha256 and digest != spec.sha256.lower():
            raise DownloadError(
                f"{checkpoint} has sha256 {digest}, expected {spec.sha256}: it is not the "
                "published file; load it again to download it again"
            )
        generator = _with_source_settings(build_from_file(checkpoint), spec)
    except GanKitError:  # damaged, or not a checkpoint at all (e.g. an HTML error page)
        _forget_download(checkpoint)  # so that loading again downloads it again
        raise
    try:
        converted.write_converted(generator, target, source_sha256=digest, source=source)
    except (OSError, ExportError) as exc:
        warnings.warn(
            f"loaded {reference}, but could not cache its converted copy at {target} ({exc}); "
            "set GAN_KIT_CACHE to a writable folder to make the next load fast",
            stacklevel=4,
        )
    return _Opened(generator, source, digest)


def _not_converted_from(header: dict, source: str, spec: Source | None) -> str | None:
    """Why a converted cache entry is not the conversion of `source` (its header names
    another source, or a sha256 other than the registry's), or None when it is."""
    if header and header.get("source") != source:
        return f"it was converted from {str(header.get('source'))[:200]!r}, not {source!r}"
    expected = None if spec is None or not spec.sha256 else spec.sha256.lower()
    if header and expected and header.get("source_sha256") != expected:
        return f"its source's sha256 is not the published {expected}"
    return None


def _forget_download(checkpoint: Path) -> None:
    """Delete a damaged file from gan_kit's download cache (never a user's own file)."""
    downloads = (cache_dir() / "downloads").resolve()
    if checkpoint.resolve().is_relative_to(downloads):
        checkpoint.unlink(missing_ok=True)


def _with_source_settings(generator: nn.Module, spec: Source | None) -> nn.Module:
    """Apply what the registry states about a source and its format cannot record. Also on
    cached conversions, so that a cache written before a registry fix is corrected."""
    if spec is not None and spec.normalize_z is not None:
        generator.set_latent_normalization(spec.normalize_z)
    return generator


def _file_sha256(path: Path) -> str | None:
    """sha256 of a file; Hugging Face cache blobs of LFS files are named by it already."""
    if not path.is_file():
        return None
    blob = path.resolve()
    if blob.parent.name == "blobs" and _HEX64.fullmatch(blob.name):
        return blob.name
    return sha256_of(path)
