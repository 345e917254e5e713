"""Migration 0012: journal rows without the step and text their events hold; llm_calls keyed by node (one b-tree
fewer, on SQLite WITHOUT ROWID, as chats). The developer log reads the same before and after, both ways."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from aga_swarm.schemas import SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store.database import HEAD_REVISION
from tests.engine.helpers import run_answering
from tests.migrations import alembic_on

GOAL = "Ask the user for their favourite colour\nWrite a haiku about it"


def _sqlite_without_rowid(engine: object, table: str) -> bool:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar_one()
    return "WITHOUT ROWID" in sql.upper()


async def test_the_developer_log_reads_the_same_across_0012(tmp_path: Path, empty_pg_url: str) -> None:
    for i, url in enumerate((f"sqlite:///{tmp_path / 'log12.db'}", empty_pg_url)):
        blobs = str(tmp_path / f"blobs{i}")
        # on SQLite with packed events: the downgrade reads them to put the journal's text back
        svc = SwarmService(open_engine(db_url=url, blob_url=blobs, compress_bytes=1))
        s = svc.create_swarm("u1", GOAL)
        svc.spawn(s.id)
        assert await run_answering(svc, s.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
        nodes = list(svc.state(s.id).nodes)
        seq = svc.get_swarm(s.id).last_seq // 2
        now = {n: svc.node_detail(s.id, n) for n in nodes}
        then = {n: svc.node_detail(s.id, n, at=seq) for n in nodes}
        assert all(d.journal for d in now.values()) and any(d.llm_calls for d in now.values())
        svc.close()

        engine, cfg = alembic_on(url)
        with engine.connect() as conn:  # at 0012 the journal's text is in its events only
            assert conn.execute(text("SELECT COUNT(*) FROM journal WHERE text IS NOT NULL")).scalar_one() == 0
        command.downgrade(cfg, "0011")
        with engine.connect() as conn:  # 0011: every row has its text, the call index is back
            bare = text("SELECT COUNT(*) FROM journal WHERE text IS NULL OR created_at IS NULL")
            assert conn.execute(bare).scalar_one() == 0
            got = conn.execute(text("SELECT text FROM journal WHERE swarm_id = :s AND node_id = 'n' ORDER BY id"),
                               {"s": s.id}).scalars().all()
        assert got == [j.text for j in now["n"].journal]
        assert "ix_llm_calls_node" in {ix["name"] for ix in inspect(engine).get_indexes("llm_calls")}
        if i == 0:
            assert not _sqlite_without_rowid(engine, "llm_calls") and not _sqlite_without_rowid(engine, "chats")
        command.upgrade(cfg, "0012")
        assert "ix_llm_calls_node" not in {ix["name"] for ix in inspect(engine).get_indexes("llm_calls")}
        assert inspect(engine).get_pk_constraint("llm_calls")["constrained_columns"] == ["swarm_id", "node_id", "id"]
        if i == 0:
            assert _sqlite_without_rowid(engine, "llm_calls") and _sqlite_without_rowid(engine, "chats")
        engine.dispose()

        svc = SwarmService(open_engine(db_url=url, blob_url=blobs, compress_bytes=1))
        try:
            assert svc.db.current_revision() == HEAD_REVISION
            # rows written before (with their text) and the same log, now and at a past seq
            assert {n: svc.node_detail(s.id, n) for n in nodes} == now
            assert {n: svc.node_detail(s.id, n, at=seq) for n in nodes} == then
            # a swarm run after the upgrade writes bare journal rows again, and reads them
            s2 = svc.create_swarm("u1", GOAL)
            svc.spawn(s2.id)
            assert await run_answering(svc, s2.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
            journal = svc.node_detail(s2.id, "n").journal
            assert [j.text for j in journal] == [e.data["text"] for e in svc.history(s2.id).events
                                                 if e.type.value == "journal" and e.node_id == "n"]
        finally:
            svc.close()
