"""The store: migrations, both databases, blob key scoping."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from aga_swarm.engine.errors import InvalidInput
from aga_swarm.schemas import SwarmConfig
from aga_swarm.service import SwarmService
from aga_swarm.store.blob import BlobKeyError, LocalBlobStore, MemoryBlobStore, scoped_key
from aga_swarm.store.database import HEAD_REVISION, MIGRATIONS_DIR, Database
from tests.migrations import alembic_on, insert_swarm


def test_head_revision_constant_matches_migrations() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_migrations_run_on_sqlite_and_postgres(tmp_path: Path, empty_pg_url: str) -> None:
    for url in (f"sqlite:///{tmp_path / 'm.db'}", empty_pg_url):
        db = Database(url)
        assert db.current_revision() == HEAD_REVISION
        assert db.ping()
        db.dispose()


@pytest.mark.sqlite_only("WAL is SQLite's journal mode")
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


def test_upgrading_a_0001_store_keeps_its_messages(tmp_path: Path, empty_pg_url: str) -> None:
    """Migration 0002 re-keys ``messages`` by (swarm, chat, order): the rows survive, the order stays unique."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    for url in (f"sqlite:///{tmp_path / 'old.db'}", empty_pg_url):
        engine, cfg = alembic_on(url)
        command.upgrade(cfg, "0001")
        with engine.begin() as conn:
            insert_swarm(conn)
            for i, content in enumerate(["first", "second", "third"]):
                conn.execute(text("INSERT INTO messages (swarm_id, id, chat_id, idx, role, content, reply_to, "
                                  "attachments, created_at) VALUES ('s1', :id, 'c1', :idx, 'agent', :content, NULL, "
                                  "'[]', 0)"), {"id": f"c1.m{i}", "idx": i, "content": content})
        engine.dispose()
        db = Database(url)
        assert db.current_revision() == HEAD_REVISION
        with db.read() as conn:
            rows = conn.execute(text("SELECT id, content FROM messages WHERE swarm_id = 's1' AND chat_id = 'c1' "
                                     "ORDER BY idx")).all()
        assert [tuple(r) for r in rows] == [("c1.m0", "first"), ("c1.m1", "second"), ("c1.m2", "third")]
        with pytest.raises(IntegrityError), db.tx() as conn:
            conn.execute(text("INSERT INTO messages (swarm_id, id, chat_id, idx, role, content, reply_to, "
                              "attachments, created_at) VALUES ('s1', 'x', 'c1', 1, 'user', 'dup', NULL, '[]', 0)"))
        db.dispose()


@pytest.mark.sqlite_only("the kept writer connection exists on SQLite alone (one writer at a time)")
def test_the_sqlite_writer_connection_recovers_from_failed_transactions(tmp_path: Path) -> None:
    """SQLite writers share one kept connection: a failed transaction must leave it ready for the next."""
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    insert = ("INSERT INTO users (id, username, username_key, password_hash, created_at) "
              "VALUES ('u1', 'ann', 'ann', 'h', 0)")
    with pytest.raises(RuntimeError), db.raw_tx() as conn:
        conn.cursor.execute(insert)
        raise RuntimeError("boom")
    with db.raw_tx() as conn:  # the first insert was rolled back: the same row goes in
        conn.cursor.execute(insert)
    db._writer_connection().dbapi.execute("BEGIN")  # a transaction somebody left open
    with db.raw_tx() as conn:
        conn.cursor.execute("SELECT count(*) FROM users")
        assert conn.cursor.fetchone()[0] == 1
    db.dispose()


def test_configs_belong_to_their_owner(svc: SwarmService) -> None:
    """Two owners may each have a config of one id; saving one never touches the other; nobody else may use
    either; a config saved without an owner is shared with everyone, and an owner's own hides it."""
    from aga_swarm.engine.errors import ConfigNotFound
    from aga_swarm.schemas import Limits

    svc.save_config(SwarmConfig(id="mine", name="u1's", limits=Limits(max_goal_chars=50)), owner_id="u1")
    svc.save_config(SwarmConfig(id="mine", name="u2's"), owner_id="u2")
    svc.save_config(SwarmConfig(id="mine", name="u1's, edited", limits=Limits(max_goal_chars=60)), owner_id="u1")
    svc.save_config(SwarmConfig(id="team", name="everyone's"))
    names = {owner: [c.name for c in svc.configs(owner)] for owner in ("u1", "u2", "u3")}
    local = [c.name for c in svc.engine.builtin_configs()]
    assert names["u1"] == [*local, "everyone's", "u1's, edited"]
    assert names["u2"] == [*local, "everyone's", "u2's"]
    assert names["u3"] == [*local, "everyone's"]
    with pytest.raises(InvalidInput):  # u1's limit applies to u1's swarms only
        svc.create_swarm("u1", "x" * 61, config_id="mine")
    assert svc.create_swarm("u2", "x" * 61, config_id="mine").config_id == "mine"
    with pytest.raises(ConfigNotFound):
        svc.create_swarm("u3", "a goal", config_id="mine")
    assert svc.create_swarm("u3", "a goal", config_id="team").config_id == "team"
    svc.save_config(SwarmConfig(id="team", name="u3's team"), owner_id="u3")
    assert [c.name for c in svc.configs("u3")] == [*local, "u3's team"]
    assert [c.name for c in svc.configs("u2")] == [*local, "everyone's", "u2's"]


