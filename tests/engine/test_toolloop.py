"""The tool-using loop (``actions/toolloop.py``) on the engine with the scripted model, SQLite and PostgreSQL:
``do`` is given the swarm's tools as functions; the scripted model turns each ``Tool:`` segment of a task into a
call, one per turn; each result is committed before the next turn sees it; the node's developer log and journal
show every call; the limit on tool calls per node ends the loop; a custom action uses the same loop."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from aga_swarm.actions import register_builtins
from aga_swarm.actions.outputs import DoOutput
from aga_swarm.actions.toolloop import LoopState, function_name
from aga_swarm.actions.tools import Tool, add_tool
from aga_swarm.llm.scripted import tool_segments
from aga_swarm.schemas import EventType, Lifecycle, Limits, SwarmConfig, SwarmStatus
from aga_swarm.sdk import ActionSpec, Registry, StepContext
from aga_swarm.service import SwarmService
from aga_swarm.store import packing
from aga_swarm.store import tables as t

from ..conftest import make_service
from .helpers import continuations_set, run_answering

GOAL = "Save the plan Tool: memory.write notes/plan.md buy milk Tool: memory.read notes/plan.md"


def _service(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
             registry: Registry | None = None) -> SwarmService:
    return make_service(backend, tmp_path, request, registry=registry or register_builtins(Registry()))


def test_tool_segments_and_function_names() -> None:
    assert tool_segments(GOAL) == ["Tool: memory.write notes/plan.md buy milk", "Tool: memory.read notes/plan.md"]
    assert tool_segments("Tool: memory.read a.md") == ["Tool: memory.read a.md"]
    assert tool_segments("No tools here (Toolbox: x)") == []
    assert function_name("memory.write") == "memory__write"
    assert function_name("fs.read text/file") == "fs__read_text_file"


def test_the_loop_state_dumps_itself_as_pydantic_does() -> None:
    """``LoopState.json_context`` (what the continuation stores every turn) is ``model_dump(mode="json")``, keys in
    the same order, and shares no dict or list of the loop's own with the state it came from."""
    call = {"id": "call_1", "name": "memory__read", "arguments": '{"path": "a.md"}'}
    state = LoopState.model_validate({
        "purpose": "do.execute", "base": "k1", "base_len": 3, "functions": {"memory__read": "memory.read"},
        "messages": [{"role": "assistant", "content": "", "tool_calls": [call]},
                     {"role": "tool", "tool_call_id": "call_1", "content": "x"}],
        "final_step": "do.on_result", "final_context": {"guidance": "g", "n": [1, 2]}, "facts": {"told": ["hi"]},
        "pending": [call, {**call, "id": "call_2"}], "current": call, "reason": "why", "calls": 2, "asked": True,
        "save_results": True})
    for s in (state, LoopState(purpose="p", messages=[], final_step="f")):
        dumped = s.json_context()
        assert dumped == s.model_dump(mode="json") and list(dumped) == list(s.model_dump(mode="json"))
    dumped = state.json_context()
    dumped["messages"].append({}), dumped["pending"].clear(), dumped["facts"].clear()
    assert len(state.messages) == 2 and len(state.pending) == 2 and state.facts == {"told": ["hi"]}


