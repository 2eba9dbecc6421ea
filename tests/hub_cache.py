"""Test helper: a Hugging Face hub cache laid out by hand, for offline zoo tests."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def hand_built_hub_cache(hub: Path, repo_id: str, filename: str, content: Path) -> Path:
    """Lay `content` out as huggingface_hub caches a downloaded LFS file."""
    digest = hashlib.sha256(content.read_bytes()).hexdigest()
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = hub / f"models--{repo_id.replace('/', '--')}"
    (repo / "blobs").mkdir(parents=True)
    shutil.copyfile(content, repo / "blobs" / digest)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit / filename
    snapshot.parent.mkdir(parents=True)
    snapshot.symlink_to(os.path.relpath(repo / "blobs" / digest, snapshot.parent))
    return snapshot
