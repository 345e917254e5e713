"""The MCP client hub against real servers nobody here wrote (@modelcontextprotocol/server-filesystem and
server-everything from npm, pinned in tests/mcp/package-lock.json, started over stdio) and a streamable-HTTP
server built with the mcp SDK in this process: lazy start, reuse, per-call timeouts, dead and hung servers,
confinement of the filesystem server, and the operator's config file."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from aga_swarm.mcp.config import McpConfig, McpConfigError, load_mcp_config
from aga_swarm.mcp.hub import McpCallError, McpHub

BIN = Path(__file__).parent / "node_modules" / ".bin"
FILESYSTEM = BIN / "mcp-server-filesystem"
EVERYTHING = BIN / "mcp-server-everything"


def _hub(servers: dict[str, Any]) -> McpHub:
    return McpHub(McpConfig.model_validate({"mcpServers": servers}))


def test_the_npm_servers_are_installed() -> None:
    """make test installs them (npm ci in tests/mcp); without them the suite must fail, not skip."""
    assert FILESYSTEM.exists() and EVERYTHING.exists(), "run `npm ci` in tests/mcp (make test does)"


async def test_filesystem_server_lists_reads_writes_and_stays_in_its_folder(tmp_path: Path) -> None:
    share, outside = tmp_path / "share", tmp_path / "secret.txt"
    share.mkdir()
    outside.write_text("not yours")
    hub = _hub({"fs": {"command": str(FILESYSTEM), "args": [str(share)], "timeout": 60}})
    try:
        assert hub.starts == {}  # nothing starts before it is used
        tools = {t.name: t for t in await hub.list_tools("fs")}
        assert {"read_text_file", "write_file", "list_directory"} <= set(tools)
        assert tools["read_text_file"].read_only and not tools["write_file"].read_only
        assert tools["write_file"].action_id == "fs.write_file" and tools["write_file"].input_schema["type"] == "object"
        wrote = await hub.call("fs", "write_file", {"path": str(share / "plan.md"), "content": "step one"})
        assert not wrote.is_error and (share / "plan.md").read_text() == "step one"
        read = await hub.call("fs", "read_text_file", {"path": str(share / "plan.md")})
        assert read.text == "step one" and not read.is_error
        listing = await hub.call("fs", "list_directory", {"path": str(share)})
        assert "[FILE] plan.md" in listing.text
        denied = await hub.call("fs", "read_text_file", {"path": str(outside)})
        assert denied.is_error and "not yours" not in denied.text and "outside allowed directories" in denied.text
        assert hub.starts == {"fs": 1}  # one process served every call
    finally:
        await hub.close()


async def test_a_hung_call_times_out_and_a_killed_server_is_started_again() -> None:
    hub = _hub({"every": {"command": str(EVERYTHING), "args": ["stdio"], "timeout": 2}})
    try:
        echoed = await hub.call("every", "echo", {"message": "hi there"})
        assert "hi there" in echoed.text
        with pytest.raises(McpCallError, match=r"every.trigger-long-running-operation timed out after 2 s"):
            await hub.call("every", "trigger-long-running-operation", {"duration": 30, "steps": 3})
        assert "again" in (await hub.call("every", "echo", {"message": "again"})).text  # restarted
        assert hub.starts == {"every": 2}
        for child in psutil.Process().children(recursive=True):  # the server dies between calls
            if "everything" in " ".join(child.cmdline()):
                child.kill()
        outcome: list[str] = []
        for _ in range(2):  # the first call may still find the dead session; the next one starts it again
            try:
                outcome.append((await hub.call("every", "echo", {"message": "back"})).text)
                break
            except McpCallError as exc:
                outcome.append(f"error: {exc}")
        assert "back" in outcome[-1], outcome
        assert hub.starts["every"] >= 3
    finally:
        await hub.close()


async def test_a_server_that_cannot_start_is_a_clear_error_and_unknown_names_are_refused() -> None:
    hub = _hub({"broken": {"command": sys.executable, "args": ["-c", "import sys; sys.exit(3)"], "timeout": 20}})
    try:
        with pytest.raises(McpCallError, match="MCP server 'broken' is not available"):
            await hub.call("broken", "anything", {})
        with pytest.raises(McpCallError, match="no MCP server 'nope' is configured"):
            await hub.call("nope", "x", {})
    finally:
        await hub.close()


# ---- a streamable-HTTP server built with the SDK, in this process ----------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def http_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    import uvicorn
    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations

    seen: list[dict[str, str]] = []
    server = MCPServer("test-tools")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
    def add(a: int, b: int) -> str:
        """Add two numbers."""
        return str(a + b)

    @server.tool()
    async def slow(seconds: float) -> str:
        """Sleep, then answer."""
        await asyncio.sleep(seconds)
        return "woke"

    app = server.streamable_http_app()

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await app(scope, receive, send)

    port = _free_port()
    config = uvicorn.Config(recording, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "the in-process MCP server did not start"
    yield f"http://127.0.0.1:{port}/mcp", seen
    uv.should_exit = True
    thread.join(timeout=10)


async def test_streamable_http_server_with_headers_timeout_and_annotations(
        http_server: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    url, seen = http_server
    monkeypatch.setenv("TEST_MCP_TOKEN", "tok-123")
    hub = _hub({"web": {"url": url, "headers": {"X-Api-Key": "${TEST_MCP_TOKEN}"}, "timeout": 1,
                        "idempotent": ["slow"]}})
    try:
        tools = {t.name: t for t in await hub.list_tools("web")}
        assert tools["add"].read_only and tools["add"].idempotent  # from the tool's annotations
        assert tools["slow"].idempotent and not tools["slow"].read_only  # from the operator's config
        assert (await hub.call("web", "add", {"a": 2, "b": 40})).text == "42"
        with pytest.raises(McpCallError, match="timed out after 1 s"):
            await hub.call("web", "slow", {"seconds": 10})
        assert (await hub.call("web", "slow", {"seconds": 0})).text == "woke"
        assert any(h.get("x-api-key") == "tok-123" for h in seen)
    finally:
        await hub.close()


def test_config_files_json_and_yaml_and_their_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = {"mcpServers": {"fs": {"command": "npx", "args": ["x"], "env": {"K": "${HOME_X}"}},
                           "docs": {"url": "https://example.org/mcp", "timeout": 5, "policy": {"*": "ask"}}}}
    (tmp_path / "m.json").write_text(json.dumps(good))
    (tmp_path / "m.yaml").write_text("mcpServers:\n  fs: {command: npx, args: [x], env: {K: '${HOME_X}'}}\n"
                                     "  docs: {url: 'https://example.org/mcp', timeout: 5, policy: {'*': ask}}\n")
    for name in ("m.json", "m.yaml"):
        cfg = load_mcp_config(tmp_path / name)
        assert cfg.servers["fs"].transport == "stdio" and cfg.servers["docs"].transport == "http"
        assert cfg.servers["docs"].timeout == 5 and cfg.servers["docs"].policy == {"*": "ask"}
    with pytest.raises(McpConfigError, match="HOME_X is not set"):
        load_mcp_config(tmp_path / "m.json").servers["fs"].resolved_env()
    monkeypatch.setenv("HOME_X", "v")
    assert load_mcp_config(tmp_path / "m.json").servers["fs"].resolved_env() == {"K": "v"}
    bad = {
        "both.json": {"mcpServers": {"a": {"command": "x", "url": "http://h"}}},
        "none.json": {"mcpServers": {"a": {"args": []}}},
        "name.json": {"mcpServers": {"a b/c": {"command": "x"}}},
        "scheme.json": {"mcpServers": {"a": {"url": "file:///etc/passwd"}}},
        "shape.json": {"servers": {}},
        "extra.json": {"mcpServers": {"a": {"command": "x", "shell": True}}},
    }
    for name, data in bad.items():
        (tmp_path / name).write_text(json.dumps(data))
        with pytest.raises(McpConfigError, match=rf"MCP config .*{name}"):
            load_mcp_config(tmp_path / name)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(McpConfigError, match="not valid JSON"):
        load_mcp_config(tmp_path / "broken.json")
    with pytest.raises(McpConfigError, match="cannot read it"):
        load_mcp_config(tmp_path / "missing.json")


async def test_a_servers_tools_are_listed_again_when_it_reports_a_change(tmp_path: Path) -> None:
    """server-everything registers tools after the handshake and sends notifications/tools/list_changed: the
    engine's hub lists them again and the server's folder of the action space is replaced by the new list."""
    from aga_swarm.actions import register_builtins
    from aga_swarm.sdk import Registry
    from aga_swarm.service.composition import open_engine

    everything = Path(__file__).parent / "node_modules" / ".bin" / "mcp-server-everything"
    config = McpConfig.model_validate({"mcpServers": {"ev": {"command": str(everything), "args": ["stdio"]}}})
    engine = open_engine(data_dir=tmp_path, registry=register_builtins(Registry()), mcp_config=config)
    try:
        reg = engine.registry
        assert "ev.echo" in reg.tools and "ev.get-sum" in reg.tools
        # as if the list at start were stale: echo missing, a tool the server no longer has present
        del reg.tools["ev.echo"]
        folder = next(f for f in reg.space.root.folders if f.id == "ev")
        folder.actions = [a for a in folder.actions if a.id != "ev.echo"]
        stale = reg.tools["ev.get-sum"]
        reg.tools["ev.retired"] = stale
        hub = engine.mcp_hub()
        result = await hub.call("ev", "get-sum", {"a": 2, "b": 3})  # connects: the server then reports its tools
        assert "5" in result.text
        for _ in range(300):
            if hub.relisted.get("ev"):
                break
            await asyncio.sleep(0.1)
        assert hub.relisted.get("ev", 0) >= 1
        assert "ev.echo" in reg.tools and "ev.echo" in {a.id for a in folder.actions}
        assert "ev.retired" not in reg.tools
        assert reg.tools["ev.get-sum"].remote == ("ev", "get-sum")
    finally:
        await engine.mcp_hub().close()
        engine.dispose()
