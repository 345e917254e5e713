"""PostgreSQL: a chain's commit is sent ahead (``GroupCommit._group``: the next group's steps run while the server
commits the one before, whose events are held until the next transaction confirms it). A commit that fails
there is never reported: the group runs again, and every step of the chain commits exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from aga_swarm.actions import register_builtins
from aga_swarm.engine.claimed import PriorCommitFailed
from aga_swarm.engine.context import spawn_node
from aga_swarm.engine.fold import fold
from aga_swarm.engine.tx import SwarmTx
from aga_swarm.schemas import EventType, SwarmState, SwarmStatus
from aga_swarm.sdk import ActionSpec, Registry, StepContext
from aga_swarm.service.composition import open_engine
from aga_swarm.service.swarm_service import SwarmService

STEPS = 100
# the first time the event of step 45's journal line is written (a group in the middle of the chain), its
# transaction fails at the commit: a sequence is not rolled back with it, so the second attempt passes
FAIL_ONCE = """
CREATE SEQUENCE aga_test_fail_once;
CREATE FUNCTION aga_test_fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF strpos(NEW.data::text, '"step 45"') > 0 THEN
        IF nextval('aga_test_fail_once') = 1 THEN
            RAISE EXCEPTION 'aga_test: injected failure';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER aga_test_fail_once BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION aga_test_fail_once();
"""


class CountCtx(BaseModel):
    i: int = 0


def _service(pg_url: str, tmp_path: Path) -> tuple[SwarmService, str]:
    reg = register_builtins(Registry())

    @reg.step("count.step", context=CountCtx)
    def count(ctx: StepContext, data: CountCtx, result: None) -> None:
        ctx.journal(f"step {data.i}")
        if data.i + 1 < STEPS:
            ctx.goto(count, CountCtx(i=data.i + 1))
        else:
            ctx.complete("counted")

    reg.register_action(ActionSpec(id="count", description="count", entry_step="count.step", routable=False),
                        folder="test")
    svc = SwarmService(open_engine(db_url=pg_url, blob_url=str(tmp_path / "blobs"), registry=reg))
    s = svc.create_swarm("u1", "count")
    with svc.db.tx() as conn:
        tx = SwarmTx(conn, s.id, datetime.now(UTC))
        tx.set_status(SwarmStatus.RUNNING)
        spawn_node(tx, "n", None, 0, reg.get_action("count"), s.goal, s.name, {})
        tx.flush()
    return svc, s.id


@pytest.mark.parametrize("inject", [False, True])
async def test_a_chain_commits_every_step_once_when_a_commit_sent_ahead_fails(inject: bool, pg_url: str,
                                                                           tmp_path: Path) -> None:
    svc, sid = _service(pg_url, tmp_path)
    try:
        if inject:
            with svc.db.tx() as conn:
                conn.exec_driver_sql(FAIL_ONCE)
        group = svc.engine.executor.group
        confirmed: list[str] = []
        original = group.confirm

        def spy(pending: Any) -> None:
            try:
                original(pending)
            except PriorCommitFailed:
                confirmed.append("failed")
                raise
            confirmed.append("ok")

        group.confirm = spy  # type: ignore[method-assign]
        published: list[Any] = []
        svc.engine.listeners.append(lambda owner, events: published.extend(events))
        await svc.run_until_idle(sid, timeout=60)
        assert svc.get_swarm(sid).status is SwarmStatus.COMPLETED
        journal = [j.text for j in svc.node_detail(sid, "n").journal if j.text.startswith("step ")]
        assert journal == [f"step {i}" for i in range(STEPS)]  # each step once, in order
        events = svc.history(sid).events
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert fold(events, SwarmState(swarm_id=sid)) == svc.state(sid)
        # the groups' commits were sent ahead and confirmed by the next group's transaction
        assert confirmed.count("ok") >= 2
        # what was published is what was committed, each event once, in order (nothing of a failed commit)
        ran = [e for e in published if e.swarm_id == sid]
        assert [e.seq for e in ran] == sorted({e.seq for e in ran})
        assert {e.seq for e in ran} <= {e.seq for e in events}
        assert any(e.type is EventType.SWARM_STATUS for e in ran)
        if inject:  # the failing transaction ran twice: it failed (at its commit, or where the next one
            # confirmed it: ``PriorCommitFailed``), and its group ran again
            with svc.db.read() as conn:
                assert conn.exec_driver_sql("SELECT last_value FROM aga_test_fail_once").scalar() == 2
    finally:
        svc.close()
