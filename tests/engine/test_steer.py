"""Steering a node by hand: cancel, retry and tell, at every point of a node's life (SQLite and PostgreSQL).

The runner is stepped one operation at a time (no group commit), so a test can stop a node exactly where it
wants it: spawned, waiting on its prerequisites, on the model (the call claimed, under way), on the person or on
its children, or ended."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select

from aga_swarm.engine.claimed import ClaimedOp
from aga_swarm.engine.errors import Conflict, InvalidInput, NodeNotFound, SwarmNotFound
from aga_swarm.engine.fold import fold
from aga_swarm.llm.protocol import LLMError, LLMRequest, LLMResponse
from aga_swarm.llm.scripted import ScriptedModel
from aga_swarm.schemas import ChatStatus, Lifecycle, MessageRole, SwarmState, SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.store import tables as t

from ..conftest import make_service
from .helpers import comparable, run_answering

HAIKU = "Ask the user for their favourite colour\nWrite a haiku about it"


class Stepper:
    """Runs a swarm's operations one at a time; a claimed model call can be held back (it is then under way)."""

    def __init__(self, svc: SwarmService, swarm_id: str) -> None:
        self.svc, self.sid = svc, swarm_id
        svc.engine.executor.group_limit = 0
        self.held: list[ClaimedOp] = []

    def state(self) -> SwarmState:
        return self.svc.state(self.sid)

    async def until(self, pred: Callable[[SwarmState], bool], *, hold_calls_of: str | None = None,
                    step: str | None = None) -> SwarmState:
        for _ in range(500):
            state = self.state()
            if pred(state):
                return state
            ops = self.svc.runner.claim(1, self.sid)
            assert ops, "nothing left to run and the state never came"
            op: ClaimedOp | None = ops[0]
            while op is not None:
                cont = op.prefetched.continuation if op.prefetched else None
                if (op.kind.value == "llm_call" and op.node_id == hold_calls_of
                        and (step is None or (cont is not None and cont.next_step == step))):
                    self.held.append(op)
                    break
                op = (await self.svc.engine.executor.execute(op)).chained
        raise AssertionError("the state never came")

    async def release(self) -> None:
        for held in self.held:
            op: ClaimedOp | None = held
            while op is not None:  # and what it claimed to run next
                op = (await self.svc.engine.executor.execute(op)).chained
        self.held.clear()


def lifecycle_of(node_id: str, lifecycle: Lifecycle) -> Callable[[SwarmState], bool]:
    return lambda s: node_id in s.nodes and s.nodes[node_id].lifecycle is lifecycle


def _queued_of(svc: SwarmService, swarm_id: str, node_ids: list[str]) -> int:
    with svc.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(t.operations).where(
            t.operations.c.swarm_id == swarm_id, t.operations.c.node_id.in_(node_ids),
            t.operations.c.status.in_(["queued", "held"]))).scalar_one())


def _consistent(svc: SwarmService, swarm_id: str) -> SwarmState:
    state = svc.state(swarm_id)
    assert comparable(fold(svc.history(swarm_id).events, SwarmState(swarm_id=swarm_id))) == comparable(state)
    return state


