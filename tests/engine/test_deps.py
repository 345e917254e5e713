"""Plans as DAGs: a subtask starts when what it needs has ended, receives their reports (and nothing else), and
is cancelled, naming the prerequisite, when one of them failed. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from aga_swarm.actions import register_builtins
from aga_swarm.actions.outputs import PlanOutput, ReviewOutput
from aga_swarm.engine.context import spawn_node
from aga_swarm.engine.deps import Subtask, plan_problem
from aga_swarm.engine.tx import SwarmTx
from aga_swarm.schemas import EventType, Lifecycle, LLMSettings, SwarmConfig, SwarmEvent, SwarmStatus
from aga_swarm.sdk import ActionSpec, ChildrenResult, NoContext, Registry, StepContext
from aga_swarm.service import SwarmService

from ..conftest import MakeService, make_service
from .helpers import run_answering


def _scripted(svc: SwarmService, tmp_path: Path, script: str, cid: str = "deps-script", **limits: int) -> str:
    path = tmp_path / f"{cid}.yaml"
    path.write_text(script)
    config = SwarmConfig(id=cid, name=cid, llm=LLMSettings(script_path=str(path)))
    config = config.model_copy(update={"limits": config.limits.model_copy(update=limits)})
    svc.save_config(config)
    return cid


def _first_seq(events: list[SwarmEvent], node_id: str, lifecycle: Lifecycle) -> int:
    """The seq at which ``node_id`` first reached ``lifecycle`` (created in it, or updated to it)."""
    for e in events:
        if e.type is EventType.NODE_SPAWNED and e.data["node"]["id"] == node_id \
                and e.data["node"]["lifecycle"] == lifecycle.value:
            return e.seq
        if e.type is EventType.NODE_UPDATED and e.node_id == node_id \
                and e.data["changes"].get("lifecycle") == lifecycle.value:
            return e.seq
    raise AssertionError(f"{node_id} never became {lifecycle.value}")


_AT_WORK = {Lifecycle.RUNNING.value, Lifecycle.WAITING_LLM.value, Lifecycle.WAITING_USER.value,
            Lifecycle.WAITING_CHILDREN.value}


def _started(events: list[SwarmEvent], node_id: str) -> int:
    """The seq at which ``node_id`` first ran a step (its ``node_spawned`` when that was in the transaction that
    created it: the event carries the node as that transaction left it)."""
    return next(e.seq for e in events
                if (e.type is EventType.NODE_UPDATED and e.node_id == node_id
                    and e.data["changes"].get("lifecycle") in _AT_WORK)
                or (e.type is EventType.NODE_SPAWNED and e.data["node"]["id"] == node_id
                    and e.data["node"]["lifecycle"] in _AT_WORK))


async def test_a_subtask_starts_only_when_what_it_needs_has_ended(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write part a\nWrite part b (after 1)\nJoin them (after 1, 2)\nWrite part d")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    st = svc.state(s.id)
    assert [st.nodes[f"n.{i}"].needs for i in range(1, 5)] == [[], ["n.1"], ["n.1", "n.2"], []]
    events = svc.history(s.id).events
    spawned = {e.data["node"]["id"]: e.data["node"]["lifecycle"] for e in events if e.type is EventType.NODE_SPAWNED}
    # the subtasks that need nothing started (asked the model) in the transaction that made them: their
    # ``node_spawned`` carries them as it left them
    assert spawned["n.2"] == spawned["n.3"] == "waiting_deps" and spawned["n.1"] == spawned["n.4"] == "waiting_llm"
    done = {n: _first_seq(events, n, Lifecycle.DONE) for n in ("n.1", "n.2", "n.3", "n.4")}
    running = {n: _started(events, n) for n in ("n.1", "n.2", "n.3", "n.4")}
    assert running["n.2"] > done["n.1"]
    assert running["n.3"] > max(done["n.1"], done["n.2"])
    # the independent subtasks run in parallel: d started before a (which it does not need) ended
    assert running["n.4"] < done["n.1"] and running["n.1"] < done["n.4"]
    assert all(n.lifecycle is Lifecycle.DONE for n in st.nodes.values())
    # the state at a seq in between (the history slider's view) shows the waiting lifecycle and the edges
    mid = svc.state_at(s.id, done["n.1"] - 1)
    assert mid.nodes["n.3"].lifecycle is Lifecycle.WAITING_DEPS and mid.nodes["n.3"].needs == ["n.1", "n.2"]


async def test_the_context_holds_the_goal_the_parent_directive_and_only_the_needed_reports(
        svc: SwarmService) -> None:
    goal = "Say hello\nPlan: Write part a; Write part b (after 1); Write part c"
    s = svc.create_swarm("u1", goal)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    st = svc.state(s.id)
    assert st.nodes["n.2.2"].needs == ["n.2.1"] and st.nodes["n.2.3"].needs == []
    assert st.nodes["n.2.2"].report == 'Done: "Write part b" (with: Done: "Write part a")'

    def prompt(node_id: str) -> str:
        call = next(c for c in svc.node_detail(s.id, node_id).llm_calls if c.step == "do.on_result")
        return "\n".join(m.content for m in call.messages)

    b, c = prompt("n.2.2"), prompt("n.2.3")
    for text in (b, c):
        assert "The team's overall goal:\nSay hello" in text
        assert "This task is part of:\nPlan: Write part a; Write part b (after 1); Write part c" in text
    assert "Results of the subtasks this task builds on:\n- Write part a\n  Result: Done: \"Write part a\"" in b
    assert "Results of the subtasks" not in c and 'Done: "Write part a"' not in c
    # the planner of the nested plan sees the goal too; the root, whose directive is the goal, sees no context
    plan_call = next(x for x in svc.node_detail(s.id, "n.2").llm_calls if x.step == "plan.on_plan")
    assert "The team's overall goal:\nSay hello" in plan_call.messages[-1].content
    root_call = next(x for x in svc.node_detail(s.id, "n").llm_calls if x.step == "plan.on_plan")
    assert "overall goal" not in root_call.messages[-1].content


async def test_the_haiku_waits_for_the_colour_and_receives_it(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Ask the user for their favourite colour\nWrite a haiku about it")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    st = svc.state(s.id)
    assert st.nodes["n.2"].lifecycle is Lifecycle.WAITING_DEPS  # the question is open; the haiku waits
    assert await run_answering(svc, s.id, {"Ask": ["blue"]}) is SwarmStatus.COMPLETED
    events = svc.history(s.id).events
    answered = next(e.seq for e in events if e.type is EventType.MESSAGE_POSTED
                    and e.data["message"]["role"] == "user")
    assert _started(events, "n.2") > answered
    detail = svc.node_detail(s.id, "n.2")
    call = next(c for c in detail.llm_calls if c.step == "do.on_result")
    assert "The person answered: blue" in call.messages[-1].content
    assert call.parsed_output is not None and call.parsed_output["report"].endswith("(with: blue)")
    # the route prompt renders the same context; the question's own prompts show the goal it serves
    route = next(c for c in detail.llm_calls if c.step == "route.on_choose")
    assert "Results of the subtasks this task builds on:\n- Ask the user for their favourite colour\n" \
           "  Result: The person answered: blue" in route.messages[-1].content
    for ask_call in svc.node_detail(s.id, "n.1").llm_calls:
        if ask_call.step in ("ask.on_compose", "ask.on_evaluate"):
            assert ask_call.messages[-1].content.startswith("The team's overall goal:\nAsk the user for their")
            assert "Results of the subtasks" not in ask_call.messages[-1].content


async def test_a_failed_prerequisite_cancels_its_dependents_and_the_review_replans(
        svc: SwarmService, tmp_path: Path) -> None:
    cid = _scripted(svc, tmp_path, """
