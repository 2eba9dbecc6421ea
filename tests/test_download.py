"""Plain-URL downloads against a loopback server: resume, retries, checks, offline."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loopback_server import Route, serve

from gan_kit.errors import DownloadError, InvalidInputError
from gan_kit.zoo import download
from gan_kit.zoo.download import download_url, url_cache_path

BODY = os.urandom(300_000)
BODY_SHA256 = hashlib.sha256(BODY).hexdigest()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GAN_KIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_KIT_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return tmp_path / "cache"


def fetch(url: str, **kwargs) -> Path:
    return download_url(url, backoff=0.01, timeout=5, progress=False, **kwargs)


def cache_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file())


def test_a_dropped_connection_resumes_with_a_range_request(cache):
    route = Route(BODY, drop="first")
    with serve({"/model.pkl": route}) as base:
        path = fetch(f"{base}/model.pkl", sha256=BODY_SHA256, size=len(BODY))
    assert path.read_bytes() == BODY
    assert route.requests == [None, f"bytes={len(BODY) // 2}-"]
    assert cache_files(cache) == [path]


def test_a_server_ignoring_range_is_restarted_from_zero(cache):
    route = Route(BODY, drop="first", ranges=False)
    with serve({"/m.pt": route}) as base:
        path = fetch(f"{base}/m.pt", sha256=BODY_SHA256)
    assert route.requests == [None, f"bytes={len(BODY) // 2}-"]
    assert path.read_bytes() == BODY


def test_a_connection_that_always_drops_fails_after_bounded_retries(cache):
    route = Route(BODY, drop="always")
    with (
        serve({"/m.pkl": route}) as base,
        pytest.raises(DownloadError, match=r"failed 3 times.*closed before the end"),
    ):
        fetch(f"{base}/m.pkl", retries=2)
    assert len(route.requests) == 3
    assert cache_files(cache) == []


def test_a_temporarily_unavailable_server_is_retried(cache):
    route = Route(BODY, unavailable_first=2)
    with serve({"/m.pkl": route}) as base:
        path = fetch(f"{base}/m.pkl", sha256=BODY_SHA256, retries=2)
    assert path.read_bytes() == BODY and route.requests == [None, None, None]


def test_404_fails_clearly_without_retrying(cache):
    route = Route(BODY, missing=True)
    with (
        serve({"/gone.pkl": route}) as base,
        pytest.raises(DownloadError, match=r"HTTP 404.*check the address"),
    ):
        fetch(f"{base}/gone.pkl")
    assert route.requests == [None] and cache_files(cache) == []


def test_a_wrong_size_is_refused_and_nothing_is_kept(cache):
    with (
        serve({"/m.pkl": Route(BODY)}) as base,
        pytest.raises(DownloadError, match=rf"{len(BODY)} bytes .*the file has 1234 bytes"),
    ):
        fetch(f"{base}/m.pkl", size=1234)
    assert cache_files(cache) == []


def test_a_wrong_hash_is_refused_and_nothing_is_kept(cache):
    with (
        serve({"/m.pkl": Route(BODY)}) as base,
        pytest.raises(DownloadError, match=r"sha256 .*expected 0{64}"),
    ):
        fetch(f"{base}/m.pkl", sha256="0" * 64)
    assert cache_files(cache) == []


def test_a_cached_file_is_served_without_the_network_and_offline(cache, monkeypatch):
    route = Route(BODY)
    with serve({"/m.pkl": route}) as base:
        url = f"{base}/m.pkl"
        first = fetch(url)
        monkeypatch.setenv("GAN_KIT_OFFLINE", "1")
        assert fetch(url) == first
    assert len(route.requests) == 1
    assert first == url_cache_path(url) and first.is_relative_to(cache)


@pytest.mark.parametrize("switch", ["GAN_KIT_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_and_not_cached_is_a_clear_error(switch, monkeypatch):
    monkeypatch.setenv(switch, "1")
    with pytest.raises(DownloadError, match=r"not in the cache.*downloads are off"):
        fetch("http://127.0.0.1:9/never-contacted.pkl")


def test_the_default_cache_is_under_the_user_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("GAN_KIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert download.cache_dir() == tmp_path / "gan_kit"


def test_an_unreadable_content_length_is_treated_as_unknown(cache):
    with serve({"/f.bin": Route(BODY, content_length="abc")}) as base:
        assert fetch(f"{base}/f.bin").read_bytes() == BODY


def test_a_cache_that_cannot_be_created_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    monkeypatch.setenv("GAN_KIT_CACHE", str(blocker))
    with (
        serve({"/f.bin": Route(BODY)}) as base,
        pytest.raises(DownloadError, match=r"cannot create the folder .*GAN_KIT_CACHE"),
    ):
        fetch(f"{base}/f.bin")


def test_a_full_disk_fails_at_once_without_retrying(cache, monkeypatch):
    """Writes of the partial file go to /dev/full: ENOSPC, which no retry can mend."""
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    real_open = Path.open

    def open_full(path, mode="r", *args, **kwargs):
        target = Path("/dev/full") if path.name.endswith(".part") else path
        return real_open(target, mode.replace("a", "w"), *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_full)
    route = Route(BODY)
    with (
        serve({"/f.bin": route}) as base,
        pytest.raises(DownloadError, match=r"No space left on device.*GAN_KIT_CACHE"),
    ):
        fetch(f"{base}/f.bin")
    assert len(route.requests) == 1


def test_two_downloads_of_one_url_use_separate_partial_files(cache, monkeypatch):
    partials: list[Path] = []
    real_fetch = download._fetch_with_resume
    monkeypatch.setattr(
        download,
        "_fetch_with_resume",
        lambda url, partial, *rest: partials.append(partial) or real_fetch(url, partial, *rest),
    )
    with serve({"/f.bin": Route(BODY)}) as base:
        first = fetch(f"{base}/f.bin")
        first.unlink()
        assert fetch(f"{base}/f.bin").read_bytes() == BODY
    assert len(set(partials)) == 2 and all(p.parent == first.parent for p in partials)


def test_non_ascii_and_very_long_file_names_download(cache):
    long_name = "x" * 300 + ".pkl"
    routes = {"/%C3%A9t%C3%A9.pkl": Route(BODY), f"/{long_name}": Route(BODY)}
    with serve(routes) as base:
        accented = fetch(f"{base}/été.pkl")
        long = fetch(f"{base}/{long_name}")
    assert accented.name == "été.pkl" and accented.read_bytes() == BODY
    assert long.name == long_name[-download.MAX_NAME_CHARS :] and long.read_bytes() == BODY


@pytest.fixture
def no_name_resolves(monkeypatch) -> list[str]:
    """No network: every host name lookup fails at once, as it does offline."""
    looked_up: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def test_no_network_fails_at_once_without_retries(cache, no_name_resolves):
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"models\.invalid cannot be reached.*connect to"):
        download_url("https://models.invalid/x.pkl", backoff=5.0, progress=False)
    assert time.monotonic() - started < 2 and no_name_resolves[0] == "models.invalid"
    assert cache_files(cache) == []


def test_no_network_for_the_hugging_face_hub_says_so_at_once(
    cache, no_name_resolves, tmp_path, monkeypatch
):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    started = time.monotonic()
    with pytest.raises(
        DownloadError, match=r"not in the Hugging Face cache and huggingface\.co cannot be reached"
    ):
        download.hf_hub_file("public-data/TADNE", "models/x.pt")
    assert time.monotonic() - started < 5


# --- hostile servers and caches: every download is bounded ------------------------------


def test_an_announced_size_over_the_cap_is_refused_before_any_body(cache):
    route = Route(BODY, content_length=str(10**12))
    with (
        serve({"/huge.pkl": route}) as base,
        pytest.raises(DownloadError, match=r"1000000000000 bytes .*GAN_KIT_MAX_DOWNLOAD_BYTES"),
    ):
        fetch(f"{base}/huge.pkl", max_bytes=1000)
    assert cache_files(cache) == [] and len(route.requests) == 1


def test_endless_data_is_stopped_at_the_cap(cache, monkeypatch):
    monkeypatch.setenv("GAN_KIT_MAX_DOWNLOAD_BYTES", "200000")
    with (
        serve({"/endless.pkl": Route(b"spam", endless=True, content_length="")}) as base,
        pytest.raises(DownloadError, match=r"more than 200000 bytes"),
    ):
        fetch(f"{base}/endless.pkl")
    assert cache_files(cache) == []


def test_the_registry_size_is_the_cap_of_a_known_file(cache):
    with (
        serve({"/m.pkl": Route(BODY, endless=True, content_length="")}) as base,
        pytest.raises(DownloadError, match=r"the file has 1000 bytes"),
    ):
        fetch(f"{base}/m.pkl", size=1000)
    assert cache_files(cache) == []


def test_the_size_cap_can_be_raised(cache, monkeypatch):
    monkeypatch.setenv("GAN_KIT_MAX_DOWNLOAD_BYTES", str(len(BODY)))
    with serve({"/m.pkl": Route(BODY)}) as base:
        assert fetch(f"{base}/m.pkl").read_bytes() == BODY


@pytest.mark.parametrize("value", ["-1", "lots", "inf"])
def test_a_bad_size_cap_setting_is_a_clear_error(cache, monkeypatch, value):
    monkeypatch.setenv("GAN_KIT_MAX_DOWNLOAD_BYTES", value)
    with pytest.raises(InvalidInputError, match="GAN_KIT_MAX_DOWNLOAD_BYTES must be a positive"):
        fetch("http://127.0.0.1:9/never-contacted.pkl")


def test_a_server_that_never_answers_fails_after_one_stall_without_retries(cache):
    route = Route(BODY, silent=True)
    with (
        serve({"/m.pkl": route}) as base,
        pytest.raises(DownloadError, match=r"did not answer within 0\.3 s"),
    ):
        download_url(f"{base}/m.pkl", timeout=0.3, backoff=0.01, progress=False)
    assert len(route.requests) == 1 and cache_files(cache) == []


def test_a_server_that_goes_silent_midway_is_resumed_then_given_up(cache):
    route = Route(BODY, stall_after=1000)
    with (
        serve({"/m.pkl": route}) as base,
        pytest.raises(DownloadError, match=r"(failed 3 times.*no data for 0\.3 s|sent nothing)"),
    ):
        download_url(f"{base}/m.pkl", timeout=0.3, retries=2, backoff=0.01, progress=False)
    assert route.requests[:2] == [None, "bytes=1000-"]
    assert cache_files(cache) == []


def test_a_dripping_server_is_stopped_by_the_deadline(cache):
    route = Route(BODY, drip_s=0.05)
    with (
        serve({"/m.pkl": route}) as base,
        pytest.raises(DownloadError, match=r"did not finish within the deadline.*DEADLINE"),
    ):
        download_url(f"{base}/m.pkl", timeout=2, deadline=0.5, progress=False)
    assert cache_files(cache) == []


def test_partial_files_of_dead_processes_are_removed_by_the_next_download(cache):
    with serve({"/x.pkl": Route(BODY)}) as base:
        folder = url_cache_path(f"{base}/x.pkl").parent
        folder.mkdir(parents=True)
        dead = dead_pid()
        stale = folder / f".x.pkl.{dead}-0123abcd.part"
        recent = folder / f".x.pkl.{dead}-4567abcd.part"  # maybe another machine's, writing
        alive = folder / f".x.pkl.{os.getpid()}-89abcdef.part"
        for partial in (stale, recent, alive):
            partial.write_bytes(b"half a file")
        an_hour_ago = time.time() - 3600
        for partial in (stale, alive):
            os.utime(partial, (an_hour_ago, an_hour_ago))
        fetch(f"{base}/x.pkl")
    assert not stale.exists() and recent.exists() and alive.exists()


def dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder"])
def test_a_cache_entry_that_is_not_a_regular_file_is_forgotten(cache, tmp_path, kind):
    route = Route(BODY)
    with serve({"/m.pkl": route}) as base:
        url = f"{base}/m.pkl"
        entry = url_cache_path(url)
        entry.parent.mkdir(parents=True)
        if kind == "symlink":
            other = tmp_path / "elsewhere.pkl"
            other.write_bytes(b"not the model")
            entry.symlink_to(other)
        elif kind == "fifo":
            os.mkfifo(entry)
        else:
            entry.mkdir()
        path = fetch(url)
    assert path == entry and path.is_file() and not path.is_symlink()
    assert path.read_bytes() == BODY and len(route.requests) == 1


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        ("/..", "download"),
        ("/%2E%2E", "download"),
        ("/a%00b.pkl", "a_b.pkl"),
        ("/.hidden", "hidden"),
    ],
)
def test_url_file_names_are_made_safe(cache, url_path, expected):
    assert url_cache_path(f"http://example.invalid{url_path}").name == expected


def test_names_of_many_multibyte_characters_fit_the_file_system(cache):
    name = url_cache_path("http://example.invalid/" + "é" * 300 + ".pkl").name
    assert name.endswith("é.pkl") and len(name.encode()) <= 255


def test_quiet_downloads_show_no_bar(cache, capsys):
    with serve({"/m.pkl": Route(BODY)}) as base, download.progress_bars(False):
        download_url(f"{base}/m.pkl", backoff=0.01, timeout=5)
    assert capsys.readouterr().err == ""
    with serve({"/m.pkl": Route(BODY)}) as base:
        download_url(f"{base}/m.pkl", backoff=0.01, timeout=5)
    assert "m.pkl" in capsys.readouterr().err
