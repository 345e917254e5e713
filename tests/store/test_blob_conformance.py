"""One conformance suite for every blob store: in-memory, a local directory (path and file:// URL), S3 (moto's
server) and Azure Blob Storage (Azurite). Each test opens the store by URL, as the engine does."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from aga_swarm.store.blob import BlobKeyError, scoped_key, swarm_prefix

from .conftest import STORE_KINDS, OpenStore

pytestmark = pytest.mark.parametrize("open_store", STORE_KINDS, indirect=True)

K1 = scoped_key("u1", "s1", "llm", "call-1.json")
K2 = scoped_key("u1", "s1", "memory", "notes", "a.md")
K_SIBLING = scoped_key("u1", "s10", "llm", "call-1.json")  # s1 is a string prefix of s10, not a key prefix
K_OTHER_USER = scoped_key("u2", "s1", "llm", "call-1.json")


def test_put_then_get_returns_the_same_bytes(open_store: OpenStore) -> None:
    store = open_store()
    every_byte = bytes(range(256)) * 4
    store.put(K1, every_byte)
    store.put(K2, b"")
    assert store.get(K1) == every_byte
    assert store.get(K2) == b""
    assert open_store().get(K1) == every_byte  # a second client sees it too


def test_list_is_recursive_sorted_and_matches_whole_segments(open_store: OpenStore) -> None:
    store = open_store()
    for key in (K2, K1, K_SIBLING, K_OTHER_USER):
        store.put(key, key.encode())
    assert store.list(swarm_prefix("u1", "s1")) == sorted([K1, K2])
    assert store.list("users/u1/swarms/s1") == sorted([K1, K2])  # no trailing slash: the same
    assert store.list("users/u1/swarms/") == sorted([K1, K2, K_SIBLING])
    assert store.list(scoped_key("u1", "s1", "memory") + "/") == [K2]
    assert store.list(swarm_prefix("u9", "s9")) == []


def test_delete_prefix_removes_that_swarm_only(open_store: OpenStore) -> None:
    store = open_store()
    for key in (K1, K2, K_SIBLING, K_OTHER_USER):
        store.put(key, b"x")
    store.delete_prefix("users/u1/swarms/s1")  # without the trailing slash too
    assert store.list(swarm_prefix("u1", "s1")) == []
    for gone in (K1, K2):
        with pytest.raises(KeyError):
            store.get(gone)
    assert store.get(K_SIBLING) == b"x"
    assert store.get(K_OTHER_USER) == b"x"
    store.delete_prefix(swarm_prefix("u1", "s1"))  # nothing left: no error
    store.delete_prefix(swarm_prefix("u7", "never"))


def test_missing_keys_raise_key_error(open_store: OpenStore) -> None:
    store = open_store()
    with pytest.raises(KeyError):
        store.get(scoped_key("u1", "s1", "nope.json"))
    store.put(K1, b"here")
    with pytest.raises(KeyError):
        store.get(K1 + ".missing")
    with pytest.raises(KeyError):  # a "directory" is not an object
        store.get(scoped_key("u1", "s1", "llm"))


def test_overwrite_is_atomic(open_store: OpenStore) -> None:
    """Readers see the old object or the new one, whole, never a mix or a torn write. The objects are over the
    5 MB multipart threshold of object stores, so the multipart path is what is checked there."""
    store = open_store()
    a, b = os.urandom(6_000_000), os.urandom(6_000_000)
    digests = {hashlib.sha256(a).digest(): "a", hashlib.sha256(b).digest(): "b"}
    store.put(K1, a)
    seen: list[str] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        reader = open_store()
        try:
            while not done.is_set() or not seen:
                seen.append(digests.get(hashlib.sha256(reader.get(K1)).digest(), "torn"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    for payload in (b, a, b, a, b):
        store.put(K1, payload)
    done.set()
    thread.join(timeout=120)
    assert not errors, errors
    assert seen and "torn" not in seen
    assert store.get(K1) == b
    assert store.list(swarm_prefix("u1", "s1")) == [K1]  # no temp or part objects left behind


def test_large_objects_round_trip(open_store: OpenStore) -> None:
    store = open_store()
    big = os.urandom(20 * 1024 * 1024)
    store.put(K1, big)
    got = open_store().get(K1)
    assert len(got) == len(big)
    assert hashlib.sha256(got).digest() == hashlib.sha256(big).digest()


BAD_KEYS = ["../etc/passwd", "users/u1/swarms/../../x", "users/u1/swarms/s1/../../u2/swarms/s2/x", "/abs/path",
            "users/u1/other/s1/x", "users/u1/swarms/s1/a/../../b", "users/u1/swarms/s1/./x", "users//swarms/s1/x",
            "users/u1/swarms/s1/a b", "users/u1/swarms/s1/" + "x" * 300, "users/u1/swarms/s1/é", "users/u1"]


def test_keys_cannot_escape_their_scope(open_store: OpenStore) -> None:
    store = open_store()
    store.put(K1, b"mine")
    for bad in BAD_KEYS:
        with pytest.raises(BlobKeyError):
            store.put(bad, b"x")
        with pytest.raises(BlobKeyError):
            store.get(bad)
    for bad_prefix in ("../", "users/u1/swarms/s1/../../", "users/", "users/u1/", "/", ""):
        with pytest.raises(BlobKeyError):
            store.list(bad_prefix)
        with pytest.raises(BlobKeyError):
            store.delete_prefix(bad_prefix)
    assert store.list("users/u1/swarms/") == [K1]  # nothing was written, nothing deleted
    assert store.get(K1) == b"mine"