async def test_do_calls_the_memory_tools_through_function_calling(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    svc = _service(backend, tmp_path, request)
    try:
        s = svc.create_swarm("u1", GOAL)
        svc.spawn(s.id)
        assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
        state = svc.state(s.id)
        node = state.nodes["n.1"]
        assert node.action_id == "do" and node.lifecycle is Lifecycle.DONE
        # the report has each result, the second made after the first committed (it reads what it wrote)
        assert node.report == f'Done: "{GOAL}"\n\nWrote notes/plan.md (8 bytes).\n\nbuy milk'
        assert state.memory["notes/plan.md"].node_id == "n.1"
        assert node.context_up["files"] == ["notes/plan.md"]
        detail = svc.node_detail(s.id, "n.1")
        journal = [j.text for j in detail.journal]
        assert "The model asks for 1 tool call: memory.write." in journal
        assert "Called memory.write(path=notes/plan.md, content=buy milk): 30 characters." in journal
        assert "Called memory.read(path=notes/plan.md): 8 characters." in journal
        calls = [(c.step, c.model) for c in detail.llm_calls]
        assert calls[-5:] == [("do.on_result", "scripted-1"), ("do.on_result", "tool:memory.write"),
                              ("do.on_result", "scripted-1"), ("do.on_result", "tool:memory.read"),
                              ("do.on_result", "scripted-1")]
        read = next(c for c in detail.llm_calls if c.model == "tool:memory.read")
        assert read.raw_output == "buy milk" and read.parsed_output["arguments"] == {"path": "notes/plan.md"}
        # the last turn saw both calls and both results, in the provider's message shapes
        last = [c for c in detail.llm_calls if c.model == "scripted-1"][-1]
        shapes = [(m.role, bool(m.tool_calls), m.tool_call_id) for m in last.messages]
        assert shapes[-4:] == [("assistant", True, None), ("tool", False, "call_1"), ("assistant", True, None),
                               ("tool", False, "call_2")]
        events = svc.history(s.id).events
        tool_events = [e for e in events if e.type is EventType.TOOL_CALL]
        assert [e.data["tool"] for e in tool_events] == ["memory.write", "memory.read"]
        assert all(e.node_id == "n.1" and e.data["error"] is False for e in tool_events)
        # a fork past the calls has their developer-log records too
        fork = svc.clone(s.id, at_seq=state.seq)
        assert [c.model for c in svc.node_detail(fork.id, "n.1").llm_calls] == [c.model for c in detail.llm_calls]
    finally:
        svc.close()


async def test_the_limit_on_tool_calls_ends_the_loop(backend: str, tmp_path: Path,
                                                     request: pytest.FixtureRequest) -> None:
    svc = _service(backend, tmp_path, request)
    try:
        svc.save_config(SwarmConfig(id="one-call", name="one call", limits=Limits(max_tool_calls=1)), "u1")
        s = svc.create_swarm("u1", GOAL, config_id="one-call")
        svc.spawn(s.id)
        assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
        node = svc.state(s.id).nodes["n.1"]
        # one call made; the next turn offered no tools, so the model answered with what it had
        assert node.report == f'Done: "{GOAL}"\n\nWrote notes/plan.md (8 bytes).'
        detail = svc.node_detail(s.id, "n.1")
        assert [c.model for c in detail.llm_calls if c.model.startswith("tool:")] == ["tool:memory.write"]
    finally:
        svc.close()


async def test_a_failing_tool_call_goes_back_to_the_model(backend: str, tmp_path: Path,
                                                         request: pytest.FixtureRequest) -> None:
    svc = _service(backend, tmp_path, request)
    try:
        s = svc.create_swarm("u1", "Look it up Tool: memory.read missing.md")
        svc.spawn(s.id)
        assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
        node = svc.state(s.id).nodes["n.1"]
        assert node.lifecycle is Lifecycle.DONE
        assert "error: no file 'missing.md' in the memory space" in (node.report or "")
        rec = next(c for c in svc.node_detail(s.id, "n.1").llm_calls if c.model == "tool:memory.read")
        assert rec.error is not None and "missing.md" in rec.error
    finally:
        svc.close()


class Summary(BaseModel):
    text: str


async def test_a_custom_action_uses_the_loop(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    reg = register_builtins(Registry())

    @reg.step("keeper.start")
    def start(ctx: StepContext, data: BaseModel, result: None) -> None:
        ctx.llm("do.execute", [{"role": "user", "content": ctx.node.directive}], next_step=done,
                context=data, facts={"directive": ctx.node.directive}, tools=["memory.write"],
                save_tool_results=True)

    @reg.step("keeper.done", result=DoOutput)
    def done(ctx: StepContext, data: BaseModel, result: DoOutput) -> None:
        ctx.complete(result.report)

    reg.register_action(ActionSpec(id="keeper", description="Keep notes", entry_step="keeper.start"),
                        folder="custom")
    svc = _service(backend, tmp_path, request, reg)
    try:
        # routed by its name; memory.read is not among its tools, so that call is refused and the model told
        s = svc.create_swarm("u1", "keeper: Tool: memory.write a.md hello Tool: memory.read a.md")
        svc.spawn(s.id)
        assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
        node = svc.state(s.id).nodes["n.1"]
        assert node.action_id == "keeper"
        assert "Wrote a.md (5 bytes)." in (node.report or "")
        assert "error: there is no tool 'memory.read'" in (node.report or "")
        memory = svc.state(s.id).memory
        assert memory["a.md"].size == 5 and "memory.read" not in str(memory)
    finally:
        svc.close()


async def test_the_conversation_is_kept_by_reference(backend: str, tmp_path: Path,
                                                     request: pytest.FixtureRequest) -> None:
    """Each continuation of the loop keeps the key of the last stored request and only the turns since, so it
    does not grow with the conversation; every model call still sees the whole conversation."""
    svc = _service(backend, tmp_path, request)
    try:
        goal = "Keep notes " + " ".join(f"Tool: memory.write n{i}.md note {i}" for i in range(5))
        s = svc.create_swarm("u1", goal)
        svc.spawn(s.id)
        assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
        contexts = [c["context"] for e, c in continuations_set(svc.history(s.id).events, s.id)
                    if e.node_id == "n.1" and c["next_step"].startswith("tools.")]
        assert len(contexts) >= 6  # one node_updated per node per transaction: at least one per turn
        assert max(len(c["messages"]) for c in contexts) <= 2  # the model's calls and their result, no more
        assert all(c["base"] for c in contexts) and len({c["base"] for c in contexts}) == 6  # one per turn
        assert not any(c["facts"] for c in contexts)  # they are in the stored requests too
        last = [c for c in svc.node_detail(s.id, "n.1").llm_calls if c.model == "scripted-1"][-1]
        results = [m.content for m in last.messages if m.role == "tool"]
        assert [r.split(" (")[0] for r in results] == [f"Wrote n{i}.md" for i in range(5)]
        assert svc.state(s.id).nodes["n.1"].report == f'Done: "{goal}"\n\n' + "\n\n".join(
            f"Wrote n{i}.md (6 bytes)." for i in range(5))
        # each turn after the first is stored as a delta over the turn before (not the whole conversation again),
        # and the developer log reads the same from the store alone as from the cache
        with svc.db.read() as conn:
            rows = conn.execute(select(t.llm_requests).where(t.llm_requests.c.swarm_id == s.id)).all()
        assert sum(1 for r in rows if "$base" in str(packing.text(r.body))) >= 5
        before = svc.node_detail(s.id, "n.1").llm_calls
        svc.engine.requests._cache.clear()
        again = svc.node_detail(s.id, "n.1").llm_calls
        assert again == before and [m.content for m in again[-1].messages if m.role == "tool"] == results
    finally:
        svc.close()


def test_a_continuation_stored_whole_still_loads() -> None:
    """A loop context stored before requests were referenced (the whole conversation in ``messages``)."""
    state = LoopState.model_validate({"purpose": "do.execute", "messages": [{"role": "user", "content": "hi"}],
                                      "final_step": "do.on_result"})
    assert state.base is None and state.base_len == 0 and len(state.messages) == 1


class EchoArgs(BaseModel):
    text: str


async def test_what_the_person_tells_a_looping_node_stays_with_it(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Told while the loop is under way: the next turn gets it, and so does every later one (the facts travel
    by reference with the conversation)."""
    reg = register_builtins(Registry())
    add_tool(reg, Tool("t.echo", "Echo", EchoArgs, ("text",), lambda ctx, a: f"echo: {a.text}", read_only=False,
                       policy="ask"), folder="t", folder_description="Test tools")
    svc = _service(backend, tmp_path, request, reg)
    try:
        s = svc.create_swarm("u1", "Echo Tool: t.echo one Tool: t.echo two Tool: t.echo three")
        svc.spawn(s.id)
        await svc.run_until_idle(s.id, timeout=120)
        svc.post_reply(s.id, "chat-n.1", "yes")  # the first call is made; the next turn is queued, not yet run
        assert svc.state(s.id).nodes["n.1"].lifecycle is Lifecycle.WAITING_LLM
        svc.tell_node(s.id, "n.1", "be brief")
        assert await run_answering(svc, s.id, default="yes") is SwarmStatus.COMPLETED
        node = svc.state(s.id).nodes["n.1"]
        assert "told: be brief" in (node.report or "") and "echo: three" in (node.report or "")
        turns = [c for c in svc.node_detail(s.id, "n.1").llm_calls if c.model == "scripted-1"]
        told = [i for i, c in enumerate(turns) if any("be brief" in m.content for m in c.messages)]
        assert told and told == list(range(told[0], len(turns))) and told[0] < len(turns) - 1
    finally:
        svc.close()


def test_tool_arguments_are_written_as_json_dumps_writes_them() -> None:
    """The developer log's record of a call keeps its arguments as ``json.dumps(..., ensure_ascii=False)`` text."""
    import json

    from aga_swarm.engine.toolcall import _encode_arguments

    for value in ({"text": "word5"}, {"a": [1, 2.5, None, True], "é": 'ü"\n', "n": {"x": float("inf")}}, {}):
        assert _encode_arguments(value) == json.dumps(value, ensure_ascii=False)
