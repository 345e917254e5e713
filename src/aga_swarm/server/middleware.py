"""The outermost ASGI layer: body-size limit (413), a JSON 500 instead of a stack trace, and the request log."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..engine.sizes import human_size
from .logs import access_log, log

DRAIN_LIMIT = 16 * 1024 * 1024
"""Read and drop up to this much of a rejected body, so the client gets the 413 instead of a reset."""


async def _drain(receive: Receive, message: Message, already: int) -> None:
    seen = already
    while message.get("more_body", False) and seen <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large (limit {human_size(limit)})")


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()), *headers]})
    await send({"type": "http.response.body", "body": payload})


UPLOAD_PATH = re.compile(r"^/api/swarms(/[^/]+/memory|/[^/]+/chats/[^/]+/messages|/[^/]+/nodes/[^/]+/tell)?/?$")
"""Routes that take files: a multipart body may be as large as the operator's upload limit."""


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, upload_body_bytes: int | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.upload_body_bytes = upload_body_bytes or max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:12]
        state: dict[str, Any] = {"status": None}
        scope.setdefault("state", {})["request_id"] = request_id
        limit = self.max_body_bytes
        if scope.get("method") == "POST" and UPLOAD_PATH.match(scope.get("path", "")) and _multipart(scope):
            limit = self.upload_body_bytes

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    await _drain(receive, message, received)
                    raise BodyTooLarge(limit)
            return message

        try:
            length = _content_length(scope)
            if length is not None and length > limit:
                if length <= DRAIN_LIMIT:
                    await _drain(receive, {"more_body": True}, 0)
                await _send_json(send_wrapper, 413, {"detail": f"request body too large (limit {human_size(limit)})"},
                                 [(b"connection", b"close")])
                return
            await self.app(scope, receive_wrapper, send_wrapper)
        except BodyTooLarge as exc:
            if state["status"] is None:
                await _send_json(send_wrapper, 413, {"detail": exc.detail}, [(b"connection", b"close")])
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id, "path": scope.get("path")})
            if state["status"] is None:
                await _send_json(send_wrapper, 500, {"detail": "internal server error", "request_id": request_id},
                                 [])
        finally:
            path = scope.get("path", "")
            if not path.startswith("/socket.io"):  # long-polling would drown the log; sockets log connects
                access_log.info("request", extra={
                    "request_id": request_id, "method": scope.get("method"), "path": _logged_path(scope),
                    "status": state["status"], "ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": scope.get("state", {}).get("user_id")})


def _multipart(scope: Scope) -> bool:
    return any(name == b"content-type" and value[:19].lower() == b"multipart/form-data"
               for name, value in scope.get("headers", ()))


def _logged_path(scope: Scope) -> str:
    """The path as the client sent it (still percent-encoded, without the query): a decoded path can hold a
    '?' or control characters from an escaped id, which would read as a query or break the log line."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.split(b"?", 1)[0].decode("latin-1")[:2000]
    return str(scope.get("path", ""))[:2000]


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
