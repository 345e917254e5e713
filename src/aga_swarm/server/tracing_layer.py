"""A span per HTTP request when OpenTelemetry tracing is on (``aga_swarm.tracing``), the parent of the
operations the request queues. The caller's ``traceparent`` header, if any, is the span's parent."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import tracing


class TracingLayer:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not tracing.ON or scope["type"] != "http" or scope.get("path", "").startswith("/socket.io"):
            await self.app(scope, receive, send)
            return
        from opentelemetry import propagate, trace

        method = scope.get("method", "GET")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        parent = propagate.extract(headers)
        attributes: dict[str, Any] = {"http.request.method": method, "url.path": scope.get("path", "")}
        with tracing.span_in(f"{method}", parent, attributes, kind=trace.SpanKind.SERVER) as span:

            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(trace.StatusCode.ERROR)
                await send(message)

            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None)
                if template:  # the route's template, not the path: ids would make every name unique
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
