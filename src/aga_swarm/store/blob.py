"""Blob store for large payloads. Keys are scoped to a user and a swarm and can never escape that scope.

``open_blob_store(url)`` picks the store by URL: a directory path or ``file://`` (the embedded default),
``memory://``, or an object store through obstore (``s3://``, ``az://``, ``gs://``, see
:mod:`.object_blob`). Any other scheme is a :class:`BlobUrlError` at startup, never a folder named after it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from .blob_keys import BlobKeyError, BlobStore, check_key, check_prefix, scoped_key, swarm_prefix
from .errors import BlobUrlError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: ``C:\x`` stays a path
OBJECT_STORE_SCHEMES = ("s3", "az", "gs")
KNOWN_SCHEMES = ("file", "memory", *OBJECT_STORE_SCHEMES)

__all__ = ["KNOWN_SCHEMES", "OBJECT_STORE_SCHEMES", "BlobKeyError", "BlobStore", "LocalBlobStore", "MemoryBlobStore",
           "blob_url_scheme", "check_blob_url", "check_key", "check_prefix", "open_blob_store", "scoped_key",
           "swarm_prefix"]


class LocalBlobStore:
    """Blobs as files under one directory; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise BlobKeyError(f"blob key escapes the store: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise KeyError(key) from None

    def list(self, prefix: str) -> list[str]:
        base = self._path(check_prefix(prefix) + "x").parent
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file()
                      and not p.name.startswith(".tmp-"))

    def delete_prefix(self, prefix: str) -> None:
        base = self._path(check_prefix(prefix) + "x").parent
        shutil.rmtree(base, ignore_errors=True)


class MemoryBlobStore:
    """In-process blob store (tests, notebooks)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.data[check_key(key)] = bytes(data)

    def get(self, key: str) -> bytes:
        return self.data[check_key(key)]

    def list(self, prefix: str) -> list[str]:
        base = check_prefix(prefix)
        return sorted(k for k in list(self.data) if k.startswith(base))

    def delete_prefix(self, prefix: str) -> None:
        base = check_prefix(prefix)
        for k in [k for k in list(self.data) if k.startswith(base)]:
            self.data.pop(k, None)


def blob_url_scheme(url: str) -> str | None:
    """The URL's scheme (lower case), or None for a plain directory path."""
    m = _SCHEME.match(url)
    return m.group(1).lower() if m else None


def check_blob_url(url: str) -> str:
    """The URL itself if ``open_blob_store`` can open it (no connection made); else a :class:`BlobUrlError`."""
    scheme = blob_url_scheme(url)
    if scheme is None:
        if not url.strip():
            raise BlobUrlError("the blob store URL is empty; give a directory, file://, memory://, s3://, az:// or gs://")
        return url
    if scheme not in KNOWN_SCHEMES:
        raise BlobUrlError(f"unknown blob store scheme {scheme!r} in {_redact(url)!r}; use a directory path, "
                           "file:///path, memory://, s3://bucket/prefix, az://container/prefix or gs://bucket/prefix")
    if not url[len(scheme) + 1:].startswith("//"):
        raise BlobUrlError(f"malformed blob store URL {_redact(url)!r}; expected {scheme}://...")
    if scheme == "file" and not url[len("file://"):].strip():
        raise BlobUrlError("file:// needs a directory, e.g. file:///srv/aga-blobs")
    if scheme in OBJECT_STORE_SCHEMES:
        parts = urlsplit(url)
        if not parts.netloc:
            kind = "container" if scheme == "az" else "bucket"
            raise BlobUrlError(f"{scheme}:// needs a {kind}: {scheme}://{kind}/optional/prefix")
        if parts.username or parts.password or parts.query:
            raise BlobUrlError(f"{scheme}:// takes no credentials or options in the URL; credentials come from "
                               "the cloud's standard environment variables")
    return url


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(parts.password, "***")
    return url


def open_blob_store(url: str) -> BlobStore:
    """The blob store a URL names: a directory path or ``file:///path``, ``memory://``, ``s3://bucket/prefix``,
    ``az://container/prefix`` or ``gs://bucket/prefix`` (credentials from each cloud's environment variables)."""
    scheme = blob_url_scheme(check_blob_url(url))
    if scheme is None:
        return LocalBlobStore(Path(url))
    if scheme == "memory":
        return MemoryBlobStore()
    if scheme == "file":
        return LocalBlobStore(Path(url[len("file://"):]))
    from .object_blob import open_object_store

    return open_object_store(url)
