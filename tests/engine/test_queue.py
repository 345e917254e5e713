"""The durable queue: pause holds, resume releases in order, one operation per node at a time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from aga_swarm.actions import register_builtins
from aga_swarm.actions.outputs import DoOutput
from aga_swarm.engine.context import spawn_node
from aga_swarm.engine.fold import fold
from aga_swarm.engine.tx import SwarmTx
from aga_swarm.llm.protocol import LLMRequest, LLMResponse
from aga_swarm.llm.scripted import ScriptedModel
from aga_swarm.schemas import OperationStatus, SwarmState, SwarmStatus
from aga_swarm.sdk import ActionSpec, ChildrenResult, Registry, StepContext
from aga_swarm.service import SwarmService
from aga_swarm.store import tables as t

from ..conftest import MakeService, make_service
from .helpers import keep_done_operations, run_answering


class SlowModel:
    """The scripted model with a delay, recording how many calls overlap per node and overall."""

    def __init__(self, delay: float = 0.02) -> None:
        self.inner = ScriptedModel()
        self.model = "slow-scripted"
        self.delay = delay
        self.active: dict[str, int] = {}
        self.max_per_node = 0
        self.max_total = 0
        self.total = 0

    async def complete(self, request: LLMRequest, output_model: type[BaseModel]) -> LLMResponse:
        key = str(request.facts.get("directive"))
        self.active[key] = self.active.get(key, 0) + 1
        self.total += 1
        self.max_per_node = max(self.max_per_node, self.active[key])
        self.max_total = max(self.max_total, self.total)
        try:
            await asyncio.sleep(self.delay)
            return await self.inner.complete(request, output_model)
        finally:
            self.active[key] -= 1
            self.total -= 1


async def _execute_chain(svc: SwarmService, op: Any) -> None:
    while op is not None:
        op = (await svc.engine.executor.execute(op)).chained


async def test_pause_holds_and_resume_releases_in_order(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "\n".join(f"task {i}" for i in range(8)))
    svc.spawn(s.id)
    for op in svc.runner.claim(10, s.id):  # the root's operations (each followed by its chained next one)
        await _execute_chain(svc, op)
    svc.pause(s.id)
    with svc.db.read() as conn:
        held = conn.execute(select(t.operations.c.id, t.operations.c.status).where(
            t.operations.c.swarm_id == s.id, t.operations.c.status.in_(["queued", "held"]))
            .order_by(t.operations.c.id)).all()
    assert held and all(r.status == OperationStatus.HELD.value for r in held)
    seq_paused = svc.get_swarm(s.id).last_seq
    await svc.run_until_idle(s.id, timeout=10)  # nothing runs while paused
    assert svc.get_swarm(s.id).last_seq == seq_paused
    assert svc.runner.claim(10, s.id) == []
    svc.resume(s.id)
    first = svc.runner.claim(100, s.id)
    assert [op.id for op in first] == sorted(op.id for op in first)
    assert first[0].id == held[0].id
    for op in first:
        await _execute_chain(svc, op)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED


async def test_ops_enqueued_while_paused_are_held(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Ask the user for a colour")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    chat = svc.waiting_chats(s.id)[0]
    svc.pause(s.id)
    svc.post_reply(s.id, chat.id, "teal")  # accepted while paused, but its operation is held
    await svc.run_until_idle(s.id, timeout=10)
    with svc.db.read() as conn:
        statuses = [r.status for r in conn.execute(select(t.operations.c.status).where(
            t.operations.c.swarm_id == s.id, t.operations.c.kind == "user_reply"))]
    assert statuses == ["held"]
    svc.resume(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED


async def test_one_operation_per_node_many_nodes_at_once(new_service: MakeService) -> None:
    model = SlowModel()
    svc = new_service(llm_factory=lambda cfg: model)
    s = svc.create_swarm("u1", "\n".join(f"task {i}" for i in range(12)))
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    assert model.max_per_node == 1
    assert model.max_total > 1  # different nodes really ran concurrently
    svc.close()


async def test_recover_requeues_running_operations(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem\nWrite a song")
    svc.spawn(s.id)
    claimed = svc.runner.claim(5, s.id)
    assert claimed
    pending = [op for op in claimed if not op.reserved]
    for op in claimed:
        if op.reserved:  # SQLite: the root's spawn is only reserved, its row still queued: nothing to recover.
            done = await svc.engine.executor.execute(op)  # Run it: it claims the node's model call in its commit
            assert done.chained is not None and not done.chained.reserved
            pending.append(done.chained)
    assert svc.recover() == len(pending)  # simulate a crash: claimed (running) but never executed
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED


@pytest.mark.sqlite_only("operations are reserved rather than claimed by SQLite's claim loop alone")
async def test_a_reserved_operation_is_held_by_a_pause_and_runs_once(tmp_path: Path,
                                                                     request: pytest.FixtureRequest) -> None:
    """A reserved operation writes nothing when it is picked: its row stays queued until the transaction that
    runs it takes it. A pause in between holds it (it does not run), a crash leaves it queued, and running it
    twice runs it once."""
    svc = make_service("sqlite", tmp_path, request)
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    op = svc.runner.claim(1, s.id)[0]
    assert op.reserved and op.claim == ""
    assert _statuses(svc, s.id) == ["queued"]  # what a crash here leaves: queued, run by the next worker
    svc.pause(s.id)
    held = await svc.engine.executor.execute(op)
    assert held.events == [] and _statuses(svc, s.id) == ["held"]
    svc.resume(s.id)
    op = svc.runner.claim(1, s.id)[0]
    first = await svc.engine.executor.execute(op)
    assert first.events and first.chained is not None  # ran, and claimed the node's model call in its commit
    seq = svc.get_swarm(s.id).last_seq
    again = await svc.engine.executor.execute(op)
    assert again.events == [] and svc.get_swarm(s.id).last_seq == seq
    assert (await svc.engine.executor.execute(first.chained)).events  # the model call it claimed
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    svc.close()


async def test_the_runner_counts_an_operation_it_did_not_finish_as_none(svc: SwarmService) -> None:
    """``Runner.ops_done`` (a worker's "operations run") counts what committed: an operation another worker already
    ran (its claim lost, its reserved row gone) or a pause held ends in ``NOTHING`` and is not counted."""
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    op = svc.runner.claim(1, s.id)[0]
    await svc.runner._run_one(op)  # the root's spawn, and the chain it commits with
    ran = svc.runner.ops_done
    assert ran == sum(svc.engine.stats.ops_done.values()) + sum(svc.engine.stats.ops_failed.values()) > 1
    await svc.runner._run_one(op)  # the same operation again, as a second worker that picked it would
    assert svc.runner.ops_done == ran
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    svc.close()


def _statuses(svc: SwarmService, sid: str) -> list[str]:
    with svc.db.read() as conn:
        return [r.status for r in conn.execute(select(t.operations.c.status).where(t.operations.c.swarm_id == sid))]


async def test_reexecuting_a_committed_operation_changes_nothing(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    op = svc.runner.claim(1, s.id)[0]
    first = await svc.engine.executor.execute(op)
    assert first.chained is not None  # the node's next operation was claimed in the same transaction
    seq = svc.get_swarm(s.id).last_seq
    again = await svc.engine.executor.execute(op)  # same claim, already done: rolled back
    assert again.events == [] and again.chained is None
    assert svc.get_swarm(s.id).last_seq == seq


def _running_swarm(new_service: MakeService, reg: Registry, actions: dict[str, str], root: str,
                   context: dict[str, Any] | None = None) -> tuple[SwarmService, str]:
    """Register ``actions`` (id -> entry step), then start a running swarm whose root node runs ``root``."""
    for action_id, entry in actions.items():
        reg.register_action(ActionSpec(id=action_id, description=action_id, entry_step=entry, routable=False),
                            folder="test")
    svc = new_service(registry=reg)
    s = svc.create_swarm("u1", root)
    with svc.db.tx() as conn:
        tx = SwarmTx(conn, s.id, datetime.now(UTC))
        tx.set_status(SwarmStatus.RUNNING)
        spawn_node(tx, "n", None, 0, reg.get_action(root), s.goal, s.name, context or {})
        tx.flush()
    return svc, s.id


class CountCtx(BaseModel):
    i: int = 0


@pytest.mark.parametrize("boom_at", [1, 3, 12])
async def test_a_failing_chained_step_fails_alone_and_keeps_the_steps_before_it(boom_at: int,
                                                                               new_service: MakeService) -> None:
    """Chained steps run in one transaction (group commit). One that raises must not undo or repeat the
    steps before it: they commit once, then it runs on its own and fails the node with its traceback."""
    reg = register_builtins(Registry())

    @reg.step("count.step", context=CountCtx)
    def count(ctx: StepContext, data: CountCtx, result: None) -> None:
        if data.i == boom_at:
            raise ValueError(f"boom at {data.i}")
        ctx.journal(f"step {data.i}")
        ctx.goto(count, CountCtx(i=data.i + 1))

    svc, sid = _running_swarm(new_service, reg, {"count": "count.step"}, "count")
    await svc.run_until_idle(sid, timeout=10)
    assert svc.get_swarm(sid).status is SwarmStatus.FAILED
    detail = svc.node_detail(sid, "n")
    assert [j.text for j in detail.journal if j.text.startswith("step ")] == [f"step {i}" for i in range(boom_at)]
    assert any(c.error and f"boom at {boom_at}" in (c.raw_output or "") for c in detail.llm_calls)
    assert fold(svc.history(sid).events, SwarmState(swarm_id=sid)) == svc.state(sid)
    svc.close()


def _watch_batches(svc: SwarmService) -> tuple[list[int], list[int]]:
    """Record the size of every transaction that commits several claimed operations together, and of those
    rolled back (``GroupCommit._run_batch``)."""
    batches: list[int] = []
    rolled_back: list[int] = []
    original = svc.engine.executor.group._run_batch

    def spy(items: Any) -> Any:
        batches.append(len(items))
        try:
            return original(items)
        except Exception:
            rolled_back.append(len(items))
            raise

    svc.engine.executor.group._run_batch = spy  # type: ignore[method-assign]
    return batches, rolled_back


class FanCtx(BaseModel):
    k: int = 0


async def test_a_failing_step_in_a_batch_of_model_answers_fails_alone(new_service: MakeService) -> None:
    """Model answers that arrive together commit in one transaction. A step that raises on its answer must
    roll that batch back, then fail alone: the others commit exactly once."""
    reg = register_builtins(Registry())

    @reg.step("fan.start", context=FanCtx)
    def fan(ctx: StepContext, data: FanCtx, result: None) -> None:
        for j in range(data.k):
            ctx.spawn(f"poison {j}" if j == 3 else f"task {j}", action_id="careful")
        ctx.wait_children(fan_done, data)

    @reg.step("fan.done", context=FanCtx, result=ChildrenResult)
    def fan_done(ctx: StepContext, data: FanCtx, result: ChildrenResult) -> None:
        ctx.complete(",".join(c.lifecycle.value for c in result.children))

    @reg.step("careful.start")
    def careful(ctx: StepContext, data: Any, result: None) -> None:
        ctx.journal("asking")
        ctx.llm("do.execute", [{"role": "user", "content": ctx.node.directive}], next_step=on_answer,
                context=CountCtx(), facts={"directive": ctx.node.directive})

    @reg.step("careful.on_answer", context=CountCtx, result=DoOutput)
    def on_answer(ctx: StepContext, data: CountCtx, result: DoOutput) -> None:
        if "poison" in ctx.node.directive:
            raise ValueError("poisoned answer")
        ctx.journal("answered")
        ctx.complete(result.report)

    svc, sid = _running_swarm(new_service, reg, {"fan": "fan.start", "careful": "careful.start"}, "fan", {"k": 8})
    batches, rolled_back = _watch_batches(svc)
    await svc.run_until_idle(sid, timeout=10)
    assert max(batches) > 1 and rolled_back  # answers were committed together, and the poisoned batch undone
    st = svc.state(sid)
    outcomes = {n.id: n.lifecycle.value for n in st.nodes.values() if n.parent_id == "n"}
    assert outcomes["n.4"] == "failed" and "poisoned answer" in (st.nodes["n.4"].failure_reason or "")
    assert [v for k, v in sorted(outcomes.items()) if k != "n.4"] == ["done"] * 7
    for i in (1, 2, 5, 8):
        journal = [j.text for j in svc.node_detail(sid, f"n.{i}").journal]
        assert journal == ["asking", "answered"]
    assert fold(svc.history(sid).events, SwarmState(swarm_id=sid)) == st
    svc.close()


async def test_a_failing_operation_in_a_batch_of_claimed_ones_fails_alone(new_service: MakeService) -> None:
    """Claimed operations the runner starts together (here the spawns of a fan-out's children past the group
    budget) commit in one transaction. One that raises must roll the batch back, then fail alone."""
    reg = register_builtins(Registry())

    @reg.step("wide.start", context=FanCtx)
    def wide(ctx: StepContext, data: FanCtx, result: None) -> None:
        for j in range(data.k):
            ctx.spawn(f"poison {j}" if j == data.k - 3 else f"task {j}", action_id="brittle")
        ctx.wait_children(wide_done, data)

    @reg.step("wide.done", context=FanCtx, result=ChildrenResult)
    def wide_done(ctx: StepContext, data: FanCtx, result: ChildrenResult) -> None:
        ctx.complete(",".join(c.lifecycle.value for c in result.children))

    @reg.step("brittle.start")
    def brittle(ctx: StepContext, data: Any, result: None) -> None:
        if "poison" in ctx.node.directive:
            raise ValueError("poisoned spawn")
        ctx.journal("started")
        ctx.complete("ok")

    k = 48  # the first 32 spawns run in the root's own transaction; the rest are claimed, together
    svc, sid = _running_swarm(new_service, reg, {"wide": "wide.start", "brittle": "brittle.start"}, "wide", {"k": k})
    batches, rolled_back = _watch_batches(svc)
    await svc.run_until_idle(sid, timeout=10)
    assert max(batches) > 1 and rolled_back  # spawns were committed together, and the poisoned batch undone
    st = svc.state(sid)
    poisoned = f"n.{k - 2}"
    outcomes = {n.id: n.lifecycle.value for n in st.nodes.values() if n.parent_id == "n"}
    assert outcomes[poisoned] == "failed" and "poisoned spawn" in (st.nodes[poisoned].failure_reason or "")
    assert sorted(v for i, v in outcomes.items() if i != poisoned) == ["done"] * (k - 1)
    for i in range(1, k + 1):
        if f"n.{i}" != poisoned:
            assert [j.text for j in svc.node_detail(sid, f"n.{i}").journal] == ["started"]  # exactly once
    assert fold(svc.history(sid).events, SwarmState(swarm_id=sid)) == st
    svc.close()


async def test_serving_runner_never_waits_on_its_poll_interval(new_service: MakeService) -> None:
    """A serving runner must be woken for every runnable operation, not find it on its next poll: with a
    poll interval of a minute, a root's children still finish and their notices to it (queued while it
    waits on the user, so claimed one at a time) all run, promptly."""
    reg = register_builtins(Registry())

    @reg.step("root.start", context=FanCtx)
    def root(ctx: StepContext, data: FanCtx, result: None) -> None:
        for j in range(data.k):
            ctx.spawn(f"leaf {j}", action_id="leaf")
        ctx.ask("Ready?", next_step=root, context=data)  # type: ignore[arg-type]  (it ignores the reply)

    @reg.step("leaf.start")
    def leaf(ctx: StepContext, data: Any, result: None) -> None:
        ctx.complete("ok")

    svc, sid = _running_swarm(new_service, reg, {"root": "root.start", "leaf": "leaf.start"}, "root",
                              {"k": 80})  # more children than one group runs
    svc.runner.poll_interval = 60.0
    stop = asyncio.Event()
    serving = asyncio.ensure_future(svc.runner.serve(stop))

    def pending() -> int:
        with svc.db.read() as conn:
            return len(conn.execute(select(t.operations.c.id).where(
                t.operations.c.swarm_id == sid, t.operations.c.status.in_(["queued", "running"]))).all())

    async def settled() -> None:
        while pending() or len(svc.state(sid).nodes) < 81:
            await asyncio.sleep(0.05)

    try:
        svc.runner.notify()
        await asyncio.wait_for(settled(), timeout=30)  # polling alone would need 60 s per blocked notice
    finally:
        stop.set()
        svc.runner.notify()
        await serving
    st = svc.state(sid)
    assert sum(1 for n in st.nodes.values() if n.lifecycle.value == "done") == 80
    assert svc.waiting_chats(sid)[0].node_id == "n"
    svc.close()


async def test_a_step_that_fails_on_a_reply_keeps_the_reply_and_fails_alone(new_service: MakeService) -> None:
    """A reply runs the step it resumes in its own transaction. If that step raises, the reply must still
    be stored (the user gets their 202), and the node fails on its own, with the error recorded."""
    from aga_swarm.sdk import UserReply

    reg = register_builtins(Registry())

    @reg.step("picky.ask", context=CountCtx)
    def ask(ctx: StepContext, data: CountCtx, result: None) -> None:
        ctx.ask("Your name?", next_step=on_reply, context=data)

    @reg.step("picky.on_reply", context=CountCtx, result=UserReply)
    def on_reply(ctx: StepContext, data: CountCtx, result: UserReply) -> None:
        raise ValueError(f"cannot handle {result.content!r}")

    svc, sid = _running_swarm(new_service, reg, {"picky": "picky.ask"}, "picky")
    await svc.run_until_idle(sid, timeout=10)
    msg = svc.post_reply(sid, "chat-n", "Ada")
    assert [m.content for m in svc.messages(sid, "chat-n")][-1] == "Ada" == msg.content
    await svc.run_until_idle(sid, timeout=10)
    assert svc.get_swarm(sid).status is SwarmStatus.FAILED
    detail = svc.node_detail(sid, "n")
    assert any(c.error and "cannot handle 'Ada'" in (c.raw_output or "") for c in detail.llm_calls)
    assert fold(svc.history(sid).events, SwarmState(swarm_id=sid)) == svc.state(sid)
    svc.close()


class WideCtx(BaseModel):
    k: int = 0


def _wide_registry() -> Registry:
    reg = register_builtins(Registry())

    @reg.step("wide.start", context=WideCtx)
    def wide(ctx: StepContext, data: WideCtx, result: None) -> None:
        for j in range(data.k):
            ctx.spawn(f"leaf {j}", action_id="leaf", context_down={"j": j})
        ctx.wait_children(wide_done, data)

    @reg.step("wide.done", context=WideCtx, result=ChildrenResult)
    def wide_done(ctx: StepContext, data: WideCtx, result: ChildrenResult) -> None:
        ctx.complete(f"{sum(c.report == 'ok' for c in result.children)} of {len(result.children)}")

    @reg.step("leaf.start")
    def leaf(ctx: StepContext, data: Any, result: None) -> None:
        ctx.journal(f"leaf {ctx.node.context_down['j']}")
        ctx.complete("ok")

    return reg


def _spawn_rows(svc: SwarmService, sid: str) -> list[str]:
    with svc.db.read() as conn:
        return [r.node_id for r in conn.execute(select(t.operations.c.node_id).where(
            t.operations.c.swarm_id == sid, t.operations.c.kind == "spawn", t.operations.c.node_id != "n"))]


async def test_a_fan_out_starts_its_children_in_the_transaction_that_creates_them(
        new_service: MakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spawns of nodes created in a transaction run in it (they are not bound by the group budget of 32):
    no child's spawn is ever written as a row to be claimed, every child runs once, and the state is the
    fold of the history."""
    from aga_swarm.engine import grouping

    monkeypatch.setattr(grouping, "SPAWN_GROUP_SECONDS", 3600.0)  # the CPU bound is tested below, not here
    keep_done_operations(monkeypatch)  # the spawns written as rows stay to be counted
    k = 150
    svc, sid = _running_swarm(new_service, _wide_registry(), {"wide": "wide.start", "leaf": "leaf.start"}, "wide",
                              {"k": k})
    await svc.run_until_idle(sid, timeout=30)
    st = svc.state(sid)
    assert st.status is SwarmStatus.COMPLETED and st.nodes["n"].report == f"{k} of {k}"
    assert _spawn_rows(svc, sid) == []
    # under the ``all`` policy the children's notices to the parent are one: the first, still kept back when
    # the others end, answers for them all (``SwarmTx.notify_parent``)
    assert svc.engine.stats.ops_done == {"spawn": k + 1, "terminate": 1}
    for i in (1, k // 2, k):
        assert [j.text for j in svc.node_detail(sid, f"n.{i}").journal] == [f"leaf {i - 1}"]
    assert fold(svc.history(sid).events, SwarmState(swarm_id=sid)) == st
    svc.close()


async def test_spawns_past_the_spawn_budget_are_queued_for_any_worker(new_service: MakeService,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The spawns run in their creator's transaction are bounded (``SPAWN_GROUP_MAX``): past it, they are
    written queued and claimed as usual, and the fan-out still ends with every child run once."""
    from aga_swarm.engine import grouping

    monkeypatch.setattr(grouping, "SPAWN_GROUP_MAX", 10)
    monkeypatch.setattr(grouping, "SPAWN_GROUP_SECONDS", 3600.0)
    keep_done_operations(monkeypatch)  # the spawns written as rows stay to be counted
    k = 60
    svc, sid = _running_swarm(new_service, _wide_registry(), {"wide": "wide.start", "leaf": "leaf.start"}, "wide",
                              {"k": k})
    await svc.run_until_idle(sid, timeout=30)
    st = svc.state(sid)
    assert st.status is SwarmStatus.COMPLETED and st.nodes["n"].report == f"{k} of {k}"
    # 10 spawns free of the group budget, then 32 more operations of the group (the next spawns, as they
    # come first); the rest were written queued
    assert sorted(_spawn_rows(svc, sid), key=lambda n: int(n.split(".")[1])) == [f"n.{i}" for i in range(43, k + 1)]
    for i in range(1, k + 1):
        assert [j.text for j in svc.node_detail(sid, f"n.{i}").journal] == [f"leaf {i - 1}"]
    assert fold(svc.history(sid).events, SwarmState(swarm_id=sid)) == st
    svc.close()


async def test_spawns_past_the_spawn_cpu_bound_are_queued_for_any_worker(new_service: MakeService,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With no CPU time left for free spawns (``SPAWN_GROUP_SECONDS``), a fan-out's children fall back to the
    group budget of 32: the rest are written queued, and every child still runs once."""
    from aga_swarm.engine import grouping

    monkeypatch.setattr(grouping, "SPAWN_GROUP_SECONDS", 0.0)
    keep_done_operations(monkeypatch)  # the spawns written as rows stay to be counted
    k = 50
    svc, sid = _running_swarm(new_service, _wide_registry(), {"wide": "wide.start", "leaf": "leaf.start"}, "wide",
                              {"k": k})
    await svc.run_until_idle(sid, timeout=30)
    st = svc.state(sid)
    assert st.status is SwarmStatus.COMPLETED and st.nodes["n"].report == f"{k} of {k}"
    assert sorted(_spawn_rows(svc, sid), key=lambda n: int(n.split(".")[1])) == [f"n.{i}" for i in range(33, k + 1)]
    for i in range(1, k + 1):
        assert [j.text for j in svc.node_detail(sid, f"n.{i}").journal] == [f"leaf {i - 1}"]
    assert fold(svc.history(sid).events, SwarmState(swarm_id=sid)) == st
    svc.close()
