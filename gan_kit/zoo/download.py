"""Fetch checkpoint files into a local cache: Hugging Face files and plain URLs.

Hugging Face files (`hf://org/repo/path/to/file`) go through huggingface_hub's own cache
(shared with every other library). Plain URLs are downloaded into `cache_dir()/downloads`:
resumed with HTTP Range after a dropped connection, retried a bounded number of times,
shown with a tqdm.auto bar (which renders in notebooks), checked for size and sha256 when
those are known, and renamed into place only when complete, so the cache never holds a
partial file.

Every download is bounded: at most the registry's size where known, else
`max_download_bytes()` (4 GiB; `GAN_KIT_MAX_DOWNLOAD_BYTES` raises it), refused at once
when the server announces more and stopped when the body goes over; the server must send
something every `stall_timeout` seconds (30), and the whole download must end within
`deadline` seconds (`GAN_KIT_DOWNLOAD_DEADLINE`, 3600). Partial files left by a process
that died are removed by the next download into their folder.

Offline (`GAN_KIT_OFFLINE=1` or `HF_HUB_OFFLINE=1`), only cached files are used.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from gan_kit.errors import DownloadError, ExportError, InvalidInputError
from gan_kit.files import make_folder, remove_stale_partials

_CHUNK = 1 << 20
_TRUTHY = frozenset({"1", "true", "yes", "on"})
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})  # worth retrying
MAX_NAME_CHARS = 120  # of a cached download's file name (file systems allow 255 bytes)
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"  # characters a URL keeps as they are
DEFAULT_MAX_DOWNLOAD_BYTES = 4 << 30  # the largest published checkpoints are about 1 GB
DEFAULT_DEADLINE_S = 3600.0
DEFAULT_STALL_TIMEOUT_S = 30.0
_PARTIAL = re.compile(r"\..*\.(\d+)-[0-9a-f]{8}\.part")  # the names download_url gives them
_progress_bars: ContextVar[bool] = ContextVar("gan_kit_download_bars", default=True)


@contextmanager
def progress_bars(enabled: bool) -> Iterator[None]:
    """Within the block, downloads show progress bars only if `enabled` (the CLI's
    `--quiet` turns them off); Hugging Face downloads follow too."""
    token = _progress_bars.set(enabled)
    try:
        yield
    finally:
        _progress_bars.reset(token)


def _environment_number(name: str, default: float) -> float:
    """A positive number from the environment variable `name`, else `default`."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise InvalidInputError(f"{name} must be a positive number, got {text!r}")
    return value


def max_download_bytes() -> int:
    """The most bytes a download of unknown size may have: `GAN_KIT_MAX_DOWNLOAD_BYTES`,
    else 4 GiB (a server sending endless data must not fill the disk)."""
    return int(_environment_number("GAN_KIT_MAX_DOWNLOAD_BYTES", DEFAULT_MAX_DOWNLOAD_BYTES))


def download_deadline() -> float:
    """Seconds one download may take in all: `GAN_KIT_DOWNLOAD_DEADLINE`, else 3600."""
    return _environment_number("GAN_KIT_DOWNLOAD_DEADLINE", DEFAULT_DEADLINE_S)


