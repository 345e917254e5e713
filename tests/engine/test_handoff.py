"""A reply's model call handed to the serving runner (``GroupCommit.transact`` with ``claim_tail``) has no operation
row: the node's ``llm`` continuation, committed with the reply, is its record. If the process dies before the call
is recorded, recovery re-derives it from the node (``modelcall.derive_lost_model_calls``): at a start, all of them;
while other workers may be making calls, only those older than a lease. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from aga_swarm.engine import resume
from aga_swarm.schemas import Lifecycle, SwarmStatus
from aga_swarm.service import SwarmService

from .helpers import run_answering

GOAL = "Ask the user for their favourite colour"


def _operations(svc: SwarmService, swarm_id: str) -> list[tuple[str, str]]:
    with svc.db.read() as conn:
        return [(r.kind, r.status) for r in conn.execute(
            text("SELECT kind, status FROM operations WHERE swarm_id = :s"), {"s": swarm_id})]


async def _asked(svc: SwarmService) -> tuple[str, str]:
    s = svc.create_swarm("u1", GOAL)
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    chat = svc.waiting_chats(s.id)[0]
    return s.id, chat.id


def _reply_and_die(svc: SwarmService, swarm_id: str, chat_id: str) -> None:
    """The reply's transaction as the server's runs it (its model call claimed for this process's runner), then
    nothing: as if the process died right after the commit."""
    executor = svc.engine.executor
    _, _, claimed = executor.transact(
        swarm_id, lambda tx: resume.reply(tx, executor, chat_id, "blue", lambda: []), claim_tail=True)
    assert claimed is not None and claimed.id < 0  # handed over with no row


async def test_a_handed_over_model_call_has_no_row_and_is_re_derived_after_a_crash(svc: SwarmService) -> None:
    sid, chat = await _asked(svc)
    _reply_and_die(svc, sid, chat)
    waiting = [n for n in svc.state(sid).nodes.values() if n.lifecycle is Lifecycle.WAITING_LLM]
    assert len(waiting) == 1 and waiting[0].chat_id == chat
    assert not any(kind == "llm_call" for kind, _ in _operations(svc, sid))
    # while a live worker may still be making it (its continuation is younger than a lease), nothing is derived
    assert svc.runner.recover(all_running=False) == 0
    assert not any(kind == "llm_call" for kind, _ in _operations(svc, sid))
    # at a start (or once a lease has passed) it is queued again, once, and the run ends as it would have
    assert svc.runner.recover(all_running=True) == 1
    assert svc.runner.recover(all_running=True) == 0
    assert _operations(svc, sid) == [("llm_call", "queued")]
    assert await run_answering(svc, sid) is SwarmStatus.COMPLETED
    report = svc.state(sid).nodes[waiting[0].id].report or ""
    assert "blue" in report
    assert _operations(svc, sid) == []


async def test_a_lost_model_call_older_than_a_lease_is_taken_over(svc: SwarmService) -> None:
    sid, chat = await _asked(svc)
    _reply_and_die(svc, sid, chat)
    svc.runner.lease_seconds = 0.0  # every continuation is older than a lease now
    assert svc.runner.recover(all_running=False) == 1
    assert await run_answering(svc, sid) is SwarmStatus.COMPLETED


async def test_a_lost_model_call_of_a_paused_swarm_is_held(svc: SwarmService) -> None:
    sid, chat = await _asked(svc)
    _reply_and_die(svc, sid, chat)
    svc.pause(sid)
    assert svc.runner.recover() == 1
    assert _operations(svc, sid) == [("llm_call", "held")]
    svc.resume(sid)
    assert await run_answering(svc, sid) is SwarmStatus.COMPLETED
