"""Blob keys (every key lies under ``users/<user>/swarms/<swarm>/``, segment by segment checked) and the
``BlobStore`` protocol every store implements (``blob.py``: local and memory; ``object_blob.py``: S3, Azure,
GCS)."""

from __future__ import annotations

import re
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


def check_key(key: str) -> str:
    """The key itself if it lies inside a ``users/<user>/swarms/...`` scope with clean segments."""
    parts = key.split("/")
    if len(parts) < 4 or parts[0] != "users" or parts[2] != "swarms":
        raise BlobKeyError(f"blob key outside any user/swarm scope: {key!r}")
    for seg in parts[1:]:
        if not _SEGMENT.match(seg) or seg in {".", ".."}:
            raise BlobKeyError(f"invalid blob key segment: {seg!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A prefix (``users/<user>/swarms/`` or deeper), checked like a key, returned with one trailing slash.

    Prefixes match whole segments: ``.../s1/`` never matches ``.../s10/x``."""
    base = prefix.rstrip("/")
    check_key(base + "/x")
    return base + "/"


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def list(self, prefix: str) -> list[str]: ...
