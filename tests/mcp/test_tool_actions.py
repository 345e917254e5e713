"""MCP tools as actions, end to end on the engine (SQLite and PostgreSQL): the operator's servers are folders of
the action space, the scripted model's ``Tool: <server>.<tool> <JSON>`` lines route to them, each call is an
operation whose result commits before the next step; a call in flight at a crash is repeated only when the tool
is idempotent, otherwise the node asks the person; a dead server fails the node with the reason."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from aga_swarm.actions import register_builtins
from aga_swarm.mcp.config import McpConfig
from aga_swarm.mcp.hub import McpHub, McpResult
from aga_swarm.schemas import ChatStatus, Lifecycle, OperationStatus, SwarmStatus
from aga_swarm.sdk import Registry
from aga_swarm.service import SwarmService

from ..conftest import make_service
from ..engine.helpers import run_answering

FILESYSTEM = Path(__file__).parent / "node_modules" / ".bin" / "mcp-server-filesystem"


def _config(share: Path, **extra: Any) -> McpConfig:
    """The filesystem server on ``share``; every call approved in advance unless ``policy`` says otherwise."""
    return McpConfig.model_validate({"mcpServers": {
        "fs": {"command": str(FILESYSTEM), "args": [str(share)], "timeout": 60, "policy": {"*": "auto"}, **extra},
        "gone": {"command": "/nonexistent/mcp-server"}}})


def _service(backend: str, tmp_path: Path, request: pytest.FixtureRequest, cfg: McpConfig) -> SwarmService:
    return make_service(backend, tmp_path, request, registry=register_builtins(Registry()), mcp_config=cfg)


def _line(tool: str, args: dict[str, Any], after: str = "") -> str:
    return f"Tool: {tool} {json.dumps(args)}{after}"


async def test_a_swarm_lists_reads_and_writes_files_through_the_filesystem_server(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "todo.txt").write_text("water the plants")
    svc = _service(backend, tmp_path, request, _config(share))
    try:
        folder = next(f for f in svc.engine.registry.space.root.folders if f.id == "fs")
        assert {"fs.read_text_file", "fs.write_file", "fs.list_directory"} <= {a.id for a in folder.actions}
        assert not any(f.id == "gone" for f in svc.engine.registry.space.root.folders)  # could not be listed
        goal = "\n".join([
            _line("fs.write_file", {"path": str(share / "plan.md"), "content": "1. buy soil"}),
            _line("fs.read_text_file", {"path": str(share / "plan.md")}, " (after 1)"),
            _line("fs.list_directory", {"path": str(share)}, " (after 1)"),
            _line("fs.read_text_file", {"path": str(tmp_path / "outside.txt")}),
        ])
        s = svc.create_swarm("u1", goal)
        svc.spawn(s.id)
        await run_answering(svc, s.id)
        nodes = svc.state(s.id).nodes
        assert (share / "plan.md").read_text() == "1. buy soil"
        assert nodes["n.1"].action_id == "fs.write_file" and "Successfully wrote" in (nodes["n.1"].report or "")
        assert nodes["n.2"].report == "1. buy soil"
        assert "[FILE] plan.md" in (nodes["n.3"].report or "") and "[FILE] todo.txt" in (nodes["n.3"].report or "")
        assert nodes["n.4"].lifecycle is Lifecycle.FAILED
        assert "fs.read_text_file returned an error: Access denied" in (nodes["n.4"].failure_reason or "")
        journal = [j.text for j in svc.node_detail(s.id, "n.2").journal]
        assert any(t.startswith("Calling fs.read_text_file(path=") for t in journal)
        assert any(t.startswith("Called fs.read_text_file: returned a result of 11 bytes") for t in journal)
        assert svc.engine.mcp_hub().starts == {"fs": 1}  # started on first use, reused by every call
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()


async def _crash_in_flight(svc: SwarmService, goal: str) -> tuple[SwarmService, str]:
    """Run until the tool call is under way, then stop the worker in the middle of it (its task is cancelled
    mid-call, as a killed process stops: nothing after the call commits)."""
    calls: list[str] = []
    in_call = asyncio.Event()
    real = McpHub.call
    hung: list[asyncio.Task[Any]] = []

    async def hanging(self: McpHub, server: str, tool: str, arguments: dict[str, Any]) -> McpResult:
        calls.append(tool)
        hung.append(asyncio.current_task())  # type: ignore[arg-type]
        in_call.set()
        await asyncio.Event().wait()  # never returns: the worker dies here
        raise AssertionError("unreachable")

    McpHub.call = hanging  # type: ignore[method-assign]
    try:
        s = svc.create_swarm("u1", goal)
        svc.spawn(s.id)
        worker = asyncio.create_task(svc.run_until_idle(s.id, timeout=120))
        waiter = asyncio.create_task(in_call.wait())
        await asyncio.wait({worker, waiter}, return_when=asyncio.FIRST_COMPLETED)
        assert in_call.is_set(), "the tool call never started"
        for task in (worker, *hung):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        McpHub.call = real  # type: ignore[method-assign]
    assert calls == [calls[0]]
    node = svc.state(s.id).nodes["n.1"]
    assert node.continuation is not None and node.continuation.request["started"] is True
    from sqlalchemy import select

    from aga_swarm.store import tables as t

    with svc.db.read() as conn:
        statuses = [r.status for r in conn.execute(select(t.operations.c.status).where(
            t.operations.c.swarm_id == s.id, t.operations.c.kind == "tool_call"))]
    assert statuses == [OperationStatus.RUNNING.value]  # left running, as a dead worker leaves it
    return SwarmService(svc.engine), s.id  # a new worker on the same store (its own runner)


async def test_an_idempotent_call_in_flight_at_a_crash_is_made_again(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text("alpha")
    svc = _service(backend, tmp_path, request, _config(share, idempotent=["read_text_file"]))
    try:
        assert svc.engine.registry.tools["fs.read_text_file"].idempotent  # the operator's word (no hint given)
        assert svc.engine.registry.tools["fs.write_file"].idempotent  # the server's idempotentHint
        assert not svc.engine.registry.tools["fs.move_file"].idempotent
        svc, sid = await _crash_in_flight(svc, _line("fs.read_text_file", {"path": str(share / "a.txt")}))
        assert svc.recover() >= 1  # a new worker starts: the running operation is queued again
        assert await run_answering(svc, sid) is SwarmStatus.COMPLETED
        node = svc.state(sid).nodes["n.1"]
        assert node.report == "alpha" and svc.waiting_chats(sid) == []
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()


async def test_a_non_idempotent_call_in_flight_asks_the_person(backend: str, tmp_path: Path,
                                                                request: pytest.FixtureRequest) -> None:
    share = tmp_path / "share"
    share.mkdir()
    svc = _service(backend, tmp_path, request, _config(share))
    try:
        for answer in ("yes", "no"):
            source, target = share / f"{answer}.md", share / f"{answer}-moved.md"
            source.write_text(answer)
            svc, sid = await _crash_in_flight(svc, _line("fs.move_file", {"source": str(source),
                                                                     "destination": str(target)}))
            svc.recover()
            await svc.run_until_idle(sid, timeout=60)
            chat = svc.waiting_chats(sid)[0]
            assert chat.node_id == "n.1"
            question = svc.messages(sid, chat.id)[-1].content
            assert "`fs.move_file`" in question and "Should I run it again?" in question
            assert not target.exists()  # nothing was run again without the person
            svc.post_reply(sid, chat.id, answer)
            if answer == "no":  # the reply's transaction ends the node, and nothing was moved
                node = svc.state(sid).nodes["n.1"]
                assert node.lifecycle is Lifecycle.FAILED and not target.exists() and source.exists()
                assert node.failure_reason == ("fs.move_file was interrupted and the person chose not to run it "
                                               "again")
            else:
                await svc.run_until_idle(sid, timeout=60)
                node = svc.state(sid).nodes["n.1"]
                assert node.lifecycle is Lifecycle.DONE and target.read_text() == "yes" and not source.exists()
            assert svc.state(sid).chats[chat.id].status is ChatStatus.CLOSED
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()


async def test_a_dead_server_fails_the_node_with_the_reason(backend: str, tmp_path: Path,
                                                            request: pytest.FixtureRequest) -> None:
    share = tmp_path / "share"
    share.mkdir()
    svc = _service(backend, tmp_path, request, _config(share))
    try:
        # the server was listed at start, then its command disappears (uninstalled, crashed for good)
        svc.engine.mcp_config.servers["fs"].command = "/nonexistent/mcp-server"
        s = svc.create_swarm("u1", _line("fs.list_directory", {"path": str(share)}))
        svc.spawn(s.id)
        await run_answering(svc, s.id)
        node = svc.state(s.id).nodes["n.1"]
        assert node.lifecycle is Lifecycle.FAILED
        assert (node.failure_reason or "").startswith("MCP server 'fs' is not available")
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()


def test_the_cli_takes_the_operators_config(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    share = tmp_path / "share"
    share.mkdir()
    (share / "note.txt").write_text("from the share")
    cfg = tmp_path / "mcp.yaml"
    cfg.write_text(f"mcpServers:\n  fs: {{command: '{FILESYSTEM}', args: ['{share}']}}\n")
    aga = Path(sys.executable).parent / "aga-swarm"
    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path / "data")}
    env.pop("AGA_SWARM_MCP_CONFIG", None)
    res = subprocess.run([str(aga), "run", "--mcp-config", str(cfg), "--no-tree",
                          _line("fs.read_text_file", {"path": str(share / "note.txt")})],
                         capture_output=True, text=True, timeout=180, env=env)
    assert res.returncode == 0, res.stderr
    assert "from the share" in res.stdout
    (tmp_path / "bad.json").write_text('{"mcpServers": {"fs": {"command": "x", "url": "http://h"}}}')
    res = subprocess.run([str(aga), "run", "--mcp-config", str(tmp_path / "bad.json"), "Write a poem"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 1 and res.stderr.startswith("error: MCP config ") and "Traceback" not in res.stderr


async def test_approvals_in_the_nodes_chat(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """By default a tool without readOnlyHint asks the person first; a read-only one runs. Deny, approve after a
    restart while the question waits, and the operator's deny."""
    share = tmp_path / "share"
    share.mkdir()
    svc = _service(backend, tmp_path, request, _config(share, policy={"move_file": "deny"}))
    try:
        tools = svc.engine.registry.tools
        assert (tools["fs.write_file"].policy, tools["fs.read_text_file"].policy) == ("ask", "auto")
        assert tools["fs.move_file"].policy == "deny"
        goal = "\n".join([_line("fs.write_file", {"path": str(share / "a.md"), "content": "A"}),
                          _line("fs.write_file", {"path": str(share / "b.md"), "content": "B"}),
                          _line("fs.move_file", {"source": str(share / "x"), "destination": str(share / "y")}),
                          _line("fs.list_allowed_directories", {})])
        s = svc.create_swarm("u1", goal)
        svc.spawn(s.id)
        await svc.run_until_idle(s.id, timeout=120)
        waiting = {c.node_id: c for c in svc.waiting_chats(s.id)}
        assert set(waiting) == {"n.1", "n.2"}  # the two writes wait for the person; nothing was written
        question = svc.messages(s.id, waiting["n.1"].id)[-1].content
        assert "May I call `fs.write_file`" in question and '"content": "A"' in question
        assert not (share / "a.md").exists() and not (share / "b.md").exists()
        nodes = svc.state(s.id).nodes
        assert nodes["n.3"].failure_reason == "fs.move_file is not allowed (the operator's policy denies it)"
        assert str(share) in (nodes["n.4"].report or "")  # read-only: ran without asking
        svc.post_reply(s.id, waiting["n.1"].id, "no, not that file")
        restarted = SwarmService(svc.engine)  # the question survives a restart: nothing was waiting on it
        restarted.recover()
        restarted.post_reply(s.id, waiting["n.2"].id, "yes")
        await restarted.run_until_idle(s.id, timeout=120)
        nodes = restarted.state(s.id).nodes
        assert nodes["n.1"].report == "The person denied the call of fs.write_file: not that file"
        assert nodes["n.1"].context_up["denied"] is True and not (share / "a.md").exists()
        assert (share / "b.md").read_text() == "B" and "Successfully wrote" in (nodes["n.2"].report or "")
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()