- purpose: do.execute
  match: Fetch
  repeat: true
  output: {wrong: true}
""", max_replans=1)
    s = svc.create_swarm("u1", "Fetch the data\nChart it (after 1)\nCaption the chart (after 2)\nWrite an intro",
                         config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    st = svc.state(s.id)
    n = st.nodes
    assert n["n.1"].lifecycle is Lifecycle.FAILED
    assert n["n.2"].lifecycle is Lifecycle.CANCELLED and n["n.3"].lifecycle is Lifecycle.CANCELLED
    assert (n["n.2"].failure_reason or "").startswith("prerequisite n.1 (Fetch the data) failed: model call failed")
    assert (n["n.3"].failure_reason or "").startswith("prerequisite n.2 (Chart it) cancelled")
    assert n["n.4"].lifecycle is Lifecycle.DONE
    # the cancelled ones never ran: no model call, no step of theirs
    assert svc.node_detail(s.id, "n.2").llm_calls == []
    assert [j.step for j in svc.node_detail(s.id, "n.2").journal] == ["dependencies"]
    # the review saw why, and re-planned the three missing subtasks once, with their dependencies
    review = next(c for c in svc.node_detail(s.id, "n").llm_calls if c.step == "plan.on_review")
    assert "[cancelled] Chart it: prerequisite n.1 (Fetch the data) failed" in review.messages[-1].content
    assert n["n"].replans == 1
    assert [(n[i].directive, n[i].needs) for i in ("n.5", "n.6", "n.7")] == [
        ("Fetch the data", []), ("Chart it", []), ("Caption the chart", [])]
    assert "n.8" not in n
    # the reason names what is still missing, not only that re-plans ran out
    assert st.failure_reason == "work incomplete after review: re-plan limit 1 reached; still missing: Fetch the data"


async def test_replanned_subtasks_keep_their_dependencies(svc: SwarmService, tmp_path: Path) -> None:
    cid = _scripted(svc, tmp_path, """
