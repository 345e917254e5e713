"""Built-in actions, routing backtrack, custom actions, artifacts, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from aga_swarm.actions import register_builtins
from aga_swarm.engine.errors import InvalidInput
from aga_swarm.schemas import ActionType as AT
from aga_swarm.schemas import ChatStatus, Lifecycle, LLMSettings, LogEntryKind, MessageRole, SwarmConfig, SwarmStatus
from aga_swarm.sdk import ActionSpec, ActionType, ChildrenResult, NoContext, Registry, StepContext, TerminationPolicy
from aga_swarm.service import SwarmService

from ..conftest import make_service
from .helpers import run_answering


def _scripted(svc: SwarmService, tmp_path: Path, script: str, cid: str = "scripted-test") -> str:
    path = tmp_path / f"{cid}.yaml"
    path.write_text(script)
    svc.save_config(SwarmConfig(id=cid, name=cid, llm=LLMSettings(script_path=str(path))))
    return cid


async def test_plan_route_do_ask_review_end_to_end(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Ask the user for their favourite colour\nWrite a haiku about it\nPlan: x; y")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id, {"Ask": ["ok", "blue"]}) is SwarmStatus.COMPLETED
    st = svc.state(s.id)
    kinds = {n.id: n.action_type for n in st.nodes.values()}
    assert kinds == {"n": AT.PLAN, "n.1": AT.ASK, "n.2": AT.DO, "n.3": AT.PLAN, "n.3.1": AT.DO, "n.3.2": AT.DO}
    assert all(n.lifecycle is Lifecycle.DONE for n in st.nodes.values())
    # by the scripted model's default, the lines after the Ask line need it, and receive its answer
    assert st.nodes["n.2"].needs == ["n.1"] and st.nodes["n.3"].needs == ["n.1"]
    assert st.nodes["n.2"].report == 'Done: "Write a haiku about it" (with: blue)'
    assert "blue" in (st.nodes["n.1"].report or "") and st.nodes["n.1"].context_up == {"answer": "blue"}
    # the conversation: first message contains the subtask; "ok" is too short -> follow-up; closing
    msgs = svc.messages(s.id, "chat-n.1")
    assert [m.role for m in msgs] == [MessageRole.AGENT, MessageRole.USER, MessageRole.AGENT, MessageRole.USER,
                                      MessageRole.AGENT]
    assert "Ask the user for their favourite colour" in msgs[0].content
    assert msgs[3].content == "blue" and msgs[3].reply_to == msgs[2].id
    assert st.chats["chat-n.1"].status is not ChatStatus.AWAITING_USER
    # the root posts a final summary in its chat
    root_msgs = svc.messages(s.id, "chat-n")
    assert root_msgs[-1].content.startswith("**Summary**") and "blue" in root_msgs[-1].content
    # every step journals, every model call is logged with its prompts
    detail = svc.node_detail(s.id, "n.2")
    assert [j.step for j in detail.journal][:3] == ["dependencies", "route.start", "route.on_choose"]
    assert {c.step for c in detail.llm_calls} >= {"route.on_choose", "do.on_result"}
    call = next(c for c in detail.llm_calls if c.step == "do.on_result")
    assert call.messages[0].role == "system" and "Write a haiku about it" in call.messages[1].content
    assert call.tokens_in > 0 and call.parsed_output == {"report": 'Done: "Write a haiku about it" (with: blue)',
                                                         "artifact_title": None, "artifact": None}


async def test_route_backtracks_then_asks_the_user_when_nothing_fits(svc: SwarmService,
                                                                      tmp_path: Path) -> None:
    cid = _scripted(svc, tmp_path, """
- purpose: route.choose
  match: Translate
  output: {choice: work}
- purpose: route.choose
  match: Translate
  output: {choice: none}
- purpose: route.choose
  match: Translate
  repeat: true
  output: {choice: nonsense}
""")
    s = svc.create_swarm("u1", "Translate this into Klingon", config_id=cid)
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    journal = [j.text for j in svc.node_detail(s.id, "n.1").journal]
    assert "Looking inside work." in journal
    assert any("backtracking" in line for line in journal)
    assert "No action fits; asking the person what to do." in journal
    chat = svc.waiting_chats(s.id)[0]
    assert "Translate this into Klingon" in svc.messages(s.id, chat.id)[-1].content
    svc.post_reply(s.id, chat.id, "Just do your best guess")
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    node = svc.state(s.id).nodes["n.1"]
    assert node.action_id == "do" and node.lifecycle is Lifecycle.DONE
    do_call = next(c for c in svc.node_detail(s.id, "n.1").llm_calls if c.step == "do.on_result")
    assert "Just do your best guess" in do_call.messages[-1].content


async def test_do_can_save_an_artifact_in_the_memory_space(svc: SwarmService, tmp_path: Path) -> None:
    cid = _scripted(svc, tmp_path, """
- purpose: do.execute
  output: {report: "Wrote the poem.", artifact_title: "poem.md", artifact: "Roses are red"}
""")
    s = svc.create_swarm("u1", "Write a poem", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    arts = svc.state(s.id).nodes["n.1"].context_up["artifacts"]
    assert arts[0]["title"] == "poem.md"
    assert arts[0]["key"].startswith(f"users/u1/swarms/{s.id}/memory/")
    assert svc.engine.blobs.get(arts[0]["key"]) == b"Roses are red"
    assert arts[0]["path"] == "artifacts/n.1/poem.md"
    file, data = svc.memory_file(s.id, "artifacts/n.1/poem.md")
    assert data == b"Roses are red" and file.node_id == "n.1" and file.title == "poem.md"


async def test_nul_characters_in_a_model_answer_are_dropped(svc: SwarmService, tmp_path: Path) -> None:
    """PostgreSQL's text columns refuse NUL; a model answering one (in its report, an artifact's title) failed
    its node there while SQLite kept it. The answer is stored without them, on both."""
    cid = _scripted(svc, tmp_path, r"""
