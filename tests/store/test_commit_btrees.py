"""Migrations that make a commit write fewer b-tree pages (bench/wal_frames.py counts them): 0013, the messages
table WITHOUT ROWID on SQLite; 0014, the nodes' parent index on whether a node is live rather than its lifecycle. A
store upgraded from before reads the same and keeps working; both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import inspect, text

from aga_swarm.schemas import SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store import sql
from aga_swarm.store.database import HEAD_REVISION
from tests.engine.helpers import run_answering
from tests.migrations import alembic_on

GOAL = "Ask the user for their favourite colour\nWrite a haiku about it"


def _without_rowid(engine: Any, table: str) -> bool:
    with engine.connect() as conn:
        sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar_one()
    return "WITHOUT ROWID" in sql.upper()


def _sqlite_indexes(engine: Any, table: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"),
                                {"t": table}).scalars())


def _messages(svc: SwarmService, swarm_id: str) -> dict[str, list[Any]]:
    return {c.id: svc.messages(swarm_id, c.id) for c in svc.chats(swarm_id)}


async def test_messages_read_the_same_across_0013(tmp_path: Path, empty_pg_url: str) -> None:
    for i, url in enumerate((f"sqlite:///{tmp_path / 'm13.db'}", empty_pg_url)):
        blobs = str(tmp_path / f"blobs{i}")
        svc = SwarmService(open_engine(db_url=url, blob_url=blobs))
        s = svc.create_swarm("u1", GOAL)
        svc.spawn(s.id)
        assert await run_answering(svc, s.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
        before = _messages(svc, s.id)
        assert sum(len(m) for m in before.values()) >= 2  # the question and the answer at least
        svc.close()

        engine, cfg = alembic_on(url)
        if i == 0:
            assert _without_rowid(engine, "messages")
            assert _sqlite_indexes(engine, "messages") == set()  # no autoindex: the key is the table's b-tree
        command.downgrade(cfg, "0012")
        if i == 0:
            assert not _without_rowid(engine, "messages")
            assert _sqlite_indexes(engine, "messages") == {"sqlite_autoindex_messages_1"}
        command.upgrade(cfg, "0013")
        if i == 0:
            assert _without_rowid(engine, "messages")
        engine.dispose()

        svc = SwarmService(open_engine(db_url=url, blob_url=blobs))
        try:
            assert svc.db.current_revision() == HEAD_REVISION
            assert _messages(svc, s.id) == before  # every message kept, in order
            s2 = svc.create_swarm("u1", GOAL)  # and new ones are written and read
            svc.spawn(s2.id)
            assert await run_answering(svc, s2.id, {"": ["green"]}) is SwarmStatus.COMPLETED
            assert any(m.content == "green" for ms in _messages(svc, s2.id).values() for m in ms)
        finally:
            svc.close()


def _liveness(url: str) -> dict[tuple[str, str], tuple[str, int]]:
    engine, _ = alembic_on(url)
    try:
        with engine.connect() as conn:
            return {(r.swarm_id, r.id): (r.lifecycle, r.live)
                    for r in conn.execute(text("SELECT swarm_id, id, lifecycle, live FROM nodes"))}
    finally:
        engine.dispose()


def _agrees(nodes: dict[tuple[str, str], tuple[str, int]]) -> bool:
    return all(live == int(lifecycle in sql.LIVE_LIFECYCLES) for lifecycle, live in nodes.values())


async def test_the_parent_index_holds_liveness_across_0014(tmp_path: Path, empty_pg_url: str) -> None:
    for i, url in enumerate((f"sqlite:///{tmp_path / 'n14.db'}", empty_pg_url)):
        blobs = str(tmp_path / f"blobs{i}")
        svc = SwarmService(open_engine(db_url=url, blob_url=blobs))
        done = svc.create_swarm("u1", GOAL)
        svc.spawn(done.id)
        assert await run_answering(svc, done.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
        asking = svc.create_swarm("u1", GOAL)  # parked on its question: live nodes beside ended ones
        svc.spawn(asking.id)
        await svc.run_until_idle(asking.id, timeout=60)
        assert svc.waiting_chats(asking.id)
        svc.close()
        nodes = _liveness(url)
        assert _agrees(nodes)  # the engine's flush keeps ``live`` true to the lifecycle
        assert {live for _, live in nodes.values()} == {0, 1}

        engine, cfg = alembic_on(url)
        command.downgrade(cfg, "0013")
        with engine.connect() as conn:
            cols = {c["name"] for c in inspect(conn).get_columns("nodes")}
            index = {ix["name"]: ix["column_names"] for ix in inspect(conn).get_indexes("nodes")}
        assert "live" not in cols and index["ix_nodes_parent"] == ["swarm_id", "parent_id", "lifecycle"]
        command.upgrade(cfg, "0014")
        with engine.connect() as conn:
            index = {ix["name"]: ix["column_names"] for ix in inspect(conn).get_indexes("nodes")}
            if i == 0:  # one seek of the index finds a live child (and reads no row)
                plan = " ".join(str(r[-1]) for r in conn.execute(text(
                    "EXPLAIN QUERY PLAN " + sql.ANY_LIVE_CHILD.sqlite.replace(":sid", "'s'").replace(":pid", "'n'"))))
                assert "COVERING INDEX ix_nodes_parent" in plan, plan
        engine.dispose()
        assert index["ix_nodes_parent"] == ["swarm_id", "parent_id", "live"]
        assert _liveness(url) == nodes  # filled from the lifecycles by the upgrade

        svc = SwarmService(open_engine(db_url=url, blob_url=blobs))
        try:
            assert svc.db.current_revision() == HEAD_REVISION
            chat = svc.waiting_chats(asking.id)[0].id
            svc.post_reply(asking.id, chat, "green")  # its nodes end after the upgrade
            assert await run_answering(svc, asking.id, {"": ["green"]}) is SwarmStatus.COMPLETED
        finally:
            svc.close()
        after = _liveness(url)
        assert _agrees(after) and {live for key, (_, live) in after.items() if key[0] == asking.id} == {0}
