"""Migration 0010: developer-log entries get a kind; those written before it get theirs from the model name a step
error ("-") or a tool call ("tool:<id>") was recorded under."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from aga_swarm.schemas import LogEntryKind, SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store.database import HEAD_REVISION
from tests.engine.helpers import run_answering
from tests.migrations import alembic_on


async def test_entries_written_before_0010_get_their_kind(tmp_path: Path, empty_pg_url: str) -> None:
    for i, url in enumerate((f"sqlite:///{tmp_path / 'old9.db'}", empty_pg_url)):
        svc = SwarmService(open_engine(db_url=url, blob_url=str(tmp_path / f"blobs{i}")))
        s = svc.create_swarm("u1", "Ask the user for their favourite colour\nWrite a haiku about it")
        svc.spawn(s.id)
        assert await run_answering(svc, s.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
        ids = [c.id for c in svc.node_detail(s.id, "n").llm_calls]
        others = [c.id for c in svc.node_detail(s.id, "n.1").llm_calls]
        assert len(ids) == 2 and others
        svc.close()

        engine, cfg = alembic_on(url)
        command.downgrade(cfg, "0009")
        with engine.begin() as conn:  # as the code before 0010 recorded a step error and a tool call
            conn.execute(text("UPDATE llm_calls SET model = '-' WHERE swarm_id = :s AND id = :id"),
                         {"s": s.id, "id": ids[0]})
            conn.execute(text("UPDATE llm_calls SET model = 'tool:memory.read' WHERE swarm_id = :s AND id = :id"),
                         {"s": s.id, "id": ids[1]})
        engine.dispose()

        svc = SwarmService(open_engine(db_url=url, blob_url=str(tmp_path / f"blobs{i}")))
        try:
            assert svc.db.current_revision() == HEAD_REVISION
            kinds = {c.id: c.kind for c in svc.node_detail(s.id, "n").llm_calls}
            assert kinds[ids[0]] is LogEntryKind.STEP_ERROR
            assert kinds[ids[1]] is LogEntryKind.TOOL_CALL
            assert {c.kind for c in svc.node_detail(s.id, "n.1").llm_calls} == {LogEntryKind.MODEL_CALL}
        finally:
            svc.close()
