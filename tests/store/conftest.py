"""Blob stores for the conformance suite: every kind, opened by URL as the engine opens it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aga_swarm.store.blob import BlobStore, open_blob_store

from .emulators import (
    azure_env,
    create_azure_container,
    create_s3_bucket,
    s3_env,
    start_azurite,
    start_moto,
)

BUCKET = "aga-blobs"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = start_moto()
    create_s3_bucket(server.url, BUCKET)
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def azurite_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_azurite(tmp_path_factory.mktemp("azurite"))
    create_azure_container(server.url, BUCKET)
    yield server.url
    server.stop()


STORE_KINDS = ["memory", "dir", "file-url", "s3", "azure"]
OpenStore = Callable[[], BlobStore]


@pytest.fixture
def open_store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OpenStore:
    """A function that opens the parametrized kind of store by URL (again, for a second client of the same
    data). Object stores get a fresh prefix per test, so tests never see each other's keys."""
    kind = request.param
    run = uuid.uuid4().hex[:12]
    if kind == "memory":
        store = open_blob_store("memory://")
        return lambda: store  # one process's memory: a second client is the same object
    if kind == "dir":
        url = str(tmp_path / "blobs")
    elif kind == "file-url":
        url = f"file://{tmp_path / 'blobs'}"
    elif kind == "s3":
        for k, v in s3_env(request.getfixturevalue("moto_endpoint")).items():
            monkeypatch.setenv(k, v)
        url = f"s3://{BUCKET}/runs/{run}"
    elif kind == "azure":
        for k, v in azure_env(request.getfixturevalue("azurite_endpoint")).items():
            monkeypatch.setenv(k, v)
        url = f"az://{BUCKET}/runs/{run}"
    else:  # pragma: no cover
        raise AssertionError(kind)
    return lambda: open_blob_store(url)