def test_upgrading_a_0003_store_gives_its_configs_an_owner(tmp_path: Path, empty_pg_url: str) -> None:
    """Migration 0004 keys configs by (owner, id). Configs saved without an owner before it were the command
    line's: they become the CLI user's ("local"), so web users stop seeing them."""
    from alembic import command
    from sqlalchemy import create_engine, text

    for url in (f"sqlite:///{tmp_path / 'old3.db'}", empty_pg_url):
        engine, cfg = alembic_on(url)
        command.upgrade(cfg, "0003")
        with engine.begin() as conn:
            for cid, owner in (("from-cli", None), ("alices", "ua")):
                conn.execute(text("INSERT INTO configs (id, owner_id, name, data, created_at) VALUES "
                                  "(:id, :owner, :id, :data, 0)"),
                             {"id": cid, "owner": owner, "data": f'{{"id": "{cid}", "name": "{cid}"}}'})
        engine.dispose()
        service = SwarmService(db_url=url, blob_url=str(tmp_path / "blobs"))
        try:
            assert service.db.current_revision() == HEAD_REVISION
            assert [c.id for c in service.configs("ub")] == ["local"]
            assert [c.id for c in service.configs("ua")] == ["local", "alices"]
            assert [c.id for c in service.configs("local")] == ["local", "from-cli"]
            service.save_config(SwarmConfig(id="alices", name="bob's own"), owner_id="ub")
            assert [c.name for c in service.configs("ua")][-1] == "alices"
        finally:
            service.close()
        command.downgrade(cfg, "0003")  # and back, keeping one config per id
        with create_engine(url).connect() as conn:
            rows = conn.execute(text("SELECT id, owner_id FROM configs ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("alices", "ua"), ("from-cli", "local")]


def test_upgrading_a_0004_store_adds_the_memory_space(tmp_path: Path, empty_pg_url: str) -> None:
    """Migration 0005 adds ``memory_files``: a swarm from before it has an empty memory space, then takes files."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from aga_swarm.engine.memory import Upload
    from aga_swarm.service.composition import open_engine

    for i, url in enumerate((f"sqlite:///{tmp_path / 'old4.db'}", empty_pg_url)):
        engine, cfg = alembic_on(url)
        command.upgrade(cfg, "0004")
        with engine.begin() as conn:
            insert_swarm(conn)
        engine.dispose()
        svc = SwarmService(open_engine(db_url=url, blob_url=str(tmp_path / f"blobs{i}")))
        assert svc.db.current_revision() == HEAD_REVISION
        assert svc.memory("s1").files == [] and svc.state("s1").memory == {}
        svc.upload_memory("s1", [Upload("a.md", None, b"kept")])
        assert svc.memory_file("s1", "uploads/a.md")[1] == b"kept"
        assert list(svc.state("s1").memory) == ["uploads/a.md"]
        svc.close()
        command.downgrade(cfg, "0004")  # and back: the table goes, the swarm stays
        with create_engine(url).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM swarms")).scalar() == 1


def test_upgrading_a_0008_store_keeps_its_developer_log(tmp_path: Path, empty_pg_url: str) -> None:
    """Migration 0009 adds each call record's attempt and re-plan: a call recorded before it has neither (shown
    without one), a call recorded after it has both; downgrading drops the columns and keeps the records."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from aga_swarm.service.composition import open_engine

    for i, url in enumerate((f"sqlite:///{tmp_path / 'old8.db'}", empty_pg_url)):
        engine, cfg = alembic_on(url)
        command.upgrade(cfg, "0008")
        with engine.begin() as conn:
            insert_swarm(conn)
            conn.execute(text("INSERT INTO llm_calls (swarm_id, id, node_id, step, model, body, tokens_in, tokens_out, "
                              "latency_ms, cost_usd, attempts, created_at, seq) VALUES ('s1', 'n.llm1', 'n', "
                              "'plan.on_plan', 'old', '{}', 1, 2, 3.0, 0.0, 1, 0, 1)"))
        engine.dispose()
        svc = SwarmService(open_engine(db_url=url, blob_url=str(tmp_path / f"blobs{i}")))
        assert svc.db.current_revision() == HEAD_REVISION
        with svc.db.read() as conn:
            row = conn.execute(text("SELECT attempt, replan FROM llm_calls WHERE id = 'n.llm1'")).one()
        assert tuple(row) == (None, None)
        svc.close()
        command.downgrade(cfg, "0008")
        with create_engine(url).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM llm_calls")).scalar() == 1


async def test_history_refuses_a_limit_below_one(svc: SwarmService) -> None:
    """A negative LIMIT is no limit on SQLite and an error on PostgreSQL: refused alike, with the reason."""
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    for limit in (0, -3):
        with pytest.raises(InvalidInput, match=r"^limit must be at least 1$"):
            svc.history(s.id, limit=limit)
    assert [e.seq for e in svc.history(s.id, limit=2).events] == [1, 2]
