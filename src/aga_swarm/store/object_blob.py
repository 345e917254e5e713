"""Blob stores in S3-compatible stores, Azure Blob Storage and Google Cloud Storage, through obstore.

obstore (Rust's ``object_store``) gives one client for the three clouds. Each store reads its credentials and
endpoint from the cloud's standard environment variables (``AWS_*``, ``AZURE_*``/``AZURITE_*``,
``GOOGLE_*``) when it is built; nothing here is stored in the database. Puts are atomic on every cloud (an
object is replaced whole, large ones through a multipart upload that commits at its end).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import obstore
from obstore.exceptions import BaseError as ObstoreError
from obstore.exceptions import NotFoundError

from .blob_keys import BlobStore, check_key, check_prefix
from .errors import BlobUrlError

if TYPE_CHECKING:
    from obstore.store import ObjectStore

_MISSING = (FileNotFoundError, NotFoundError)
DELETE_BATCH = 1000  # S3's DeleteObjects takes at most 1,000 keys


class ObjectBlobStore:
    """The ``BlobStore`` interface over one obstore store (whose own prefix comes from the URL's path)."""

    def __init__(self, store: ObjectStore, url: str) -> None:
        self.store = store
        self.url = url

    def __repr__(self) -> str:
        return f"ObjectBlobStore({self.url!r})"

    def put(self, key: str, data: bytes) -> None:
        obstore.put(self.store, check_key(key), data)

    def get(self, key: str) -> bytes:
        try:
            return bytes(obstore.get(self.store, check_key(key)).bytes())
        except _MISSING:
            raise KeyError(key) from None

    def list(self, prefix: str) -> list[str]:
        base = check_prefix(prefix)
        return sorted(meta["path"] for chunk in obstore.list(self.store, base, chunk_size=1000) for meta in chunk)

    def delete_prefix(self, prefix: str) -> None:
        keys = self.list(prefix)
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start:start + DELETE_BATCH]
            try:
                obstore.delete(self.store, batch)
            except _MISSING:  # deleted meanwhile by someone else: delete the rest one by one
                for key in batch:
                    try:
                        obstore.delete(self.store, key)
                    except _MISSING:
                        pass


def open_object_store(url: str) -> BlobStore:
    """An ``ObjectBlobStore`` for ``s3://bucket/prefix``, ``az://container/prefix`` or ``gs://bucket/prefix``."""
    from obstore.store import AzureStore, GCSStore, S3Store

    parts = urlsplit(url)
    scheme, container, prefix = parts.scheme.lower(), parts.netloc, parts.path.strip("/") or None
    makers: dict[str, Any] = {"s3": S3Store, "az": AzureStore, "gs": GCSStore}
    try:
        store = makers[scheme](container, prefix=prefix)
    except ObstoreError as exc:  # missing account, bad region ...: say it at startup, in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BlobUrlError(f"cannot open blob store {url!r}: {first} (credentials and endpoint come from "
                           f"the cloud's environment variables)") from None
    return ObjectBlobStore(store, url)
