"""Blob store for large payloads. Keys are scoped to a user and a swarm and can never escape that scope."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_SEGMENT = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


class BlobKeyError(ValueError):
    pass


def scoped_key(user_id: str, swarm_id: str, *parts: str) -> str:
    """Build ``users/<user>/swarms/<swarm>/<parts...>``; every segment is checked, so no ``..`` or ``/``."""
    segments = [user_id, swarm_id, *parts]
    for seg in segments:
        if not _SEGMENT.match(seg) or seg in {".", ".."}:
            raise BlobKeyError(f"invalid blob key segment: {seg!r}")
    return "/".join(["users", user_id, "swarms", swarm_id, *parts])


def swarm_prefix(user_id: str, swarm_id: str) -> str:
    return scoped_key(user_id, swarm_id) + "/"


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def list(self, prefix: str) -> list[str]: ...


class LocalBlobStore:
    """Blobs as files under one directory; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if len(parts) < 4 or parts[0] != "users" or parts[2] != "swarms":
            raise BlobKeyError(f"blob key outside any user/swarm scope: {key!r}")
        for seg in parts[1:]:
            if not _SEGMENT.match(seg) or seg in {".", ".."}:
                raise BlobKeyError(f"invalid blob key segment: {seg!r}")
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise BlobKeyError(f"blob key escapes the store: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/") + "/x").parent
        if not base.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file()
                      and not p.name.startswith(".tmp-"))

    def delete_prefix(self, prefix: str) -> None:
        import shutil

        base = self._path(prefix.rstrip("/") + "/x").parent
        shutil.rmtree(base, ignore_errors=True)


class MemoryBlobStore:
    """In-process blob store (tests, notebooks)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        LocalBlobStore._path(_NULL_LOCAL, key)
        self.data[key] = data

    def get(self, key: str) -> bytes:
        return self.data[key]

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.data if k.startswith(prefix))

    def delete_prefix(self, prefix: str) -> None:
        for k in [k for k in self.data if k.startswith(prefix)]:
            del self.data[k]


_NULL_LOCAL = LocalBlobStore.__new__(LocalBlobStore)
_NULL_LOCAL.root = Path("/nonexistent-blob-root").resolve()


def open_blob_store(url: str) -> BlobStore:
    """``file:///path`` or a plain path gives a local directory; ``memory://`` an in-process store."""
    if url.startswith("memory://"):
        return MemoryBlobStore()
    if url.startswith("file://"):
        url = url[len("file://"):]
    return LocalBlobStore(Path(url))