async def test_a_config_picks_among_the_operators_servers(backend: str, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    """A config with ``mcp_servers: []`` hides the servers' folders: the Tool line finds nothing to route to,
    and the node asks the person instead of calling the tool."""
    from aga_swarm.schemas import SwarmConfig

    share = tmp_path / "share"
    share.mkdir()
    svc = _service(backend, tmp_path, request, _config(share))
    try:
        reg = svc.engine.registry
        assert "fs" in {f.id for f in reg.space_for(None).root.folders}
        assert "fs" not in {f.id for f in reg.space_for(None, []).root.folders}
        assert "memory" in {f.id for f in reg.space_for(None, []).root.folders}  # built-in tools stay
        assert "fs" in {f.id for f in reg.space_for(None, ["fs"]).root.folders}
        svc.save_config(SwarmConfig(id="no-tools", name="no MCP tools", mcp_servers=[]), owner_id="u1")
        s = svc.create_swarm("u1", _line("fs.write_file", {"path": str(share / "x.md"), "content": "x"}),
                             config_id="no-tools")
        svc.spawn(s.id)
        await svc.run_until_idle(s.id, timeout=120)
        node = svc.state(s.id).nodes["n.1"]
        assert node.action_id == "route" and node.lifecycle is Lifecycle.WAITING_USER
        assert not (share / "x.md").exists()
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()