# ---- cancel ------------------------------------------------------------------------------------------------
async def test_cancel_the_root_before_it_runs_ends_the_swarm(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    node = svc.cancel_node(s.id, "n")
    assert node.lifecycle is Lifecycle.CANCELLED and node.failure_reason == "cancelled by the person"
    await svc.run_until_idle(s.id)
    swarm = svc.get_swarm(s.id)
    assert swarm.status is SwarmStatus.FAILED and swarm.failure_reason == "the root node n was cancelled by the person"
    assert _queued_of(svc, s.id, ["n"]) == 0
    assert _consistent(svc, s.id).nodes["n"].children == []  # its spawn never ran


async def test_cancel_a_node_waiting_on_the_person_and_one_waiting_on_it(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", HAIKU)
    svc.spawn(s.id)
    step = Stepper(svc, s.id)
    await step.until(lifecycle_of("n.1", Lifecycle.WAITING_USER))
    assert step.state().nodes["n.2"].lifecycle is Lifecycle.WAITING_DEPS
    svc.cancel_node(s.id, "n.2")  # waiting on its prerequisite
    svc.cancel_node(s.id, "n.1")  # waiting on the person: its question is withdrawn
    assert svc.waiting_chats(s.id) == []
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    state = _consistent(svc, s.id)
    for nid in ("n.1", "n.2"):
        assert state.nodes[nid].failure_reason == "cancelled by the person"
    # the parent reviewed (its policy: all) and re-planned neither: the person cancelled them
    assert state.nodes["n"].children == ["n.1", "n.2"] and state.usage.replans == 0
    assert any("Cancelled by the person" in j.text for j in svc.journal(s.id, "n.1"))


async def test_cancel_a_subtree_drops_its_queued_operations(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem\nPlan: a; b; c")
    svc.spawn(s.id)
    step = Stepper(svc, s.id)
    await step.until(lambda st: "n.2.3" in st.nodes)
    assert step.state().nodes["n.2"].lifecycle is Lifecycle.WAITING_CHILDREN
    assert _queued_of(svc, s.id, ["n.2.1", "n.2.2", "n.2.3"]) == 3  # their spawns wait
    svc.cancel_node(s.id, "n.2")
    state = step.state()
    assert [state.nodes[f"n.2.{i}"].lifecycle for i in (1, 2, 3)] == [Lifecycle.CANCELLED] * 3
    assert state.nodes["n.2.1"].failure_reason == "parent n.2 was cancelled by the person"
    assert _queued_of(svc, s.id, ["n.2", "n.2.1", "n.2.2", "n.2.3"]) == 0
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    _consistent(svc, s.id)


async def test_cancel_while_its_model_call_is_under_way(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    step = Stepper(svc, s.id)
    await step.until(lambda st: bool(step.held), hold_calls_of="n.1")
    assert step.state().usage.reserved_calls == 1  # the call holds its worst case
    svc.cancel_node(s.id, "n.1")
    assert step.state().usage.reserved_calls == 0
    await step.release()  # the call returns after the cancel
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    state = _consistent(svc, s.id)
    assert state.nodes["n.1"].lifecycle is Lifecycle.CANCELLED
    calls = svc.node_detail(s.id, "n.1").llm_calls
    assert calls and calls[-1].tokens_in > 0  # it was paid, so it is recorded


async def test_an_ended_node_cannot_be_cancelled(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    with pytest.raises(Conflict, match="has ended"):
        svc.cancel_node(s.id, "n.1")


# ---- retry -------------------------------------------------------------------------------------------------
class FailsOnce:
    """Refuses the first ``do.execute`` of a directive containing ``flaky``; then answers like the scripted model."""

    def __init__(self) -> None:
        self.inner = ScriptedModel()
        self.model = "fails-once"
        self.failed = False

    async def complete(self, request: LLMRequest, output_model: type[BaseModel]) -> LLMResponse:
        if request.purpose == "do.execute" and "flaky" in str(request.facts.get("directive")) and not self.failed:
            self.failed = True
            raise LLMError("the model refused", raw_output="no", tokens_in=11, tokens_out=3)
        return await self.inner.complete(request, output_model)


@pytest.fixture
def flaky_svc(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    model = FailsOnce()
    service = make_service(backend, tmp_path, request, llm_factory=lambda cfg: model)
    yield service
    service.close()


async def test_retry_a_failed_node_runs_it_again_as_a_new_attempt(flaky_svc: SwarmService) -> None:
    svc = flaky_svc
    s = svc.create_swarm("u1", "Write a poem\nDo the flaky task")
    svc.spawn(s.id)
    step = Stepper(svc, s.id)
    await step.until(lifecycle_of("n.2", Lifecycle.FAILED))
    with pytest.raises(Conflict, match="only a failed or cancelled node"):
        svc.retry_node(s.id, "n")  # running (waiting on its children)
    node = svc.retry_node(s.id, "n.2")
    assert node.attempt == 2 and node.lifecycle is Lifecycle.SPAWNED and node.failure_reason is None
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    state = _consistent(svc, s.id)
    assert state.nodes["n.2"].lifecycle is Lifecycle.DONE and state.usage.replans == 0
    detail = svc.node_detail(s.id, "n.2")
    errors = [c for c in detail.llm_calls if c.error]
    assert len(errors) == 1 and errors[0].tokens_in == 11 and errors[0].tokens_out == 3  # the failed attempt
    assert any(c.error is None and c.step == "do.on_result" for c in detail.llm_calls)  # and the new one
    # each record says which attempt made it: the failed call the first, every call after the retry the second
    assert errors[0].attempt == 1 and detail.llm_calls.index(errors[0]) < len(detail.llm_calls) - 1
    after = detail.llm_calls[detail.llm_calls.index(errors[0]) + 1:]
    assert {c.attempt for c in after} == {2} and {c.replan for c in detail.llm_calls} == {0}
    assert {c.attempt for c in svc.node_detail(s.id, "n").llm_calls} == {1}  # its parent was never retried
    with pytest.raises(Conflict, match=r"^node n\.2 has ended \(done\); only a failed or cancelled node can be "
                                       r"retried$"):
        svc.retry_node(s.id, "n.2")


async def test_retry_a_cancelled_question_asks_again(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", HAIKU)
    svc.spawn(s.id)
    step = Stepper(svc, s.id)
    await step.until(lifecycle_of("n.1", Lifecycle.WAITING_USER))
    svc.cancel_node(s.id, "n.1")  # the haiku that needs it is cancelled with it
    assert step.state().nodes["n.2"].lifecycle is Lifecycle.CANCELLED
    with pytest.raises(Conflict, match=r"prerequisite n\.1"):
        svc.retry_node(s.id, "n.2")  # retry that first
    svc.retry_node(s.id, "n.1")  # before the parent hears of the cancel
    assert svc.retry_node(s.id, "n.2").lifecycle is Lifecycle.WAITING_DEPS  # waits for the new attempt
    await step.until(lifecycle_of("n.1", Lifecycle.WAITING_USER))
    assert [c.node_id for c in svc.waiting_chats(s.id)] == ["n.1"]
    svc.post_reply(s.id, "chat-n.1", "blue")
    svc.engine.executor.group_limit = 32
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    state = _consistent(svc, s.id)
    assert state.nodes["n.1"].lifecycle is Lifecycle.DONE and state.nodes["n.1"].attempt == 2
    assert state.nodes["n.2"].report == 'Done: "Write a haiku about it" (with: blue)'
    assert len(svc.messages(s.id, "chat-n.1")) >= 3  # the first question stays in the chat, then the new one


async def test_retry_the_root_reopens_a_failed_swarm(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    svc.cancel_node(s.id, "n")
    await svc.run_until_idle(s.id)
    assert svc.get_swarm(s.id).status is SwarmStatus.FAILED
    svc.retry_node(s.id, "n")
    assert svc.get_swarm(s.id).status is SwarmStatus.RUNNING
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    assert _consistent(svc, s.id).nodes["n"].attempt == 2


# ---- tell --------------------------------------------------------------------------------------------------
async def test_tell_a_node_before_it_calls_the_model(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    step = Stepper(svc, s.id)
    await step.until(lambda st: "n.1" in st.nodes)  # spawned, has not run
    msg = svc.tell_node(s.id, "n.1", "make it rhyme")
    assert msg.role is MessageRole.USER and msg.chat_id == "chat-n.1"
    chat = next(c for c in svc.chats(s.id) if c.id == "chat-n.1")
    assert chat.status is ChatStatus.OPEN and chat.last_message == "make it rhyme"  # posted at once
    assert step.state().nodes["n.1"].inbox == ["make it rhyme"]
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    state = _consistent(svc, s.id)
    assert state.nodes["n.1"].inbox == []
    assert state.nodes["n.1"].report == 'Done: "Write a poem" (told: make it rhyme)'
    # the model call received it in its prompt (the developer log shows it)
    calls = svc.node_detail(s.id, "n.1").llm_calls  # routing left it for the action it handed over to
    got = [(c.step, any("make it rhyme" in m.content for m in c.messages)) for c in calls]
    assert got[-1] == ("do.on_result", True) and not any(heard for _, heard in got[:-1]), got


async def test_tell_a_node_whose_model_call_is_under_way(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    step = Stepper(svc, s.id)
    await step.until(lambda st: bool(step.held), hold_calls_of="n.1", step="tools.on_turn")
    assert step.state().nodes["n.1"].lifecycle is Lifecycle.WAITING_LLM
    svc.tell_node(s.id, "n.1", "shorter please")
    await step.release()  # this call was sent before: the node does the task again with what it was told
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    state = _consistent(svc, s.id)
    assert state.nodes["n.1"].report == 'Done: "Write a poem" (told: shorter please)'


async def test_tell_a_node_waiting_on_its_children_reaches_its_review(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem\nWrite a song")
    svc.spawn(s.id)
    step = Stepper(svc, s.id)
    await step.until(lifecycle_of("n", Lifecycle.WAITING_CHILDREN))
    svc.tell_node(s.id, "n", "keep the summary short")
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    state = _consistent(svc, s.id)
    assert "- The person said: keep the summary short" in (state.nodes["n"].report or "")
    assert all(state.nodes[c].report and "told" not in state.nodes[c].report for c in ("n.1", "n.2"))


async def test_tell_a_node_waiting_on_its_prerequisite_and_one_awaiting_a_reply(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", HAIKU)
    svc.spawn(s.id)
    step = Stepper(svc, s.id)
    await step.until(lifecycle_of("n.1", Lifecycle.WAITING_USER))
    svc.tell_node(s.id, "n.2", "use five syllables first")  # waiting on its prerequisite
    reply = svc.tell_node(s.id, "n.1", "blue")  # it asked: this is the reply
    assert reply.reply_to is not None
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    state = _consistent(svc, s.id)
    assert state.nodes["n.2"].report == 'Done: "Write a haiku about it" (with: blue) (told: use five syllables first)'


async def test_tell_refuses_an_ended_node_an_empty_message_and_unknown_ids(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    with pytest.raises(NodeNotFound):
        svc.tell_node(s.id, "n", "hello")  # a draft has no nodes
    svc.spawn(s.id)
    with pytest.raises(InvalidInput, match="must not be empty"):
        svc.tell_node(s.id, "n", "  \n ")
    with pytest.raises(SwarmNotFound):
        svc.tell_node(s.id, "n", "hello", owner_id="someone-else")
    for call in (svc.cancel_node, svc.retry_node):
        with pytest.raises(SwarmNotFound):
            call(s.id, "n", owner_id="someone-else")
        with pytest.raises(NodeNotFound):
            call(s.id, "n.9")
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    with pytest.raises(Conflict, match="has ended"):
        svc.tell_node(s.id, "n.1", "too late")
