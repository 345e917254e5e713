"""A scriptable fake of the OpenAI chat-completions endpoint, for driving the real ``openai`` SDK in tests.

Usage::

    server = FakeOpenAIServer()
    base_url = await server.start()          # http://127.0.0.1:<free port>/v1
    server.reply_content('{"answer": 42}')   # queue replies, consumed in order
    server.reply_error(429, headers={"retry-after-ms": "1"})
    server.reply_tool_calls([("read_file", {"path": "a.txt"})])   # the model calls functions (finish: tool_calls)
    ...
    server.requests[0].json["response_format"]
    await server.stop()

Runs on the test's own event loop (aiohttp.web). When the queue is empty the server answers 400 with
``x-should-retry: false`` so a test that under-scripts fails fast instead of retrying.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeReply:
    status: int = 200
    body: dict[str, Any] | str | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.json["messages"])

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


_ids = itertools.count(1)


def chat_completion_body(
    content: str | None,
    *,
    model: str = "gpt-4o-mini",
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def tool_calls_body(
    calls: list[tuple[str, dict[str, Any] | str]],
    *,
    content: str | None = None,
    model: str = "gpt-4o-mini",
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
) -> dict[str, Any]:
    """A chat completion whose message calls functions, as the API sends it (``finish_reason: tool_calls``;
    each call's arguments a JSON string)."""
    body = chat_completion_body(content, model=model, prompt_tokens=prompt_tokens,
                                completion_tokens=completion_tokens, finish_reason="tool_calls")
    body["choices"][0]["message"]["tool_calls"] = [
        {"id": f"call_{next(_ids)}", "type": "function",
         "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
        for name, args in calls]
    return body


def error_body(message: str, *, type_: str = "server_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.replies: deque[FakeReply] = deque()
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self.port: int = 0

    # ------------------------------------------------------------ scripting

    def enqueue(self, reply: FakeReply) -> None:
        self.replies.append(reply)

    def reply_content(
        self,
        content: str | None,
        *,
        model: str = "gpt-4o-mini",
        prompt_tokens: int = 10,
        completion_tokens: int = 5,
        finish_reason: str = "stop",
        delay: float = 0.0,
    ) -> None:
        body = chat_completion_body(
            content,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=finish_reason,
        )
        self.enqueue(FakeReply(200, body, delay))

    def reply_tool_calls(self, calls: list[tuple[str, dict[str, Any] | str]], *, content: str | None = None,
                         delay: float = 0.0) -> None:
        self.enqueue(FakeReply(200, tool_calls_body(calls, content=content), delay))

    def reply_error(
        self,
        status: int,
        message: str = "scripted error",
        *,
        headers: dict[str, str] | None = None,
        type_: str = "server_error",
        delay: float = 0.0,
    ) -> None:
        self.enqueue(FakeReply(status, error_body(message, type_=type_), delay, dict(headers or {})))

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        # handler_cancellation: a client that gave up (timeout) cancels the delayed handler: stop() is quick.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ handler

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            RecordedRequest(request.method, request.path, dict(request.headers), body, time.monotonic())
        )
        if not self.replies:
            return web.json_response(
                error_body("fake server: no scripted reply left", type_="invalid_request_error"),
                status=400,
                headers={"x-should-retry": "false"},
            )
        reply = self.replies.popleft()
        if reply.delay > 0:
            await asyncio.sleep(reply.delay)
        if isinstance(reply.body, str):
            return web.Response(
                text=reply.body, status=reply.status, headers=reply.headers, content_type=reply.content_type
            )
        return web.json_response(reply.body or {}, status=reply.status, headers=reply.headers)
