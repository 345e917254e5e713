"""Termination policies: a custom action's own policy function decides its parent's outcome, the built-in
``confirm`` has the directive confirmed (or re-plans within max_replans), and an unknown policy name is a clear
error, never a stalled swarm. On SQLite and PostgreSQL; every run's history folds to its live state."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aga_swarm.actions import register_builtins
from aga_swarm.actions.outputs import PlanOutput
from aga_swarm.engine.context import spawn_node
from aga_swarm.engine.fold import fold
from aga_swarm.engine.policies import (
    WAIT,
    CancelRest,
    ChildrenView,
    ChildView,
    Decision,
    Fail,
    Finish,
    UnknownPolicy,
)
from aga_swarm.engine.tx import SwarmTx
from aga_swarm.schemas import Lifecycle, LLMSettings, SwarmConfig, SwarmState, SwarmStatus
from aga_swarm.sdk import ActionSpec, ChildrenResult, NoContext, Registry, StepContext
from aga_swarm.service import SwarmService

from ..conftest import MakeService, make_service
from .helpers import comparable, continuations_set, run_answering

SEEN: list[ChildView] = []


def _registry() -> Registry:
    """``lead_<policy>`` spawns three children (two that finish at once, one that asks the person) under that
    custom policy; its review lists what it received."""
    reg = register_builtins(Registry())

    @reg.policy("two_done")
    def two_done(view: ChildrenView) -> Decision:
        done = view.done
        if len(done) >= 2:
            return Finish("; ".join(c.report or "" for c in done), data={"count": len(done)})
        return WAIT

    @reg.policy("veto")
    def veto(view: ChildrenView) -> Decision:
        last = view.ended_last
        if last is not None:
            SEEN.append(last)
        if last is not None and last.report == "veto":
            return Fail(f"{last.id} vetoed the plan", cancel_reason=f"{last.id} vetoed")
        return WAIT

    @reg.policy("enough")
    def enough(view: ChildrenView) -> Decision:
        return CancelRest("one is enough") if view.ended_last is not None and view.ended_last.done else WAIT

    @reg.step("echo.start")
    def echo(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.complete(ctx.node.directive)

    @reg.step("lead.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.spawn("Ask the person something", action_id="ask_user")
        ctx.spawn("fine", action_id="echo")
        ctx.spawn("veto", action_id="echo")
        ctx.wait_children(review, NoContext())

    @reg.step("lead.review", result=ChildrenResult)
    def review(ctx: StepContext, data: NoContext, result: ChildrenResult) -> None:
        ctx.complete(", ".join(f"{c.id} {c.lifecycle.value}" for c in result.children))

    reg.register_action(ActionSpec(id="echo", description="x", entry_step="echo.start", routable=False))
    for policy in ("two_done", "veto", "enough", "all"):
        reg.register_action(ActionSpec(id=f"lead_{policy}", description="x", entry_step="lead.start",
                                       routable=False, termination_policy=policy))
    return reg


def _start(svc: SwarmService, reg: Registry, action: ActionSpec) -> str:
    s = svc.create_swarm("u1", "the goal")
    with svc.db.tx() as conn:
        tx = SwarmTx(conn, s.id, datetime.now(UTC))
        tx.set_status(SwarmStatus.RUNNING)
        spawn_node(tx, "n", None, 0, action, "the goal", "lead", {})
        tx.flush()
    return s.id


def _consistent(svc: SwarmService, swarm_id: str) -> SwarmState:
    """The live state, checked to be the fold of the history (what the slider replays)."""
    state = svc.state(swarm_id)
    assert comparable(fold(svc.history(swarm_id).events, SwarmState(swarm_id=swarm_id))) == comparable(state)
    return state


async def test_a_custom_policy_function_finishes_the_parent(backend: str, tmp_path: Path,
                                                            request: pytest.FixtureRequest) -> None:
    reg = _registry()
    svc = make_service(backend, tmp_path, request, registry=reg)
    try:
        sid = _start(svc, reg, reg.get_action("lead_two_done"))
        await svc.run_until_idle(sid)
        st = _consistent(svc, sid)
        assert st.status is SwarmStatus.COMPLETED
        n = st.nodes
        assert n["n"].termination_policy == "two_done" and n["n"].lifecycle is Lifecycle.DONE
        assert n["n"].report == "fine; veto" and n["n"].context_up == {"count": 2}
        assert n["n.1"].lifecycle is Lifecycle.CANCELLED
        assert n["n.1"].failure_reason == "parent n finished (policy two_done)"
        assert st.chats["chat-n.1"].status.value != "awaiting_user"
    finally:
        svc.close()


async def test_a_custom_policy_function_fails_the_parent_and_sees_a_read_only_view(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    reg = _registry()
    SEEN.clear()
    svc = make_service(backend, tmp_path, request, registry=reg)
    try:
        sid = _start(svc, reg, reg.get_action("lead_veto"))
        await svc.run_until_idle(sid)
        st = _consistent(svc, sid)
        assert st.status is SwarmStatus.FAILED and st.failure_reason == "n.3 vetoed the plan"
        n = st.nodes
        assert n["n"].failure_reason == "n.3 vetoed the plan"
        assert n["n.1"].lifecycle is Lifecycle.CANCELLED and n["n.1"].failure_reason == "n.3 vetoed"
        assert n["n.2"].lifecycle is Lifecycle.DONE
        # the policy was asked once per child that ended, and told which one it was
        assert {v.id for v in SEEN} == {"n.2", "n.3"}
        last = next(v for v in SEEN if v.id == "n.3")
        assert (last.lifecycle, last.report, last.directive, last.attempt) == (Lifecycle.DONE, "veto", "veto", 1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            last.report = "changed"  # type: ignore[misc]
        with pytest.raises(TypeError):
            last.data["x"] = 1  # type: ignore[index]
    finally:
        svc.close()


async def test_a_custom_policy_can_cancel_the_rest_and_hand_over_to_the_review(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    reg = _registry()
    svc = make_service(backend, tmp_path, request, registry=reg)
    try:
        sid = _start(svc, reg, reg.get_action("lead_enough"))
        await svc.run_until_idle(sid)
        st = _consistent(svc, sid)
        assert st.status is SwarmStatus.COMPLETED
        n = st.nodes
        assert n["n.1"].lifecycle is Lifecycle.CANCELLED and n["n.1"].failure_reason == "one is enough"
        # the review received every child's outcome, the cancelled one included
        assert (n["n"].report or "").startswith("n.1 cancelled, n.2 done")
    finally:
        svc.close()


async def test_an_unknown_policy_in_a_stored_node_fails_it_with_a_clear_error(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A node stored by a process that had a policy this one does not know fails, naming it; nothing waits."""
    reg = _registry()
    svc = make_service(backend, tmp_path, request, registry=reg)
    try:
        gone = reg.get_action("lead_all").model_copy(update={"termination_policy": "gone"})
        sid = _start(svc, reg, gone)
        await svc.run_until_idle(sid)
        st = _consistent(svc, sid)
        assert st.status is SwarmStatus.FAILED
        reason = st.nodes["n"].failure_reason or ""
        assert "no termination policy registered as 'gone'" in reason and "(UnknownPolicy)" in reason
        assert not any(node.lifecycle not in (Lifecycle.DONE, Lifecycle.FAILED, Lifecycle.CANCELLED)
                       for node in st.nodes.values())
    finally:
        svc.close()