- purpose: ask.compose
  repeat: true
  output: {no_message: true}
""", max_replans=1)
    s = svc.create_swarm("u1", "Ask the user for a colour\nWrite a haiku about it", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    n = svc.state(s.id).nodes
    # the review names both missing; the re-planned haiku needs the re-planned question, as in the first plan
    assert (n["n.3"].directive, n["n.3"].needs) == ("Ask the user for a colour", [])
    assert (n["n.4"].directive, n["n.4"].needs) == ("Write a haiku about it", ["n.3"])
    assert n["n.4"].lifecycle is Lifecycle.CANCELLED
    assert (n["n.4"].failure_reason or "").startswith("prerequisite n.3 (Ask the user for a colour) failed")


class Echo(BaseModel):
    pass


def _custom_registry(plan: list[Any]) -> Registry:
    reg = register_builtins(Registry())

    @reg.step("lead.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.spawn_plan(plan, action_id="echo")
        ctx.wait_children(done, NoContext())

    @reg.step("lead.done", result=ChildrenResult)
    def done(ctx: StepContext, data: NoContext, result: ChildrenResult) -> None:
        ctx.complete("\n".join(f"{c.id}: {c.report}" for c in result.children))

    @reg.step("echo.start")
    def echo(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.complete(ctx.context().model_dump_json(), context_up={"files": [f"notes/{ctx.node.id}.md"]})

    reg.register_action(ActionSpec(id="echo", description="x", entry_step="echo.start", routable=False))
    reg.register_action(ActionSpec(id="lead", description="x", entry_step="lead.start", routable=False))
    return reg


def _start_custom(svc: SwarmService, reg: Registry, goal: str) -> str:
    s = svc.create_swarm("u1", goal)
    with svc.db.tx() as conn:
        tx = SwarmTx(conn, s.id, datetime.now(UTC))
        tx.set_status(SwarmStatus.RUNNING)
        spawn_node(tx, "n", None, 0, reg.get_action("lead"), goal, "lead", {})
        tx.flush()
    return s.id


async def test_custom_actions_read_the_context_through_one_accessor(backend: str, tmp_path: Path,
                                                                    request: pytest.FixtureRequest) -> None:
    reg = _custom_registry([Subtask(task="first"), Subtask(task="second"), Subtask(task="third", needs=[1]),
                            "fourth"])
    svc = make_service(backend, tmp_path, request, registry=reg)
    try:
        sid = _start_custom(svc, reg, "the goal")
        await svc.run_until_idle(sid)
        assert svc.get_swarm(sid).status is SwarmStatus.COMPLETED
        n = svc.state(sid).nodes
        third = json.loads(n["n.3"].report or "")
        assert third["goal"] == "the goal" and third["parent_directive"] == "the goal"
        assert third["directive"] == "third"
        [inp] = third["inputs"]  # only what it needs: not the second subtask's report
        assert inp["id"] == "n.1" and inp["directive"] == "first" and inp["files"] == ["notes/n.1.md"]
        assert json.loads(inp["report"])["inputs"] == []
        assert json.loads(n["n.4"].report or "")["inputs"] == []
    finally:
        svc.close()


@pytest.mark.parametrize(("plan", "reason"), [
    ([Subtask(task="a", needs=[2]), Subtask(task="b", needs=[1])],
     "Step 'spawn' failed: dependency cycle: subtask 1 -> subtask 2 -> subtask 1 (InvalidPlan)."),
    ([Subtask(task="a", needs=[1])], "Step 'spawn' failed: subtask 1 needs itself (InvalidPlan)."),
    ([Subtask(task="a"), Subtask(task="b", needs=[3])],
     "Step 'spawn' failed: subtask 2 needs subtask 3, but the plan has 2 subtasks (InvalidPlan)."),
])
async def test_a_hand_written_cycle_is_refused_with_a_clear_error(backend: str, tmp_path: Path,
                                                                  request: pytest.FixtureRequest,
                                                                  plan: list[Subtask], reason: str) -> None:
    reg = _custom_registry(plan)
    svc = make_service(backend, tmp_path, request, registry=reg)
    try:
        sid = _start_custom(svc, reg, "the goal")
        await svc.run_until_idle(sid)
        st = svc.state(sid)
        assert st.status is SwarmStatus.FAILED and st.nodes["n"].failure_reason == reason
        assert list(st.nodes) == ["n"]  # refused before anything was spawned
    finally:
        svc.close()


async def test_spawn_names_only_existing_children(new_service: MakeService) -> None:
    reg = register_builtins(Registry())
    seen: list[str] = []

    @reg.step("odd.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        first = ctx.spawn("one", action_id="echo_free")
        try:
            ctx.spawn("two", action_id="echo_free", needs=[first, "n.9"])
        except ValueError as exc:
            seen.append(str(exc))
        ctx.wait_children(done, NoContext())

    @reg.step("odd.done", result=ChildrenResult)
    def done(ctx: StepContext, data: NoContext, result: ChildrenResult) -> None:
        ctx.complete(",".join(c.id for c in result.children))

    @reg.step("echo_free.start")
    def echo(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.complete("ok")

    reg.register_action(ActionSpec(id="odd", description="x", entry_step="odd.start", routable=False))
    reg.register_action(ActionSpec(id="echo_free", description="x", entry_step="echo_free.start",
                                   routable=False))
    svc = new_service(registry=reg)
    try:
        sid = _start_custom_action(svc, reg, "odd")
        await svc.run_until_idle(sid)
        assert seen == ["a subtask of n needs n.9, which is not a subtask of n"]
        assert svc.state(sid).nodes["n"].report == "n.1"
    finally:
        svc.close()


def _start_custom_action(svc: SwarmService, reg: Registry, action_id: str) -> str:
    s = svc.create_swarm("u1", "goal")
    with svc.db.tx() as conn:
        tx = SwarmTx(conn, s.id, datetime.now(UTC))
        tx.set_status(SwarmStatus.RUNNING)
        spawn_node(tx, "n", None, 0, reg.get_action(action_id), "goal", "goal", {})
        tx.flush()
    return s.id


async def test_a_planner_output_with_a_cycle_fails_the_scripted_call(svc: SwarmService, tmp_path: Path) -> None:
    cid = _scripted(svc, tmp_path, """