- purpose: do.execute
  output: {report: "Wrote\u0000 it.", artifact_title: "po\u0000em.md", artifact: "Roses\u0000 are red"}
""")
    s = svc.create_swarm("u1", "Write a poem", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    node = svc.state(s.id).nodes["n.1"]
    assert node.lifecycle is Lifecycle.DONE and node.report == "Wrote it."
    file, data = svc.memory_file(s.id, "artifacts/n.1/poem.md")
    assert file.title == "poem.md" and data == b"Roses are red"
    call = next(c for c in svc.node_detail(s.id, "n.1").llm_calls if c.step.startswith("do."))
    assert "\x00" not in (call.raw_output or "") and call.parsed_output is not None
    assert call.parsed_output["report"] == "Wrote it."


class GreetCtx(BaseModel):
    name: str = "world"


async def test_custom_action_registration(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    reg = register_builtins(Registry())

    @reg.step("greet.start", context=GreetCtx)
    def greet(ctx: StepContext, data: GreetCtx, result: None) -> None:
        ctx.journal("Greeting.")
        ctx.complete(f"Hello, {ctx.node.directive.split()[-1]}!")

    reg.register_action(ActionSpec(id="greet", description="Say hello to someone by name",
                                   action_type=ActionType.CUSTOM, entry_step="greet.start"), folder="social")
    assert any(f.id == "social" for f in reg.space.root.folders)
    svc = make_service(backend, tmp_path, request, registry=reg)
    cid = _scripted(svc, tmp_path, """
- purpose: route.choose
  match: Greet
  output: {choice: social}
- purpose: route.choose
  match: Greet
  output: {choice: greet}
""")
    s = svc.create_swarm("u1", "Greet Ada", config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    node = svc.state(s.id).nodes["n.1"]
    assert node.action_id == "greet" and node.action_type is AT.CUSTOM and node.report == "Hello, Ada!"
    svc.close()


async def test_fail_fast_policy_cancels_siblings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    reg = register_builtins(Registry())

    @reg.step("race.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.spawn("Ask the user something", action_id="ask_user")
        ctx.spawn("boom", action_id="boom")
        ctx.wait_children(done, NoContext())

    @reg.step("race.done", result=ChildrenResult)
    def done(ctx: StepContext, data: NoContext, result: ChildrenResult) -> None:
        ctx.complete("all ended")

    @reg.step("boom.start")
    def boom(ctx: StepContext, data: NoContext, result: None) -> None:
        raise RuntimeError("kaboom")

    reg.register_action(ActionSpec(id="boom", description="explodes", entry_step="boom.start", routable=False))
    reg.register_action(ActionSpec(id="race", description="x", entry_step="race.start", routable=False,
                                   termination_policy=TerminationPolicy.FAIL_FAST))
    svc = make_service(backend, tmp_path, request, registry=reg)
    s2 = svc.create_swarm("u1", "race")
    with svc.db.tx() as conn:
        from datetime import UTC, datetime

        from aga_swarm.engine.context import spawn_node
        from aga_swarm.engine.tx import SwarmTx

        tx = SwarmTx(conn, s2.id, datetime.now(UTC))
        tx.set_status(SwarmStatus.RUNNING)
        spawn_node(tx, "n", None, 0, reg.get_action("race"), "race", "race", {})
        tx.flush()
    await svc.run_until_idle(s2.id)
    st = svc.state(s2.id)
    assert st.nodes["n.2"].lifecycle is Lifecycle.FAILED and "kaboom" in (st.nodes["n.2"].failure_reason or "")
    assert st.nodes["n.1"].lifecycle is Lifecycle.CANCELLED
    assert st.chats["chat-n.1"].status is not ChatStatus.AWAITING_USER
    assert st.nodes["n"].lifecycle is Lifecycle.FAILED
    assert svc.get_swarm(s2.id).status is SwarmStatus.FAILED
    entry = svc.node_detail(s2.id, "n.2").llm_calls[-1]
    tb = entry.raw_output or ""
    assert "Traceback" in tb and "kaboom" in tb
    assert entry.kind is LogEntryKind.STEP_ERROR and entry.model == ""  # its own kind, not a fake model call
    assert all(c.kind is LogEntryKind.MODEL_CALL for c in svc.node_detail(s2.id, "n.1").llm_calls)
    svc.close()


@pytest.mark.parametrize("goal", [
    "", "   \n\t  ", "\x00\x01\x02",
])
def test_empty_goals_are_rejected(svc: SwarmService, goal: str) -> None:
    with pytest.raises(InvalidInput, match="must not be empty"):
        svc.create_swarm("u1", goal)


def test_huge_goal_is_rejected_with_a_clear_error(svc: SwarmService) -> None:
    with pytest.raises(InvalidInput, match="too long"):
        svc.create_swarm("u1", "x" * 5_000_000)


async def test_unicode_and_control_characters(svc: SwarmService) -> None:
    goal = "Écris un poème 🌸 about ∑ and עברית\u200f\nAsk the user 你最喜欢的颜色\x07?\nz\u0301algo"
    s = svc.create_swarm("u1", goal)
    assert "\x07" not in s.goal and "🌸" in s.goal and "你最喜欢的颜色" in s.goal
    svc.spawn(s.id)
    assert await run_answering(svc, s.id, default="蓝色 💙") is SwarmStatus.COMPLETED
    st = svc.state(s.id)
    assert "蓝色 💙" in (st.nodes["n.2"].report or "")
    assert [n.directive for n in (st.nodes[c] for c in st.nodes["n"].children)] == goal.replace("\x07", "").split("\n")
