"""Final limits: the node that reaches one fails, the rest of the swarm is cancelled, and the swarm fails with a
reason naming the limit, its value and the node. Nothing reviews or re-plans it (it used to cascade)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from aga_swarm.engine import grouping
from aga_swarm.engine.fold import fold
from aga_swarm.engine.limits import breach_of, named
from aga_swarm.engine.steer import LimitStillBinds
from aga_swarm.schemas import Lifecycle, Limits, LLMSettings, SwarmConfig, SwarmState, SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.store import tables as t

from .helpers import comparable, run_answering

CHAIN_13 = "Plan: " * 13 + "write the last line"


def _config(svc: SwarmService, cid: str, *, llm: LLMSettings | None = None, **limits: Any) -> str:
    svc.save_config(SwarmConfig(id=cid, name=cid, limits=Limits(**limits), llm=llm or LLMSettings()))
    return cid


def _pending_operations(svc: SwarmService, swarm_id: str) -> int:
    with svc.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(t.operations).where(
            t.operations.c.swarm_id == swarm_id, t.operations.c.status.in_(["queued", "held", "running"]))
        ).scalar_one())


def _assert_final(svc: SwarmService, swarm_id: str, prefix: str) -> SwarmState:
    """The swarm failed on the limit at one node; every other node ended done or cancelled; nothing re-planned,
    nothing left to run, and the projection equals the fold of the history."""
    swarm = svc.get_swarm(swarm_id)
    assert swarm.status is SwarmStatus.FAILED
    reason = swarm.failure_reason or ""
    assert reason.startswith(prefix), reason
    state = svc.state(swarm_id)
    failed = [n for n in state.nodes.values() if n.lifecycle is Lifecycle.FAILED]
    assert len(failed) == 1 and failed[0].failure_reason == reason, [(n.id, n.failure_reason) for n in failed]
    assert f"reached at node {failed[0].id}" in reason
    for node in state.nodes.values():
        assert node.lifecycle in (Lifecycle.DONE, Lifecycle.FAILED, Lifecycle.CANCELLED), (node.id, node.lifecycle)
        if node.lifecycle is Lifecycle.CANCELLED:
            assert node.failure_reason == f"swarm stopped: {reason}"
    assert state.usage.replans == 0 and all(n.replans == 0 for n in state.nodes.values())
    assert not any("reviewing" in j.text for j in svc.journal(swarm_id, "n"))  # the root never reviewed
    assert _pending_operations(svc, swarm_id) == 0
    assert comparable(fold(svc.history(swarm_id).events, SwarmState(swarm_id=swarm_id))) == comparable(state)
    return state


async def test_the_13_level_chain_stops_at_the_depth_limit(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", CHAIN_13)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    state = _assert_final(svc, s.id, "depth limit 8 reached at node n.1.1.1.1.1.1.1")
    assert svc.get_swarm(s.id).failure_reason == "depth limit 8 reached at node n.1.1.1.1.1.1.1"
    assert len(state.nodes) <= 50
    assert max(n.depth for n in state.nodes.values()) == 7  # eight levels, the root's included


async def test_node_limit_cancels_running_siblings(svc: SwarmService) -> None:
    cid = _config(svc, "lim-nodes", max_nodes=6)
    s = svc.create_swarm("u1", "b\nc\nPlan: d; e; f; g\nAsk the user for a colour", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    state = _assert_final(svc, s.id, "node limit 6 reached at node n.3")
    assert state.usage.nodes == 6
    # the question was still open: its node was cancelled and its chat closed, not left awaiting a reply
    ask = state.nodes["n.4"]
    assert ask.lifecycle is Lifecycle.CANCELLED
    assert svc.waiting_chats(s.id) == []


async def test_model_call_limit(svc: SwarmService) -> None:
    cid = _config(svc, "lim-calls", max_llm_calls=4)
    s = svc.create_swarm("u1", "a\nb\nc\nPlan: d; e; f", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    state = _assert_final(svc, s.id, "model call limit 4 reached at node ")
    assert 1 <= state.usage.llm_calls <= 4  # calls under way count too: four were never exceeded


async def test_token_limit_holds_against_the_worst_case(svc: SwarmService) -> None:
    cid = _config(svc, "lim-tokens", max_tokens=2500, llm=LLMSettings(max_tokens=200))
    s = svc.create_swarm("u1", "a\nb\nc\nPlan: d; e; f", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    state = _assert_final(svc, s.id, "token limit 2500 reached at node ")
    assert 0 < state.usage.tokens_in + state.usage.tokens_out <= 2500
    assert state.usage.llm_calls >= 1  # calls ran until the next one's worst case no longer fitted


async def test_cost_limit_is_never_overshot(svc: SwarmService) -> None:
    priced = LLMSettings(max_tokens=200, price_in_per_mtok=1000.0, price_out_per_mtok=4000.0)
    cid = _config(svc, "lim-cost", max_cost_usd=5.0, llm=priced)
    s = svc.create_swarm("u1", "a\nb\nc\nPlan: d; e; f", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    state = _assert_final(svc, s.id, "cost limit $5.00 reached at node ")
    assert 0 < state.usage.cost_usd <= 5.0
    expected = (state.usage.tokens_in * 1000.0 + state.usage.tokens_out * 4000.0) / 1e6
    assert state.usage.cost_usd == pytest.approx(expected)


class Clock:
    """A clock that moves one second each time anyone reads it (so runs take a known, machine-free time)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        self.ticks = itertools.count()

    def __call__(self, *args: Any) -> datetime:
        return self.at + timedelta(seconds=next(self.ticks))

    def jump(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(grouping, "now", c)
    monkeypatch.setattr(SwarmService, "_now", lambda self: c())
    return c


async def test_time_limit(svc: SwarmService, clock: Clock) -> None:
    cid = _config(svc, "lim-time", max_seconds=5)
    s = svc.create_swarm("u1", "a\nb\nc\nPlan: d; e; f", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    _assert_final(svc, s.id, "time limit 5 s reached at node ")


async def test_paused_time_does_not_count(svc: SwarmService, clock: Clock) -> None:
    cid = _config(svc, "lim-time-paused", max_seconds=600)
    s = svc.create_swarm("u1", "a\nAsk the user for a colour", config_id=cid)
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    assert svc.waiting_chats(s.id)
    svc.pause(s.id)
    clock.jump(86_400)  # a day paused
    svc.resume(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    usage = svc.state(s.id).usage
    assert usage.running_since is None and 0 < usage.run_ms < 600_000


@pytest.mark.parametrize(("field", "value", "text"), [
    ("max_depth", 8, "depth limit 8"), ("max_nodes", 6, "node limit 6"), ("max_llm_calls", 4, "model call limit 4"),
    ("max_tokens", 2500, "token limit 2500"), ("max_cost_usd", 5.0, "cost limit $5.00"),
    ("max_cost_usd", 0.004, "cost limit $0.004"), ("max_seconds", 5, "time limit 5 s"),
    ("max_seconds", 1e6, "time limit 1000000 s"), ("max_seconds", 0.25, "time limit 0.25 s")])
def test_a_limit_named_in_a_reason_reads_back(field: str, value: float, text: str) -> None:
    assert named(field, value) == text
    breach = breach_of(f"{text} reached at node n.1.2 (what was measured)")
    assert breach is not None and (breach.field, breach.value, breach.limit, breach.node_id) == (
        field, value, text, "n.1.2")
    assert breach.binds(Limits(**{field: value})) and not breach.binds(Limits(**{field: value * 2}))
    assert breach.binds(Limits()) is (field != "max_seconds" and getattr(Limits(), field) <= value)  # no time limit
    assert breach_of(f"the root node failed: {text}") is None


async def test_retry_after_the_depth_limit_names_it_and_changes_nothing(svc: SwarmService) -> None:
    """The 13-level chain on the built-in config: retrying its root would meet the depth limit again at once, so
    it answers Conflict naming the limit and how to get past it (a new swarm: a built-in config cannot change)."""
    s = svc.create_swarm("u1", CHAIN_13)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    before = svc.state(s.id)
    with pytest.raises(LimitStillBinds) as exc:
        svc.retry_node(s.id, "n", owner_id="u1")
    assert str(exc.value) == (
        "node n cannot be retried: the swarm stopped on its depth limit 8 (reached at node n.1.1.1.1.1.1.1), and a "
        "retry would meet it again at once; its config 'local' is built in and cannot change: start a new swarm "
        "with a config whose limits.max_depth is above 8 (aga-swarm run --config-file FILE)")
    with pytest.raises(LimitStillBinds):  # any node of it: the limit is named before anything else
        svc.retry_node(s.id, "n.1.1")
    assert comparable(svc.state(s.id)) == comparable(before)


async def test_retry_after_a_limit_runs_once_the_config_raised_it(svc: SwarmService) -> None:
    cid = _config(svc, "lim-raise", max_nodes=6)
    s = svc.create_swarm("u1", "b\nc\nPlan: d; e; f; g\nAsk the user for a colour", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    with pytest.raises(LimitStillBinds, match=r"raise limits\.max_nodes above 6 in its config 'lim-raise'"):
        svc.retry_node(s.id, "n")
    _config(svc, cid, max_nodes=6)  # saved again, unchanged: still refused
    with pytest.raises(LimitStillBinds):
        svc.retry_node(s.id, "n")
    _config(svc, cid, max_nodes=30)
    root = svc.retry_node(s.id, "n")
    assert root.attempt == 2 and svc.get_swarm(s.id).status is SwarmStatus.RUNNING
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    usage = svc.state(s.id).usage
    assert 6 < usage.nodes <= 30  # the first attempt's nodes still count
