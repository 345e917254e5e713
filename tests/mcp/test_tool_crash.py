"""Crash semantics of tool calls made by ``do``'s tool-using loop, with a separate worker process
(``tool_worker.py``) SIGKILLed on SQLite and PostgreSQL. The tools are served over streamable HTTP by an MCP
server built with the SDK in this process, which counts every call it receives and kills the worker in the
middle of a call:

- a call in flight at the crash is made again by the next worker only when the tool is idempotent (MCP's
  ``idempotentHint``); otherwise the node asks the person in its chat, and yes runs it again while no tells the
  model it was not;
- a call whose result committed is never made again, even when the worker dies right after that commit.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aga_swarm.mcp.config import McpConfig
from aga_swarm.schemas import ChatStatus, Lifecycle, SwarmStatus
from aga_swarm.service import SwarmService

from ..conftest import make_service
from ..engine.helpers import run_answering

WORKER = Path(__file__).with_name("tool_worker.py")


class Counter:
    """The server's side: calls received per tool, and which tool's first call kills the worker (by pid)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.kill_pid: int | None = None
        self.kill_on: str | None = None
        self.lock = threading.Lock()

    def hit(self, tool: str, args: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append((tool, args))
            if self.kill_on == tool and self.kill_pid is not None:
                pid, self.kill_pid = self.kill_pid, None
                os.kill(pid, signal.SIGKILL)  # the worker dies while it waits for this very call

    def count(self, tool: str) -> int:
        return sum(1 for t, _ in self.calls if t == tool)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Counter]]:
    import uvicorn
    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations

    counter = Counter()
    mcp = MCPServer("crash-tools")

    @mcp.tool()
    def charge(amount: int) -> str:
        """Charge the card (not idempotent)."""
        counter.hit("charge", {"amount": amount})
        return f"charged {amount}"

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
    def lookup(key: str) -> str:
        """Look a key up (idempotent)."""
        counter.hit("lookup", {"key": key})
        return f"{key} is 42"

    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(mcp.streamable_http_app(), host="127.0.0.1", port=port, log_level="warning",
                                       lifespan="on"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "the in-process MCP server did not start"
    yield f"http://127.0.0.1:{port}/mcp", counter
    uv.should_exit = True
    thread.join(timeout=10)


def _goal(tool: str, args: dict[str, Any]) -> str:
    return f"Do it Tool: t.{tool} {json.dumps(args)}"


class Crash:
    """A store shared by this process (``svc``, which recovers) and worker processes."""

    def __init__(self, svc: SwarmService, env: dict[str, str], counter: Counter) -> None:
        self.svc, self.env, self.counter = svc, env, counter

    def worker(self, *, kill_on: str | None = None, after_result: bool = False) -> int:
        args = [sys.executable, str(WORKER), *(["--kill-after-result"] if after_result else [])]
        proc = subprocess.Popen(args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with self.counter.lock:
            self.counter.kill_pid, self.counter.kill_on = (proc.pid, kill_on) if kill_on else (None, None)
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
        self.svc.engine.executor.forget_rows()
        return proc.returncode

    def start(self, goal: str) -> str:
        s = self.svc.create_swarm("u1", goal)
        self.svc.spawn(s.id)
        return s.id

    async def recover(self, swarm_id: str) -> None:
        assert self.svc.recover() >= 1  # the dead worker's operation is queued again
        await self.svc.run_until_idle(swarm_id, timeout=120)


@pytest.fixture
def crash(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
          server: tuple[str, Counter]) -> Iterator[Crash]:
    url, counter = server
    counter.calls.clear()
    config_file = tmp_path / "mcp.json"
    config_file.write_text(json.dumps({"mcpServers": {"t": {"url": url, "timeout": 60, "policy": {"*": "auto"}}}}))
    from aga_swarm.actions import register_builtins
    from aga_swarm.sdk import Registry

    svc = make_service(backend, tmp_path, request, registry=register_builtins(Registry()),
                       mcp_config=McpConfig.model_validate(json.loads(config_file.read_text())))
    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path), "AGA_SWARM_MCP_CONFIG": str(config_file)}
    if not svc.db.is_sqlite:
        env.update(AGA_SWARM_DB_URL=svc.db.url, AGA_SWARM_BLOB_URL=str(tmp_path / "blobs"))
    try:
        yield Crash(svc, env, counter)
    finally:
        svc.close()  # each test closes the hub's connections on its own event loop


async def test_an_idempotent_call_in_flight_at_a_sigkill_is_made_again(crash: Crash) -> None:
    sid = crash.start(_goal("lookup", {"key": "answer"}))
    crash.worker(kill_on="lookup")
    node = crash.svc.state(sid).nodes["n.1"]
    assert node.continuation is not None and node.continuation.request["started"] is True
    assert crash.counter.count("lookup") == 1
    try:
        await crash.recover(sid)
        assert await run_answering(crash.svc, sid) is SwarmStatus.COMPLETED
    finally:
        await crash.svc.engine.mcp_hub().close()
    assert crash.counter.count("lookup") == 2  # made again without asking anyone
    node = crash.svc.state(sid).nodes["n.1"]
    assert node.lifecycle is Lifecycle.DONE and "answer is 42" in (node.report or "")
    assert crash.svc.messages(sid, "chat-n.1") == []


async def test_a_non_idempotent_call_in_flight_at_a_sigkill_asks_the_person(crash: Crash) -> None:
    try:
        for answer in ("yes", "no"):
            before = crash.counter.count("charge")
            sid = crash.start(_goal("charge", {"amount": 5}))
            crash.worker(kill_on="charge")
            assert crash.counter.count("charge") == before + 1
            await crash.recover(sid)
            chat = crash.svc.waiting_chats(sid)[0]
            assert chat.node_id == "n.1"
            question = crash.svc.messages(sid, chat.id)[-1].content
            assert "`t.charge`" in question and "Should I run it again?" in question
            assert crash.counter.count("charge") == before + 1  # nothing made again without the person
            crash.svc.post_reply(sid, chat.id, answer)
            assert await run_answering(crash.svc, sid) is SwarmStatus.COMPLETED
            node = crash.svc.state(sid).nodes["n.1"]
            assert node.lifecycle is Lifecycle.DONE
            assert crash.svc.state(sid).chats[chat.id].status is ChatStatus.CLOSED
            if answer == "yes":
                assert crash.counter.count("charge") == before + 2
                assert "charged 5" in (node.report or "")
            else:
                assert crash.counter.count("charge") == before + 1
                assert "error: t.charge was interrupted and the person chose not to run it again" in (node.report or "")
    finally:
        await crash.svc.engine.mcp_hub().close()


async def test_a_call_whose_result_committed_is_never_made_again(crash: Crash) -> None:
    sid = crash.start(_goal("charge", {"amount": 7}) + " " + _goal("lookup", {"key": "k"}).removeprefix("Do it "))
    crash.worker(after_result=True)  # dies right after the commit that records charge's result
    assert crash.counter.count("charge") == 1 and crash.counter.count("lookup") == 0
    try:
        await crash.recover(sid)
        assert await run_answering(crash.svc, sid) is SwarmStatus.COMPLETED
    finally:
        await crash.svc.engine.mcp_hub().close()
    assert crash.counter.count("charge") == 1 and crash.counter.count("lookup") == 1
    node = crash.svc.state(sid).nodes["n.1"]
    assert "charged 7" in (node.report or "") and "k is 42" in (node.report or "")
    assert crash.svc.waiting_chats(sid) == []
