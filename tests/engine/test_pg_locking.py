"""PostgreSQL: the swarm row is locked only around a transaction's writes (issue 14), and a transaction whose
swarm changed between its read and its writes runs again from a fresh read, so no change is lost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from aga_swarm.engine.errors import InvalidTransition
from aga_swarm.engine.tx import SwarmTx
from aga_swarm.schemas import EventType, SwarmStatus
from aga_swarm.service.composition import open_engine
from aga_swarm.service.swarm_service import SwarmService


@pytest.fixture
def pg_svc(pg_url: str, tmp_path: Path) -> Any:
    svc = SwarmService(open_engine(db_url=pg_url, blob_url=str(tmp_path / "blobs")))
    yield svc
    svc.close()


def _plain_url(svc: SwarmService) -> str:
    return svc.db.url.replace("postgresql+psycopg://", "postgresql://")


def _write_elsewhere(svc: SwarmService, swarm_id: str, **delta: int) -> None:
    """Another writer (a worker process, an API thread): a usage event in a transaction of its own."""
    with svc.db.tx() as conn:
        other = SwarmTx(conn, swarm_id, datetime.now(UTC))
        other.add_usage(**delta)
        other.flush()


def _usage_events(svc: SwarmService, swarm_id: str) -> list[tuple[int, dict[str, Any]]]:
    return [(e.seq, dict(e.data["delta"])) for e in svc.history(swarm_id).events if e.type is EventType.USAGE]


def test_the_swarm_row_is_not_locked_while_a_step_runs_and_a_stale_read_runs_again(pg_svc: SwarmService) -> None:
    svc = pg_svc
    swarm = svc.create_swarm("u1", "a goal")
    seen: list[int] = []

    def leader(tx: SwarmTx) -> int:
        seen.append(tx.state.seq)
        if len(seen) == 1:
            # while this transaction's Python runs, another connection takes the row's lock at once (NOWAIT
            # fails if anyone holds it) and commits a change to the same swarm
            with psycopg.connect(_plain_url(svc)) as other:
                other.execute("SELECT 1 FROM swarms WHERE id = %s FOR UPDATE NOWAIT", (swarm.id,))
                other.rollback()
            _write_elsewhere(svc, swarm.id, tokens_in=5)
        tx.add_usage(tokens_out=7)
        return len(seen)

    runs, tx, _ = svc.engine.executor.transact(swarm.id, leader)
    # the first run read seq 0; its writes found the row at seq 1 and it ran again from there, so the other
    # writer's event is kept and this one follows it
    assert seen == [0, 1] and runs == 2
    assert svc.engine.stats.stale_retries == 1
    assert _usage_events(svc, swarm.id) == [(1, {"tokens_in": 5}), (2, {"tokens_out": 7})]
    got = svc.get_swarm(swarm.id)
    assert got.last_seq == 2 == tx.state.seq
    assert (svc.state(swarm.id).usage.tokens_in, svc.state(swarm.id).usage.tokens_out) == (5, 7)


def test_a_transaction_started_from_the_kept_swarm_row_sees_what_others_committed(pg_svc: SwarmService) -> None:
    svc = pg_svc
    swarm = svc.create_swarm("u1", "a goal")
    ex = svc.engine.executor
    ex.transact(swarm.id, lambda tx: tx.add_usage(tokens_in=1))  # leaves the swarm row (seq 1) for the next one
    _write_elsewhere(svc, swarm.id, tokens_in=2)  # seq 2, behind this process's back
    with svc.db.tx() as conn:  # and the swarm pauses (seq 3)
        other = SwarmTx(conn, swarm.id, datetime.now(UTC))
        other.set_status(SwarmStatus.PAUSED)
        other.flush()
    seen: list[tuple[int, SwarmStatus]] = []

    def leader(tx: SwarmTx) -> None:
        seen.append((tx.state.seq, tx.state.status))
        if tx.state.status is not SwarmStatus.PAUSED:  # what the kept row says: a stale answer, never reported
            raise InvalidTransition("the swarm is not paused")
        tx.add_usage(tokens_in=4)

    ex.transact(swarm.id, leader)
    assert seen == [(1, SwarmStatus.DRAFT), (3, SwarmStatus.PAUSED)]
    assert [seq for seq, _ in _usage_events(svc, swarm.id)] == [1, 2, 4]
    assert svc.get_swarm(swarm.id).last_seq == 4
    assert svc.state(swarm.id).usage.tokens_in == 7
    # a real failure is still reported (after one run from a fresh read, under the lock)
    with pytest.raises(InvalidTransition):
        ex.transact(swarm.id, lambda tx: (_ for _ in ()).throw(InvalidTransition("no")))
    assert svc.get_swarm(swarm.id).last_seq == 4
