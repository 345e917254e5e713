"""The swarm row a process's last transaction left is reused on SQLite only while nothing else wrote to the
database (``engine/swarmrow.py``): a write by another connection (another process, a pooled connection) or by
a statement outside a ``SwarmTx`` on the writer's own connection is seen by the next transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aga_swarm.engine.tx import SwarmTx
from aga_swarm.schemas import EventType, SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.store import rows, sql

from ..conftest import make_service


def _touch(tx: SwarmTx) -> SwarmStatus:
    """A transaction that writes (an event moves the swarm's seq), and what status it started from."""
    tx.emit(EventType.AUTO_APPROVE, None, {"tool": "memory.write", "enabled": False})
    return tx.state.status


def _status_and_row(svc: SwarmService, swarm_id: str) -> tuple[SwarmStatus, object, object]:
    kept = svc.engine.executor.group.rows._rows.get(swarm_id)
    status, tx, _ = svc.engine.executor.transact(swarm_id, _touch)
    return status, tx.row, kept.row if kept is not None else None


def test_the_kept_swarm_row_is_reused_until_something_else_writes(tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    svc = make_service("sqlite", tmp_path, request)
    try:
        s = svc.create_swarm("u1", "a goal")
        svc.engine.executor.transact(s.id, _touch)
        status, row, kept = _status_and_row(svc, s.id)
        assert status is SwarmStatus.DRAFT and kept is not None and row is kept  # not read again

        # another connection (another process's) commits: the next transaction reads the row
        other = sqlite3.connect(tmp_path / "swarm.db")
        other.execute("UPDATE swarms SET status = 'paused' WHERE id = ?", (s.id,))
        other.commit()
        other.close()
        status, row, kept = _status_and_row(svc, s.id)
        assert status is SwarmStatus.PAUSED and row is not kept

        # a statement on the writer's own connection outside any SwarmTx: seen too
        with svc.db.raw_tx() as conn:
            sql.send(conn, sql.Q("UPDATE swarms SET status = 'draft' WHERE id = :id"), {"id": s.id})
        status, row, kept = _status_and_row(svc, s.id)
        assert status is SwarmStatus.DRAFT and row is not kept

        # a transaction that wrote and rolled back leaves nothing stale behind
        def fails(tx: SwarmTx) -> None:
            tx.set_status(SwarmStatus.FAILED, "no")
            tx.flush()
            raise RuntimeError("rolled back")

        try:
            svc.engine.executor.transact(s.id, fails)
        except RuntimeError:
            pass
        status, _, _ = _status_and_row(svc, s.id)
        assert status is SwarmStatus.DRAFT
        status, row, kept = _status_and_row(svc, s.id)
        assert status is SwarmStatus.DRAFT and row is kept  # and reused again after that
    finally:
        svc.close()


def test_a_service_write_leaves_its_row_for_the_next_transaction(tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    """The service's transactions (a spawn, a pause) run on the writer's connection and keep what they left, so
    the runner's next transaction on the swarm starts from it; a write by another connection is still seen."""
    svc = make_service("sqlite", tmp_path, request)
    try:
        s = svc.create_swarm("u1", "a goal")
        svc.set_auto_approve(s.id, True, "memory.write")
        status, row, kept = _status_and_row(svc, s.id)
        assert status is SwarmStatus.DRAFT and kept is not None and row is kept
        assert rows.auto_approve_from_row(kept) == ["memory.write"]  # the service's write is in the kept row

        svc.set_auto_approve(s.id, False, "memory.write")
        other = sqlite3.connect(tmp_path / "swarm.db")
        other.execute("UPDATE swarms SET status = 'paused' WHERE id = ?", (s.id,))
        other.commit()
        other.close()
        status, row, kept = _status_and_row(svc, s.id)
        assert status is SwarmStatus.PAUSED and kept is not None and row is not kept
    finally:
        svc.close()