- purpose: plan.decompose
  output: {subtasks: [{task: a, needs: [2]}, {task: b, needs: [1]}]}
""")
    s = svc.create_swarm("u1", "anything", config_id=cid)
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    st = svc.state(s.id)
    assert st.status is SwarmStatus.FAILED and list(st.nodes) == ["n"]
    assert "is invalid: dependency cycle: subtask 1 -> subtask 2 -> subtask 1" in (st.failure_reason or "")


@pytest.mark.parametrize(("needs", "problem"), [
    ([[], [1], [1, 2]], None),
    ([[2], []], None),  # a later subtask may be named, as long as there is no cycle
    ([[0]], "subtask 1 needs subtask 0, but the plan has 1 subtask"),
    ([[], [5]], "subtask 2 needs subtask 5, but the plan has 2 subtasks"),
    ([[], [2]], "subtask 2 needs itself"),
    ([[3], [1], [2]], "dependency cycle: subtask 1 -> subtask 3 -> subtask 2 -> subtask 1"),
    ([[], [3], [4], [2]], "dependency cycle: subtask 2 -> subtask 3 -> subtask 4 -> subtask 2"),
])
def test_plan_problems(needs: list[list[int]], problem: str | None) -> None:
    assert plan_problem(needs) == problem


def test_planner_and_review_outputs_validate_their_dependencies() -> None:
    ok = PlanOutput.model_validate({"subtasks": ["plain text", {"task": "t", "needs": [1]}]})
    assert ok.subtasks == [Subtask(task="plain text"), Subtask(task="t", needs=[1])]
    for bad in ({"subtasks": [{"task": "a", "needs": [1]}]}, {"subtasks": [{"task": "a", "needs": [7]}]}):
        with pytest.raises(ValidationError, match="subtask 1 needs"):
            PlanOutput.model_validate(bad)
    with pytest.raises(ValidationError, match="dependency cycle"):
        ReviewOutput.model_validate({"complete": False, "summary": "",
                                     "missing": [{"task": "a", "needs": [2]}, {"task": "b", "needs": [1]}]})
    schema = PlanOutput.model_json_schema()
    assert "needs" in json.dumps(schema)


def test_the_live_lifecycles_the_store_asks_for_are_the_non_terminal_ones() -> None:
    from aga_swarm.schemas import TERMINAL_LIFECYCLES
    from aga_swarm.store.sql import LIVE_LIFECYCLES

    assert set(LIVE_LIFECYCLES) == {lc.value for lc in Lifecycle if lc not in TERMINAL_LIFECYCLES}


def test_the_rendered_context_cuts_a_long_goal_but_keeps_the_reports_whole() -> None:
    from aga_swarm.engine.context import GOAL_IN_PROMPT
    from aga_swarm.sdk import NodeContext, Prerequisite

    report = "r" * 9000
    ctx = NodeContext(goal="g" * 50_000, directive="d", parent_directive="p",
                      inputs=[Prerequisite(id="n.1", directive="first", report=report)])
    text = ctx.render()
    assert "g" * GOAL_IN_PROMPT + " […]" in text and "g" * (GOAL_IN_PROMPT + 1) not in text
    assert report in text and "This task is part of:\np" in text
    assert NodeContext(goal="g", directive="g").render() == ""  # the root: nothing beyond its own directive


async def test_spawn_one_at_a_time_with_needs(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    reg = register_builtins(Registry())

    @reg.step("one_by_one.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        first = ctx.spawn("first", action_id="say_inputs")
        ctx.spawn("second", action_id="say_inputs", needs=[first, first])  # a repeated id counts once
        ctx.wait_children(done, NoContext())

    @reg.step("one_by_one.done", result=ChildrenResult)
    def done(ctx: StepContext, data: NoContext, result: ChildrenResult) -> None:
        ctx.complete("; ".join(f"{c.id}={c.report}" for c in result.children))

    @reg.step("say_inputs.start")
    def say(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.complete(",".join(i.id for i in ctx.context().inputs) or "-")

    reg.register_action(ActionSpec(id="say_inputs", description="x", entry_step="say_inputs.start", routable=False))
    reg.register_action(ActionSpec(id="one_by_one", description="x", entry_step="one_by_one.start",
                                   routable=False))
    svc = make_service(backend, tmp_path, request, registry=reg)
    try:
        sid = _start_custom_action(svc, reg, "one_by_one")
        await svc.run_until_idle(sid)
        n = svc.state(sid).nodes
        assert n["n"].report == "n.1=-; n.2=n.1"
        assert n["n.1"].needed_by == ["n.2"] and n["n.2"].needs == ["n.1"]
        events = svc.history(sid).events
        # both children are made, and n.2 is released when n.1 ends and runs, in one transaction: a node's changes
        # in a transaction are one event (its end state), which for a node made in it is its ``node_spawned``
        spawned = {e.data["node"]["id"]: e.data["node"] for e in events if e.type is EventType.NODE_SPAWNED}
        assert spawned["n.1"]["lifecycle"] == spawned["n.2"]["lifecycle"] == "done"
        assert spawned["n.1"]["needed_by"] == ["n.2"] and spawned["n.2"]["needs"] == ["n.1"]
        assert spawned["n.2"]["report"] == "n.1" and spawned["n.1"]["children"] == []
        assert not [e for e in events if e.type is EventType.NODE_UPDATED and e.node_id in ("n.1", "n.2")]
    finally:
        svc.close()
