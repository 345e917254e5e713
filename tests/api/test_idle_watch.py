"""The incremental idle check (``server/idle.py``): each idle period is reported by exactly one look, a swarm
looked at once is not read again until it changes, and the first look of a process covers every swarm. On
SQLite and PostgreSQL, with ``now`` chosen by the test (no waiting, no timing)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select, update

from aga_swarm.server.idle import IdleWatch
from aga_swarm.service import SwarmService
from aga_swarm.store import tables as t

IDLE = 600.0


def updated_at(svc: SwarmService, swarm_id: str) -> float:
    with svc.db.read() as conn:
        return float(conn.execute(select(t.swarms.c.updated_at).where(t.swarms.c.id == swarm_id)).scalar_one())


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def ids(found: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(i.swarm_id for i in found)


def asking(svc: SwarmService, goal: str = "Ask the user which colour the logo should be") -> str:
    swarm = svc.create_swarm("u", goal)
    svc.spawn(swarm.id)
    asyncio.run(svc.run_until_idle(swarm.id))
    return swarm.id


def test_each_idle_period_is_reported_by_one_look(svc: SwarmService) -> None:
    sid = asking(svc, "Ask the user about the deadline\nAsk the user about the budget")
    done = svc.create_swarm("u", "Write a haiku")
    svc.spawn(done.id)
    asyncio.run(svc.run_until_idle(done.id))
    svc.create_swarm("u", "Ask the user about a draft")  # a draft: not running
    changed = updated_at(svc, sid)
    watch = IdleWatch(IDLE)
    assert watch.due(svc.db, at(changed + IDLE - 1)) == []
    found = watch.due(svc.db, at(changed + IDLE))
    assert ids(found) == [sid]
    assert found[0].owner_id == "u" and found[0].since == at(changed)
    assert watch.due(svc.db, at(changed + IDLE + 30)) == []  # reported already
    assert watch.looked_at == 0  # and not read again
    # a reply makes progress: the next question opens a new idle period, reported once more
    chat = next(c for c in svc.chats(sid) if c.status.value == "awaiting_user")
    svc.post_reply(sid, chat.id, "Next Friday")
    asyncio.run(svc.run_until_idle(sid))
    again = updated_at(svc, sid)
    assert again > changed
    assert svc.get_swarm(sid).status.value == "running"
    assert watch.due(svc.db, at(again + IDLE - 1)) == []
    assert ids(watch.due(svc.db, at(again + IDLE))) == [sid]
    assert watch.due(svc.db, at(again + 2 * IDLE)) == []


def test_a_working_swarm_is_reported_once_its_work_waits_on_the_user(svc: SwarmService) -> None:
    swarm = svc.create_swarm("u", "Ask the user which city")
    svc.spawn(swarm.id)  # its spawn is queued, not run: the root is working, not waiting on the user
    spawned = updated_at(svc, swarm.id)
    watch = IdleWatch(IDLE)
    assert watch.due(svc.db, at(spawned + IDLE)) == []
    assert watch.looked_at == 1  # looked at, not idle
    asyncio.run(svc.run_until_idle(swarm.id))
    asked = updated_at(svc, swarm.id)
    assert ids(watch.due(svc.db, at(asked + IDLE))) == [swarm.id]


def test_the_first_look_covers_every_idle_swarm_and_a_paused_one_is_not_idle(svc: SwarmService) -> None:
    first, second, paused = asking(svc), asking(svc), asking(svc)
    svc.pause(paused)
    latest = max(updated_at(svc, s) for s in (first, second, paused))
    assert ids(IdleWatch(IDLE).due(svc.db, at(latest + 10 * IDLE))) == sorted([first, second])


def test_a_question_newer_than_the_swarm_row_waits_until_it_is_due(svc: SwarmService) -> None:
    """The swarm row's last change and the latest question normally coincide (one transaction sets both); if
    the question is newer, the period starts with the question, and the swarm is looked at again until due."""
    sid = asking(svc)
    asked = updated_at(svc, sid)
    with svc.db.tx() as conn:
        conn.execute(update(t.swarms).where(t.swarms.c.id == sid).values(updated_at=asked - 100))
    watch = IdleWatch(IDLE)
    assert watch.due(svc.db, at(asked - 100 + IDLE)) == []
    assert watch.due(svc.db, at(asked + IDLE - 1)) == []
    found = watch.due(svc.db, at(asked + IDLE))
    assert ids(found) == [sid] and found[0].since == at(asked)
    assert watch.due(svc.db, at(asked + 2 * IDLE)) == []


def test_a_pending_swarm_that_changes_is_reported_for_its_new_period_only(svc: SwarmService) -> None:
    sid = asking(svc, "Ask the user about the deadline\nAsk the user about the budget")
    asked = updated_at(svc, sid)
    with svc.db.tx() as conn:
        conn.execute(update(t.swarms).where(t.swarms.c.id == sid).values(updated_at=asked - 100))
    watch = IdleWatch(IDLE)
    assert watch.due(svc.db, at(asked - 100 + IDLE)) == []  # pending: its question is newer
    chat = next(c for c in svc.chats(sid) if c.status.value == "awaiting_user")
    svc.post_reply(sid, chat.id, "Next Friday")
    asyncio.run(svc.run_until_idle(sid))
    again = updated_at(svc, sid)
    assert watch.due(svc.db, at(asked + IDLE)) == []  # the old period ended before it was due
    assert ids(watch.due(svc.db, at(again + IDLE))) == [sid]