def cache_dir() -> Path:
    """gan_kit's cache folder: `$GAN_KIT_CACHE`, else `$XDG_CACHE_HOME/gan_kit` or
    `~/.cache/gan_kit` (in Colab, point GAN_KIT_CACHE at Drive to keep it across sessions)."""
    configured = os.environ.get("GAN_KIT_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gan_kit"


def offline() -> bool:
    """Whether downloads are switched off (GAN_KIT_OFFLINE or HF_HUB_OFFLINE set truthy)."""
    return any(
        os.environ.get(name, "").strip().lower() in _TRUTHY
        for name in ("GAN_KIT_OFFLINE", "HF_HUB_OFFLINE")
    )


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def url_cache_path(url: str) -> Path:
    """Where the download of `url` is kept: its file name under a hash of the whole URL."""
    name = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    folder = hashlib.sha256(url.encode()).hexdigest()[:16]
    return cache_dir() / "downloads" / folder / safe_name(name)


def safe_name(name: str) -> str:
    """`name` (from a URL) as a file name every file system takes: no NUL, control
    characters or separators, not "." or "..", at most MAX_NAME_CHARS characters (and
    255 UTF-8 bytes), keeping the end, whose suffix tells the format."""
    cleaned = "".join("_" if not c.isprintable() or c in "/\\" else c for c in name).strip()
    cleaned = cleaned.lstrip(".")  # no "..", and no hidden names that look like partials
    cleaned = cleaned[-MAX_NAME_CHARS:]
    while len(cleaned.encode("utf-8", "surrogatepass")) > 255:
        cleaned = cleaned[1:]
    return cleaned or "download"


def download_url(
    url: str,
    *,
    sha256: str | None = None,
    size: int | None = None,
    retries: int = 5,
    timeout: float = DEFAULT_STALL_TIMEOUT_S,
    backoff: float = 1.0,
    progress: bool | None = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> Path:
    """The cached copy of `url`, downloading it first if needed (see the module doc), then
    checked against `sha256` and `size` where given; a dropped connection is retried
    `retries` times (after `backoff` seconds, doubling), waiting up to `timeout` seconds
    for each answer or piece of data (a stall), with a progress bar unless `progress` is
    False (None: unless `progress_bars(False)` is in effect). At most `size` bytes, else
    `max_bytes` (None: `max_download_bytes()`), are accepted, within `deadline` seconds in
    all (None: `download_deadline()`).

    Raises `DownloadError` when the transfer still fails after `retries` further attempts
    (dropped connections and transient HTTP statuses are retried), on any other HTTP error
    status, on a size or sha256 mismatch, when the server sends too much, goes silent
    before sending anything, or the deadline passes, or when offline and the file is not
    cached.
    """
    target = url_cache_path(url)
    if target.is_file() and not target.is_symlink():
        return target
    if target.is_symlink() or target.exists():  # not a regular file: forget it
        forget_cache_entry(target)
    if offline():
        raise DownloadError(
            f"{url} is not in the cache ({target}) and downloads are off "
            "(GAN_KIT_OFFLINE / HF_HUB_OFFLINE): go online once, or pass a local file"
        )
    try:
        make_folder(target.parent)
    except ExportError as error:
        raise DownloadError(f"{error} (set GAN_KIT_CACHE to a writable folder)") from error
    # Each download has its own partial file: two processes fetching the same URL must not
    # write into one file.
    partial = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    remove_stale_partials(target.parent, _PARTIAL, idle_s=timeout)
    limits = _Limits(
        cap=size if size is not None else (max_bytes or max_download_bytes()),
        cap_is_known_size=size is not None,
        stall_s=timeout,
        ends_at=time.monotonic() + (deadline or download_deadline()),
    )
    show = _progress_bars.get() if progress is None else progress
    try:
        _fetch_with_resume(url, partial, size, retries, limits, backoff, show)
        _verify(url, partial, size, sha256)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target


def forget_cache_entry(entry: Path) -> None:
    """Remove what stands at a cache entry's name but is not a regular file (a symlink,
    a FIFO, a socket, an empty folder), so that the file is made again."""
    try:
        if entry.is_dir() and not entry.is_symlink():
            entry.rmdir()
        else:
            entry.unlink()
    except OSError as error:
        raise DownloadError(
            f"the cache entry {entry} is not a regular file and cannot be removed "
            f"({error.strerror or error}); delete it, or set GAN_KIT_CACHE to another folder"
        ) from error


def _unresolvable(url: str) -> str | None:
    """Why `url`'s host cannot be reached at all (its name does not resolve: no network,
    or a wrong address), or None. Such a failure is immediate and final: nothing is worth
    retrying."""
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        return None
    try:
        socket.getaddrinfo(host, None)
    except socket.gaierror as error:
        return f"{host} cannot be reached ({error.strerror or error})"
    except (OSError, UnicodeError):
        return None
    return None


@dataclass(frozen=True)
class _Limits:
    """What one download may take: `cap` bytes (the known size, or the general cap), no
    stall over `stall_s` seconds, and an end before `ends_at` (time.monotonic())."""

    cap: int
    cap_is_known_size: bool
    stall_s: float
    ends_at: float

    def too_large(self, url: str, amount: str) -> DownloadError:
        if self.cap_is_known_size:
            return DownloadError(
                f"{url} sends {amount}, but the file has {self.cap} bytes: it is not the "
                "published file; nothing was kept"
            )
        return DownloadError(
            f"{url} sends {amount}, more than the {self.cap} bytes gan_kit accepts from a "
            "download of unknown size; nothing was kept. If the file is really that large, "
            "raise GAN_KIT_MAX_DOWNLOAD_BYTES (or pass max_bytes to download_url)"
        )

    def check_deadline(self, url: str) -> None:
        if time.monotonic() > self.ends_at:
            raise DownloadError(
                f"downloading {url} did not finish within the deadline; nothing was kept. "
                "Check the connection, or raise GAN_KIT_DOWNLOAD_DEADLINE (seconds)"
            )


class _Stalled(Exception):
    """The server sent nothing for the stall timeout; `received` bytes came first."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


def _fetch_with_resume(
    url: str,
    partial: Path,
    size: int | None,
    retries: int,
    limits: _Limits,
    backoff: float,
    progress: bool,
) -> None:
    """Write `url` to `partial`, continuing from its end after a dropped connection."""
    from tqdm.auto import tqdm

    partial.unlink(missing_ok=True)
    bar = tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc=_final_name(partial),
        disable=not progress,
    )
    failures: list[str] = []
    with bar:
        while True:
            limits.check_deadline(url)
            try:
                if _fetch_rest(url, partial, limits, bar):
                    return
                failures.append("the connection closed before the end of the file")
            except _Stalled as stall:
                if not stall.received:  # it accepts and never answers: no retry helps
                    raise DownloadError(
                        f"{url} sent nothing for {limits.stall_s:g} s; nothing was kept. "
                        "Check the address, or try again later"
                    ) from None
                failures.append(f"no data for {limits.stall_s:g} s")
            except urllib.error.HTTPError as exc:
                if exc.code not in _TRANSIENT_STATUSES:
                    raise DownloadError(
                        f"{url} answered HTTP {exc.code} ({exc.reason}): check the address"
                    ) from exc
                failures.append(f"HTTP {exc.code} ({exc.reason})")
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                if isinstance(getattr(exc, "reason", None), socket.gaierror):
                    raise DownloadError(
                        f"cannot download {url}: {_unresolvable(url) or exc.reason}; connect "
                        "to the internet or check the address"
                    ) from exc
                if isinstance(getattr(exc, "reason", exc), TimeoutError):
                    raise DownloadError(
                        f"{url} did not answer within {limits.stall_s:g} s; check the "
                        "address, or try again later"
                    ) from exc
                failures.append(f"{type(exc).__name__}: {exc}")
            if len(failures) > retries:
                raise DownloadError(
                    f"downloading {url} failed {len(failures)} times (last: {failures[-1]}); "
                    "check the connection and try again"
                )
            pause = backoff * 2 ** (len(failures) - 1)
            time.sleep(max(0.0, min(pause, limits.ends_at - time.monotonic())))


def _fetch_rest(url: str, partial: Path, limits: _Limits, bar) -> bool:
    """Append the rest of `url` to `partial`; True when the whole file has arrived.
    Raises `_Stalled` when the server stops sending, `DownloadError` when it announces or
    sends more than `limits.cap` or the deadline passes."""
    have = partial.stat().st_size if partial.exists() else 0
    ascii_url = urllib.parse.quote(url, safe=_URL_SAFE)  # e.g. a non-ASCII file name
    request = urllib.request.Request(ascii_url, headers={"User-Agent": "gan_kit"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    received = 0
    with urllib.request.urlopen(request, timeout=limits.stall_s) as response:
        if have and response.status != http.client.PARTIAL_CONTENT:
            have = 0  # the server ignored the Range: start over
        length = response.headers.get("Content-Length", "").strip()
        expected_end = have + int(length) if length.isdigit() else None  # else: unknown
        if expected_end is not None and expected_end > limits.cap:
            raise limits.too_large(url, f"{expected_end} bytes (its Content-Length)")
        if expected_end is not None and bar.total is None:
            bar.total = expected_end
        bar.n = have
        bar.refresh()
        with _local(partial), partial.open("ab" if have else "wb") as file:
            while True:
                try:
                    chunk = response.read1(_CHUNK)  # read1: keep what came before a drop
                except TimeoutError:
                    raise _Stalled(received) from None
                if not chunk:
                    break
                received += len(chunk)
                if have + received > limits.cap:
                    raise limits.too_large(url, f"more than {limits.cap} bytes")
                with _local(partial):
                    file.write(chunk)
                bar.update(len(chunk))
                limits.check_deadline(url)
    return expected_end is None or have + received >= expected_end


def _final_name(partial: Path) -> str:
    """The file name a partial download will have (for the progress bar)."""
    return partial.name.removeprefix(".").rsplit(".", 2)[0]


@contextmanager
def _local(path: Path) -> Iterator[None]:
    """Local disk errors while downloading are not the network's: no retry, a clear error."""
    try:
        yield
    except OSError as error:
        raise DownloadError(
            f"cannot write {path}: {error.strerror or error}; free some disk space or set "
            "GAN_KIT_CACHE to another folder"
        ) from error


def _verify(url: str, path: Path, size: int | None, sha256: str | None) -> None:
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise DownloadError(
            f"{url} gave {actual_size} bytes, but the file should have {size}: the server "
            "sent something else or the download was cut; try again later"
        )
    if sha256 is not None and (actual := sha256_of(path)) != sha256.lower():
        raise DownloadError(
            f"{url} has sha256 {actual}, expected {sha256}: the file is damaged or not the "
            "published one; nothing was kept, try again"
        )


HF_SCHEME = "hf://"


def is_hf_address(reference: object) -> bool:
    """Whether `reference` is an `hf://org/repo/path/to/file` address (a str)."""
    return isinstance(reference, str) and reference.startswith(HF_SCHEME)


def hf_address(repo_id: str, filename: str) -> str:
    """The `hf://` address of the file `filename` of the Hugging Face model repo `repo_id`."""
    return f"{HF_SCHEME}{repo_id}/{filename}"


def hf_address_parts(address: str) -> tuple[str, str]:
    """(repo id, file name in the repo) of an `hf://org/repo/path/to/file` address."""
    parts = address.removeprefix(HF_SCHEME).split("/")
    if len(parts) < 3 or not all(parts):
        raise InvalidInputError(
            f"{address!r} is not a Hugging Face file address: write hf://ORG/REPO/FILE "
            "(the file's path in the repo, e.g. hf://public-data/TADNE/models/x.pt)"
        )
    return "/".join(parts[:2]), "/".join(parts[2:])


def hf_hub_file(repo_id: str, filename: str, *, revision: str | None = None) -> Path:
    """The file `filename` of the Hugging Face model repo `repo_id` (at `revision`, None:
    the main branch), through huggingface_hub's cache.

    The cache location and offline switches are read now, not at import: `HF_HUB_CACHE`,
    else `HF_HOME/hub`, else huggingface_hub's default; offline serves only cached files.
    """
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise DownloadError(
            "huggingface_hub is needed for Hugging Face downloads: pip install huggingface_hub"
        ) from exc
    hub_cache = os.environ.get("HF_HUB_CACHE") or (
        str(Path(os.environ["HF_HOME"]) / "hub") if os.environ.get("HF_HOME") else None
    )
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    unreachable = None if offline() else _unresolvable(endpoint)
    try:
        with _hub_progress_bars(_progress_bars.get()):
            return Path(
                hf_hub_download(
                    repo_id,
                    filename,
                    revision=revision,
                    cache_dir=hub_cache,
                    local_files_only=offline() or unreachable is not None,
                )
            )
    except Exception as exc:  # huggingface_hub's errors differ across its versions
        where = f"{repo_id}/{filename}"
        if unreachable is not None:
            raise DownloadError(
                f"{where} is not in the Hugging Face cache and {unreachable}: connect to the "
                "internet, or use a local file or a bundled demo model"
            ) from exc
        if offline():
            raise DownloadError(
                f"{where} is not in the Hugging Face cache ({hub_cache or 'default'}) and "
                "downloads are off (GAN_KIT_OFFLINE / HF_HUB_OFFLINE): go online once"
            ) from exc
        raise DownloadError(
            f"could not download {where} from the Hugging Face Hub ({type(exc).__name__}: "
            f"{exc}); check the connection and the repo name"
        ) from exc


@contextmanager
def _hub_progress_bars(enabled: bool) -> Iterator[None]:
    """huggingface_hub's bars off within the block unless `enabled` (its switch is global:
    put back as it was)."""
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    if enabled or are_progress_bars_disabled():
        yield
        return
    disable_progress_bars()
    try:
        yield
    finally:
        enable_progress_bars()
