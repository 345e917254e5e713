"""The MCP client hub: one connection per operator-declared server, started on first use and reused by every
swarm of the process; each call bounded by the server's timeout; a dead or hung server is a clear per-call
failure (``McpCallError``), never a stall, and the next call starts it again.

A connection is held open by a task of its own (the SDK's transports are context managers that must be
entered and left in one task); calls are made from the callers' tasks on the live session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import McpConfig, McpServerConfig

log = logging.getLogger("aga_swarm.mcp")


class McpCallError(Exception):
    """A tool call (or listing) failed: unknown server, server down, timeout, or a protocol error."""


@dataclass(frozen=True)
class McpTool:
    server: str
    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool
    idempotent: bool

    @property
    def action_id(self) -> str:
        return f"{self.server}.{self.name}"


@dataclass(frozen=True)
class McpResult:
    text: str
    is_error: bool
    structured: dict[str, Any] | None = None


class _Connection:
    """A live session to one server, owned by its task; ``closed`` is set when the server goes away."""

    def __init__(self, name: str, cfg: McpServerConfig, on_tools_changed: Callable[[], None] | None = None) -> None:
        self.name = name
        self.cfg = cfg
        self.on_tools_changed = on_tools_changed
        self.client: Any = None
        self.ready = asyncio.Event()
        self.closed = asyncio.Event()
        self.stop = asyncio.Event()
        self.error: BaseException | None = None
        self.task: asyncio.Task[None] | None = None
        self.starts = 0

    async def _on_message(self, message: Any) -> None:
        """Server notifications: ``notifications/tools/list_changed`` has the hub list the tools again."""
        from mcp_types import ToolListChangedNotification

        if isinstance(message, ToolListChangedNotification) and self.on_tools_changed is not None:
            self.on_tools_changed()
        await asyncio.sleep(0)

    def _client(self) -> Any:
        from mcp import Client, StdioServerParameters

        if self.cfg.transport == "stdio":
            import os

            params = StdioServerParameters(command=str(self.cfg.command), args=list(self.cfg.args),
                                           env={**os.environ, **self.cfg.resolved_env()}, cwd=self.cfg.cwd)
            from mcp.client.stdio import stdio_client

            # the server's stderr is its own chatter, not our log lines: it goes to a file of its own
            errlog = _server_errlog(self.name)
            return Client(stdio_client(params, errlog=errlog), mode="legacy", message_handler=self._on_message)
        headers = self.cfg.resolved_headers()
        if not headers:
            return Client(str(self.cfg.url), mode="legacy", message_handler=self._on_message)
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        return Client(streamable_http_client(str(self.cfg.url), http_client=httpx2.AsyncClient(headers=headers)),
                      mode="legacy", message_handler=self._on_message)

    async def run(self) -> None:
        try:
            async with self._client() as client:
                self.client = client
                self.ready.set()
                await self.stop.wait()
        except BaseException as exc:  # the server died or never started: record why, wake the waiters
            self.error = exc
            if not self.stop.is_set():  # one that never started is the caller's McpCallError, said once there
                (log.warning if self.ready.is_set() else log.debug)(
                    "MCP server %s %s: %s", self.name, "stopped" if self.ready.is_set() else "did not start",
                    _describe(exc))
        finally:
            self.client = None
            self.closed.set()
            self.ready.set()


class McpHub:
    """Connections to the operator's servers, by name. Use from one event loop (the runner's)."""

    def __init__(self, config: McpConfig) -> None:
        self.config = config
        self._connections: dict[str, _Connection] = {}
        self._lock = asyncio.Lock()
        self.starts: dict[str, int] = {}  # how many times each server was started (reuse is visible)
        self.relisted: dict[str, int] = {}  # how many times each server's tools were listed again on its notice
        # called with a server's new tool list after it reported a change (the engine updates the action space)
        self.on_tools_changed: Callable[[str, list[McpTool]], None] | None = None
        self._relisting: set[asyncio.Task[None]] = set()

    @property
    def servers(self) -> list[str]:
        return sorted(self.config.servers)

    def _server(self, name: str) -> McpServerConfig:
        cfg = self.config.servers.get(name)
        if cfg is None:
            raise McpCallError(f"no MCP server {name!r} is configured")
        return cfg

    async def _connection(self, name: str) -> _Connection:
        cfg = self._server(name)
        async with self._lock:
            conn = self._connections.get(name)
            if conn is None or conn.closed.is_set():
                conn = _Connection(name, cfg, lambda: self._tools_changed(name))
                self._connections[name] = conn
                self.starts[name] = self.starts.get(name, 0) + 1
                conn.task = asyncio.get_running_loop().create_task(conn.run(), name=f"mcp:{name}")
        try:
            await asyncio.wait_for(conn.ready.wait(), timeout=cfg.start_timeout)
        except TimeoutError:
            await self._drop(name, conn)
            raise McpCallError(f"MCP server {name!r} did not start within {cfg.start_timeout:g} s") from None
        if conn.client is None:
            raise McpCallError(f"MCP server {name!r} is not available: {_describe(conn.error)}")
        return conn

    def _tools_changed(self, server: str) -> None:
        task = asyncio.get_running_loop().create_task(self._relist(server), name=f"mcp-relist:{server}")
        self._relisting.add(task)
        task.add_done_callback(self._relisting.discard)

    async def _relist(self, server: str) -> None:
        try:
            tools = await self.list_tools(server)
        except McpCallError as exc:
            log.warning("MCP server %s reported new tools but could not list them: %s", server, exc)
            return
        self.relisted[server] = self.relisted.get(server, 0) + 1
        if self.on_tools_changed is not None:
            self.on_tools_changed(server, tools)
        log.info("MCP server %s: tools listed again (%d)", server, len(tools))

    async def _drop(self, name: str, conn: _Connection) -> None:
        """Stop a connection (hung or broken): the next call starts the server again."""
        conn.stop.set()
        if conn.task is not None and not conn.task.done():
            conn.task.cancel()
            with contextlib.suppress(BaseException):
                await conn.task
        if self._connections.get(name) is conn:
            del self._connections[name]

    async def list_tools(self, server: str) -> list[McpTool]:
        cfg = self._server(server)
        conn = await self._connection(server)
        try:
            listed = await asyncio.wait_for(conn.client.list_tools(), timeout=cfg.timeout)
        except TimeoutError:
            await self._drop(server, conn)
            raise McpCallError(f"MCP server {server!r} did not list its tools within {cfg.timeout:g} s") from None
        except Exception as exc:
            await self._drop(server, conn)
            raise McpCallError(f"MCP server {server!r} could not list its tools: {_describe(exc)}") from None
        out: list[McpTool] = []
        for t in listed.tools:
            ann = getattr(t, "annotations", None)
            read_only = bool(getattr(ann, "read_only_hint", False) or getattr(ann, "readOnlyHint", False))
            idem_hint = bool(getattr(ann, "idempotent_hint", False) or getattr(ann, "idempotentHint", False))
            schema = getattr(t, "input_schema", None) or getattr(t, "inputSchema", None) or {}
            out.append(McpTool(server=server, name=t.name, description=t.description or "",
                               input_schema=dict(schema), read_only=read_only,
                               idempotent=idem_hint or t.name in cfg.idempotent))
        return out

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> McpResult:
        """Call a tool; its text content joined. A tool's own error comes back with ``is_error``; the server
        failing, hanging past its timeout, or refusing the call raises McpCallError."""
        cfg = self._server(server)
        conn = await self._connection(server)
        try:
            result = await asyncio.wait_for(conn.client.call_tool(tool, arguments), timeout=cfg.timeout)
        except TimeoutError:
            await self._drop(server, conn)  # a hung server is restarted on the next call
            raise McpCallError(f"{server}.{tool} timed out after {cfg.timeout:g} s") from None
        except Exception as exc:
            if conn.closed.is_set() or _connection_closed(exc):
                await self._drop(server, conn)
                raise McpCallError(f"MCP server {server!r} went away during {tool}: "
                                   f"{_describe(conn.error or exc)}") from None
            raise McpCallError(f"{server}.{tool} failed: {_describe(exc)}") from None
        texts = [str(getattr(c, "text", "")) for c in result.content if getattr(c, "type", "") == "text"]
        structured = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
        return McpResult(text="\n".join(texts), is_error=bool(getattr(result, "is_error", False)
                                                               or getattr(result, "isError", False)),
                         structured=structured if isinstance(structured, dict) else None)

    async def close(self) -> None:
        for name, conn in list(self._connections.items()):
            await self._drop(name, conn)


def _connection_closed(exc: BaseException) -> bool:
    """The SDK's sign that the transport is gone (the server process died, the HTTP session ended)."""
    from mcp_types.jsonrpc import CONNECTION_CLOSED

    return getattr(exc, "code", None) == CONNECTION_CLOSED or isinstance(exc, (EOFError, BrokenPipeError))


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "it closed the connection"
    if isinstance(exc, BaseExceptionGroup):
        inner = exc.exceptions[0] if exc.exceptions else None
        return _describe(inner) if inner is not None else type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def list_all_tools(config: McpConfig) -> dict[str, list[McpTool]]:
    """Every server's tools, listed once at startup on a loop of its own (a thread), with servers that cannot
    be listed left out (logged): the runtime hub starts its own connections lazily, on the runner's loop."""
    import threading

    found: dict[str, list[McpTool]] = {}

    async def main() -> None:
        hub = McpHub(config)
        try:
            for name in hub.servers:
                try:
                    found[name] = await hub.list_tools(name)
                except McpCallError as exc:
                    log.warning("MCP server %s left out of the action space: %s", name, exc)
        finally:
            await hub.close()

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="mcp-list", daemon=True)
    thread.start()
    thread.join()
    return found


def _server_errlog(name: str) -> Any:
    """Where a stdio server's stderr goes: ``$TMPDIR/aga-swarm-mcp-<name>.log`` (appended), so its messages
    never mix with the process's structured log lines."""
    import os
    import re
    import tempfile

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return open(os.path.join(tempfile.gettempdir(), f"aga-swarm-mcp-{safe}.log"), "a")