def test_an_unknown_policy_is_refused_when_an_action_is_registered() -> None:
    reg = register_builtins(Registry())

    @reg.step("x.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.complete("x")

    with pytest.raises(UnknownPolicy, match="action 'x' names unregistered termination policy 'majority'"):
        reg.register_action(ActionSpec(id="x", description="x", entry_step="x.start", termination_policy="majority"))
    assert "x" not in reg.actions
    with pytest.raises(ValueError, match="'first' is a built-in termination policy"):
        reg.policy("first")(lambda view: WAIT)
    with pytest.raises(ValueError, match="1-100 letters"):
        reg.policy("no spaces")(lambda view: WAIT)
    with pytest.raises(UnknownPolicy, match="no termination policy registered as 'majority'"):
        reg.get_policy("majority")
    reg.policy("majority")(lambda view: WAIT)
    reg.register_action(ActionSpec(id="x", description="x", entry_step="x.start", termination_policy="majority"))
    assert set(reg.policies) >= {"all", "fail_fast", "first", "confirm", "majority"}


# ---- confirm --------------------------------------------------------------------------------------------------
def _config(svc: SwarmService, max_replans: int) -> str:
    config = SwarmConfig(id="confirm", name="confirm", llm=LLMSettings())
    config = config.model_copy(update={"limits": config.limits.model_copy(update={"max_replans": max_replans})})
    svc.save_config(config)
    return config.id


async def test_confirm_re_plans_once_when_the_directive_is_not_met_then_completes(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Policy: confirm\nWrite a poem [unconfirmed]\nWrite a song")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    st = _consistent(svc, s.id)
    n = st.nodes
    assert n["n"].termination_policy == "confirm" and n["n"].replans == 1 and st.usage.replans == 1
    assert [n[i].directive for i in ("n.1", "n.2", "n.3")] == ["Write a poem [unconfirmed]", "Write a song",
                                                              "Write a poem"]
    assert "n.4" not in n and all(n[i].lifecycle is Lifecycle.DONE for i in ("n.1", "n.2", "n.3"))
    detail = svc.node_detail(s.id, "n")
    confirms = [c for c in detail.llm_calls if c.step == "confirm.on_review"]
    assert [c.parsed_output["met"] for c in confirms] == [False, True]
    # the review's prompt shows the directive and the children's reports
    prompt = "\n".join(m.content for m in confirms[0].messages)
    assert "Write a poem [unconfirmed]" in prompt and 'Done: "Write a song"' in prompt
    assert "n.1 is [unconfirmed]" in confirms[0].parsed_output["reason"]
    texts = [j.text for j in detail.journal]
    assert any(t.startswith("The task is not met (n.1 is [unconfirmed]); re-planning 1 subtask") for t in texts)
    assert any(t.startswith("Confirmed that the task is met") for t in texts)
    # the plan's own review ran once the directive was confirmed, and wrote the summary
    assert 'Done: "Write a poem"' in (n["n"].report or "")


async def test_a_fork_taken_while_the_confirm_review_waits_ends_as_the_original(svc: SwarmService) -> None:
    """The review's continuation is stored on the node by step names, so a fork re-derives it and runs on."""
    s = svc.create_swarm("u1", "Policy: confirm\nWrite a poem [unconfirmed]\nWrite a song")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    events = svc.history(s.id).events
    at = next(e.seq for e, c in continuations_set(events, s.id) if e.node_id == "n"
              and c["next_step"] == "confirm.on_review")
    assert svc.state_at(s.id, at).nodes["n"].lifecycle is Lifecycle.WAITING_LLM
    fork = svc.clone(s.id, at_seq=at)
    svc.resume(fork.id)
    assert await run_answering(svc, fork.id) is SwarmStatus.COMPLETED
    mine, theirs = _consistent(svc, fork.id), svc.state(s.id)
    assert {k: (v.directive, v.lifecycle, v.report) for k, v in mine.nodes.items()} == \
        {k: (v.directive, v.lifecycle, v.report) for k, v in theirs.nodes.items()}
    assert mine.nodes["n"].replans == 1


async def test_confirm_does_not_re_plan_what_the_person_cancelled(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Policy: confirm\nAsk the user for a colour\nWrite a poem (after)")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    assert svc.state(s.id).nodes["n.1"].lifecycle is Lifecycle.WAITING_USER
    svc.cancel_node(s.id, "n.1")
    await svc.run_until_idle(s.id)
    st = _consistent(svc, s.id)
    assert st.status is SwarmStatus.COMPLETED and list(st.nodes) == ["n", "n.1", "n.2"]
    assert st.nodes["n"].replans == 0
    [confirm] = [c for c in svc.node_detail(s.id, "n").llm_calls if c.step == "confirm.on_review"]
    assert confirm.parsed_output == {"met": True, "missing": [],
                                     "reason": "every subtask is done (1); 1 cancelled by the person"}


async def test_confirm_stops_at_max_replans_with_a_reason_naming_the_cause(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Policy: confirm\nTool: memory.read notes/missing.md\nWrite a song",
                         config_id=_config(svc, 1))
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    st = _consistent(svc, s.id)
    n = st.nodes
    assert n["n.1"].lifecycle is Lifecycle.FAILED and n["n.3"].lifecycle is Lifecycle.FAILED
    assert n["n.3"].directive == "Tool: memory.read notes/missing.md" and "n.4" not in n
    reason = n["n"].failure_reason or ""
    assert reason.startswith("directive not confirmed after 1 re-plan (max_replans 1): n.3 failed (")
    assert "notes/missing.md" in reason
    assert st.failure_reason == reason


async def test_the_planner_picks_a_built_in_policy(svc: SwarmService) -> None:
    """``first``, picked by a plan line: the first subtask done completes the plan; the question is dropped."""
    s = svc.create_swarm("u1", "Ask the user for a colour (after)\nPolicy: first\nWrite a poem (after)")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    st = _consistent(svc, s.id)
    n = st.nodes
    assert st.status is SwarmStatus.COMPLETED and n["n"].termination_policy == "first"
    assert n["n"].report == 'Done: "Write a poem"'
    assert n["n.1"].lifecycle is Lifecycle.CANCELLED and n["n.1"].failure_reason == "sibling n.2 finished first"


def test_the_planner_output_names_only_built_in_policies() -> None:
    assert PlanOutput.model_validate({"subtasks": ["a"], "policy": "confirm"}).policy == "confirm"
    assert PlanOutput.model_validate({"subtasks": ["a"]}).policy is None
    with pytest.raises(ValueError, match="policy"):
        PlanOutput.model_validate({"subtasks": ["a"], "policy": "majority"})


async def test_the_docs_policy_example_decides_as_described(new_service: MakeService) -> None:
    """docs/custom-actions.md's ``majority`` policy, as written: two of three children done is a majority."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "custom-actions.md").read_text()
    section = text[text.index("## Termination policies"):]
    code = section[section.index("```python\n") + len("```python\n"):]
    code = code[:code.index("```")]
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(code, namespace)  # our own docs' code: the policy and the register function naming it
    reg = _registry()
    reg.policy("majority")(namespace["majority"])  # as its register() does (the vote action's steps are ours)
    reg.register_action(ActionSpec(id="vote", description="x", entry_step="lead.start", routable=False,
                                   termination_policy="majority"))
    svc = new_service(registry=reg)
    try:
        sid = _start(svc, reg, reg.get_action("vote"))
        await svc.run_until_idle(sid)
        st = _consistent(svc, sid)
        n = st.nodes
        assert st.status is SwarmStatus.COMPLETED and n["n"].report == "fine\nveto"
        assert n["n"].context_up == {"agreed": 2} and n["n.1"].lifecycle is Lifecycle.CANCELLED
    finally:
        svc.close()
