"""The store: migrations, both databases, blob key scoping."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from aga_swarm.store.blob import BlobKeyError, LocalBlobStore, MemoryBlobStore, scoped_key
from aga_swarm.store.database import HEAD_REVISION, MIGRATIONS_DIR, Database


def test_head_revision_constant_matches_migrations() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_migrations_run_on_sqlite_and_postgres(tmp_path: Path, pg_url: str) -> None:
    for url in (f"sqlite:///{tmp_path / 'm.db'}", pg_url):
        db = Database(url)
        assert db.current_revision() == HEAD_REVISION
        assert db.ping()
        db.dispose()


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize("store_factory", [lambda p: LocalBlobStore(p), lambda p: MemoryBlobStore()])
def test_blob_keys_cannot_escape_their_scope(tmp_path: Path, store_factory: object) -> None:
    store = store_factory(tmp_path / "blobs")  # type: ignore[operator]
    key = scoped_key("u1", "s1", "memory", "a.md")
    store.put(key, b"hello")
    assert store.get(key) == b"hello"
    assert store.list("users/u1/swarms/s1/") == [key]
    for bad in ("../etc/passwd", "users/u1/swarms/../../x", "users/u1/swarms/s1/../../u2/swarms/s2/x",
                "/abs/path", "users/u1/other/s1/x", "users/u1/swarms/s1/a/../../b"):
        with pytest.raises(BlobKeyError):
            store.put(bad, b"x")
    for seg in ("..", "a/b", "", "x" * 300):
        with pytest.raises(BlobKeyError):
            scoped_key("u1", "s1", seg)
    store.delete_prefix("users/u1/swarms/s1/")
    assert store.list("users/u1/swarms/s1/") == []
