"""``do``'s tool-using loop with the operator's MCP tools (``actions/toolloop.py``), against the npm filesystem
server: through the OpenAI client and the local fake OpenAI server (the real SDK, the tools wire format), and
with the scripted model (approval asked in the node's chat, approved and denied; a long result saved in the
memory space), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aga_swarm.mcp.config import McpConfig
from aga_swarm.schemas import ChatStatus, EventType, Lifecycle, LLMSettings, SwarmConfig, SwarmStatus

from ..engine.helpers import run_answering
from .test_tool_actions import FILESYSTEM, _service

try:
    from fake_openai_server import FakeOpenAIServer
except ImportError:  # tests/ collected as a package
    from tests.fake_openai_server import FakeOpenAIServer


def _fs(share: Path, policy: dict[str, str] | None = None) -> McpConfig:
    return McpConfig.model_validate({"mcpServers": {
        "fs": {"command": str(FILESYSTEM), "args": [str(share)], "timeout": 60, "policy": policy or {}}}})


def _segment(tool: str, args: dict[str, Any]) -> str:
    return f"Tool: {tool} {json.dumps(args)}"


async def test_do_calls_an_mcp_tool_through_openai_function_calling(tmp_path: Path, request: pytest.FixtureRequest,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "todo.txt").write_text("water the plants")
    monkeypatch.setenv("AGA_TEST_KEY", "sk-test")
    fake = FakeOpenAIServer()
    await fake.start()
    svc = _service("sqlite", tmp_path, request, _fs(share))
    try:
        svc.save_config(SwarmConfig(id="oa", name="openai", llm=LLMSettings(
            provider="openai", model="gpt-4o-mini", base_url=fake.base_url, api_key_env="AGA_TEST_KEY",
            max_retries=0, timeout_s=30)), "u1")
        fake.reply_content(json.dumps({"subtasks": [{"task": "Read the to-do list", "needs": []}]}))
        fake.reply_content(json.dumps({"choice": "work", "reason": "a task"}))
        fake.reply_content(json.dumps({"choice": "do", "reason": "do it"}))
        fake.reply_tool_calls([("fs__read_text_file", {"path": str(share / "todo.txt")})], content="I read it first")
        fake.reply_content(json.dumps({"report": "The list says: water the plants"}))
        fake.reply_content(json.dumps({"complete": True, "summary": "done", "missing": []}))
        s = svc.create_swarm("u1", "Read the to-do list", config_id="oa")
        svc.spawn(s.id)
        assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
        node = svc.state(s.id).nodes["n.1"]
        assert node.action_id == "do" and node.report == "The list says: water the plants"
        # the do turn offered the swarm's tools as functions; the next one got the call and its result
        offered = {t["function"]["name"]: t["function"] for t in fake.requests[3].json["tools"]}
        assert {"fs__read_text_file", "fs__write_file", "memory__write", "memory__read"} <= set(offered)
        assert offered["fs__read_text_file"]["parameters"]["properties"]["path"]["type"] == "string"
        call_id = fake.requests[3 + 1].json["messages"][-1]["tool_call_id"]
        assert fake.requests[4].json["messages"][-2:] == [
            {"role": "assistant", "content": "I read it first", "tool_calls": [
                {"id": call_id, "type": "function", "function": {
                    "name": "fs__read_text_file", "arguments": json.dumps({"path": str(share / "todo.txt")})}}]},
            {"role": "tool", "content": "water the plants", "tool_call_id": call_id}]
        assert len(fake.requests) == 6
        detail = svc.node_detail(s.id, "n.1")
        record = next(c for c in detail.llm_calls if c.model == "tool:fs.read_text_file")
        assert record.raw_output == "water the plants" and record.error is None and record.step == "do.on_result"
        assert any(j.text.startswith("Called fs.read_text_file: returned a result of 16 bytes")
                   for j in detail.journal)
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()
        await fake.stop()


async def test_an_ask_policy_asks_in_the_chat_and_a_denial_goes_back_to_the_model(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    share = tmp_path / "share"
    share.mkdir()
    svc = _service(backend, tmp_path, request, _fs(share, {"write_file": "ask"}))
    try:
        for answer in ("yes", "no, not today"):
            target = share / f"{answer[:2]}.md"
            goal = ("Note it " + _segment("fs.write_file", {"path": str(target), "content": "hi"}) + " "
                    + _segment("fs.read_text_file", {"path": str(target)}))
            s = svc.create_swarm("u1", goal)
            svc.spawn(s.id)
            await svc.run_until_idle(s.id, timeout=120)
            chat = svc.waiting_chats(s.id)[0]
            assert chat.node_id == "n.1"
            question = svc.messages(s.id, chat.id)[-1].content
            assert "May I call `fs.write_file`" in question and '"content": "hi"' in question
            assert not target.exists()  # nothing runs before the person answers
            svc.post_reply(s.id, chat.id, answer)
            assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
            node = svc.state(s.id).nodes["n.1"]
            assert node.lifecycle is Lifecycle.DONE
            assert svc.state(s.id).chats[chat.id].status is ChatStatus.CLOSED
            if answer == "yes":
                assert target.read_text() == "hi"
                assert "Successfully wrote" in (node.report or "") and (node.report or "").endswith("\n\nhi")
            else:
                assert not target.exists()
                assert "The person denied this call of fs.write_file: not today" in (node.report or "")
                assert "error: " in (node.report or "")  # and the read found nothing
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()


async def test_a_long_result_is_saved_in_the_memory_space(backend: str, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    share = tmp_path / "share"
    share.mkdir()
    big = "".join(f"line {i:05d} of the long file\n" for i in range(1000))  # 28 KB
    (share / "big.txt").write_text(big)
    svc = _service(backend, tmp_path, request, _fs(share))
    try:
        s = svc.create_swarm("u1", "Read it " + _segment("fs.read_text_file", {"path": str(share / "big.txt")}))
        svc.spawn(s.id)
        assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
        state = svc.state(s.id)
        saved = [p for p in state.memory if p.startswith("tool-results/n.1/")]
        assert len(saved) == 1 and saved[0].endswith("-fs.read_text_file.txt")
        assert svc.memory_file(s.id, saved[0])[1] == big.encode()
        node = state.nodes["n.1"]
        assert saved[0] in node.context_up["files"]  # its dependents see the path
        assert f"(The whole result is saved in the memory space as {saved[0]}" in (node.report or "")
        assert "line 00999" not in (node.report or "")  # the model saw the first 16 KB
        record = next(c for c in svc.node_detail(s.id, "n.1").llm_calls if c.model == "tool:fs.read_text_file")
        assert record.raw_output == big  # the developer log has it whole (its body in the blob store)
        assert any(e.type is EventType.TOOL_CALL and e.data["bytes"] == len(big)
                   for e in svc.history(s.id).events)
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()
