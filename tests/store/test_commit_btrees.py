"""Migrations that make a commit write fewer b-tree pages (bench/wal_frames.py counts them): 0013, the messages
table WITHOUT ROWID on SQLite. A store upgraded from before reads the same and keeps working; both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import text

from aga_swarm.schemas import SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
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
