"""OpenTelemetry tracing: off by default; when on, a swarm run over HTTP is one tree of spans (the request that
spawned it, its operations, their model calls), checked with the SDK's in-memory exporter against a real server
on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aga_swarm import tracing
from aga_swarm.server.app import create_app
from aga_swarm.server.settings import Settings

GOAL = "Ask the user for their favourite colour\nWrite a haiku about it"


def test_tracing_is_off_unless_the_otel_variables_ask_for_it() -> None:
    assert not tracing.wanted({})
    assert not tracing.wanted({"OTEL_SERVICE_NAME": "x"})
    assert tracing.wanted({"OTEL_TRACES_EXPORTER": "console"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert not tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"})
    assert not tracing.wanted({"OTEL_TRACES_EXPORTER": "none"})
    assert not tracing.ON  # nothing in the test environment turned it on


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def traced_server(tmp_path: Path) -> Iterator[tuple[str, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    port = _free_port()
    app = create_app(Settings(data_dir=tmp_path / "data", metrics=False))
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}", exporter
    finally:
        uv.should_exit = True
        thread.join(timeout=20)
        tracing.disable()


async def _wait(http: httpx.AsyncClient, sid: str, want: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if want == "awaiting":
            chats = (await http.get(f"/api/swarms/{sid}/chats")).json()
            waiting = [c for c in chats if c["status"] == "awaiting_user"]
            if waiting:
                return dict(waiting[0])
        else:
            swarm = (await http.get(f"/api/swarms/{sid}")).json()
            if swarm["status"] == want:
                return dict(swarm)
        await asyncio.sleep(0.05)
    raise AssertionError(f"swarm {sid} never reached {want}")


async def test_a_swarm_run_is_one_tree_of_spans_under_the_requests_that_caused_it(
        traced_server: tuple[str, InMemorySpanExporter]) -> None:
    url, exporter = traced_server
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post("/api/auth/signup", json={"username": f"t{uuid.uuid4().hex[:10]}",
                                                        "password": f"pw-{uuid.uuid4().hex}-Secret"})
        assert r.status_code == 201, r.text
        http.headers["Authorization"] = f"Bearer {r.json()['token']}"
        r = await http.post("/api/swarms", json={"goal": GOAL})
        sid = r.json()["id"]
        assert (await http.post(f"/api/swarms/{sid}/spawn")).status_code == 200
        chat = await _wait(http, sid, "awaiting")
        r = await http.post(f"/api/swarms/{sid}/chats/{chat['id']}/messages", json={"content": "Blue, like the sea."})
        assert r.status_code == 202, r.text
        await _wait(http, sid, "completed")
    await asyncio.sleep(0.2)  # the last spans end right after the commit the client saw

    spans = list(exporter.get_finished_spans())
    by_id = {s.context.span_id: s for s in spans}

    def parent(s: ReadableSpan) -> ReadableSpan | None:
        return by_id.get(s.parent.span_id) if s.parent is not None else None

    def root_of(s: ReadableSpan) -> ReadableSpan:
        while (p := parent(s)) is not None:
            s = p
        return s

    http_spans = [s for s in spans if s.attributes and "http.request.method" in s.attributes]
    spawn_req = next(s for s in http_spans if s.name == "POST /api/swarms/{swarm_id}/spawn")
    reply_req = next(s for s in http_spans if s.name == "POST /api/swarms/{swarm_id}/chats/{chat_id}/messages")
    assert spawn_req.attributes is not None and spawn_req.attributes["http.response.status_code"] == 200
    assert spawn_req.parent is None  # no traceparent came with the request: it starts the trace

    ops = [s for s in spans if s.name.startswith("operation ")]
    models = [s for s in spans if s.name.startswith("chat ")]
    assert ops and models
    assert {s.attributes["aga.swarm.id"] for s in ops if s.attributes} == {sid}
    # the root's spawn is the spawn request's child
    root_spawn = next(s for s in ops if s.name == "operation spawn" and s.attributes
                      and s.attributes["aga.node.id"] == "n")
    assert parent(root_spawn) is spawn_req
    # every model call is the child of its llm_call operation, on the same node
    for m in models:
        op = parent(m)
        assert op is not None and op.name == "operation llm_call", m.name
        assert m.attributes is not None and m.attributes["gen_ai.usage.input_tokens"] > 0
    assert len(models) == len([s for s in ops if s.name == "operation llm_call"])
    # every operation descends from one of the two requests: the run is the spawn's trace until the reply, and
    # what the reply resumed is the reply's
    roots = {root_of(s).context.span_id for s in ops + models}
    assert roots <= {spawn_req.context.span_id, reply_req.context.span_id}
    assert reply_req.context.span_id in roots and spawn_req.context.span_id in roots
    for s in ops + models:
        assert s.context.trace_id == root_of(s).context.trace_id
    # an operation's parent is the request or operation that queued it, never a later one
    for s in ops:
        p = parent(s)
        assert p is not None and p.start_time is not None and s.start_time is not None
        assert p.start_time <= s.start_time
