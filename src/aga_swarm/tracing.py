"""OpenTelemetry tracing: off by default, turned on by the standard ``OTEL_*`` environment variables.

Spans: one per HTTP request (the server's middleware), one per operation (``operation <kind>``), one per model
call (``chat <model>``, inside its ``llm_call`` operation) and one per MCP tool call (``tool <server>.<name>``,
inside its ``tool_call`` operation). An operation's span is the child of the span that queued it: the trace
context of the enqueuing code (an HTTP request's span, or the operation whose step queued it) is written into
the operation's payload (``payload["trace"]``, W3C ``traceparent``), so the link survives the database and holds
across processes: a worker's span for an operation a reply created on an API process is that request's child.

Tracing is on when ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp``, ``console``) or an OTLP endpoint is set
(``OTEL_EXPORTER_OTLP_ENDPOINT``/``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), unless ``OTEL_SDK_DISABLED=true`` or
``OTEL_TRACES_EXPORTER=none``. The SDK reads the rest itself (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_TRACES_SAMPLER``, the exporter's endpoint, headers and timeout). When it is off, the hot path pays one
boolean test per operation and nothing else.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # imported when tracing is turned on: a process that does not trace never loads the SDK
    from opentelemetry import trace

ON = False
_tracer: trace.Tracer | None = None
_provider: Any = None

T = TypeVar("T")


def wanted(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether the OTEL_* variables ask for traces (see the module's docstring)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure_from_env(service_name: str = "aga-swarm") -> bool:
    """Turn tracing on if the environment asks for it (once per process); returns whether it is on."""
    if ON or not wanted():
        return ON
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    provider = TracerProvider(resource=Resource.create(
        {"service.name": os.environ.get("OTEL_SERVICE_NAME") or service_name}))
    for name in (os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp").split(","):
        exporter: SpanExporter
        if name.strip() == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()  # endpoint, headers and timeout from OTEL_EXPORTER_OTLP_*
        elif name.strip() == "console":
            exporter = ConsoleSpanExporter()
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: unknown exporter {name.strip()!r} (otlp, console or none)")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    enable(provider)
    return True


def enable(provider: Any) -> None:
    """Trace through ``provider`` (an SDK ``TracerProvider``; tests give one with an in-memory exporter)."""
    global ON, _tracer, _provider
    from . import __version__

    _provider = provider
    _tracer = provider.get_tracer("aga_swarm", __version__)
    ON = True


def disable() -> None:
    """Stop tracing (and flush what was recorded)."""
    global ON, _tracer, _provider
    if _provider is not None:
        _provider.force_flush()
    ON, _tracer, _provider = False, None, None


def shutdown() -> None:
    if _provider is not None:
        _provider.shutdown()


def _t() -> trace.Tracer:
    assert _tracer is not None
    return _tracer


# ---- carrying the trace through the database ----------------------------------------------------------------
def carrier() -> dict[str, str]:
    """The current trace context as W3C headers, for an operation's payload."""
    from opentelemetry import propagate

    out: dict[str, str] = {}
    propagate.inject(out)
    return out


def with_trace(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with the current trace context (``payload["trace"]``), when tracing is on and there is one."""
    if not ON:
        return payload
    found = carrier()
    return {**payload, "trace": found} if found else payload


# ---- spans -----------------------------------------------------------------------------------------------------
@contextmanager
def operation_span(op: Any) -> Iterator[trace.Span]:
    """The span of one operation, the child of the span that queued it (``payload["trace"]``)."""
    from opentelemetry import propagate

    held = op.payload.get("trace") if isinstance(op.payload, dict) else None
    parent = propagate.extract(held) if held else None
    attributes = {"aga.operation.kind": op.kind.value, "aga.operation.id": op.id, "aga.swarm.id": op.swarm_id,
                  "aga.node.id": op.node_id}
    with _t().start_as_current_span(f"operation {op.kind.value}", context=parent, attributes=attributes) as span:
        yield span


def traced_operation(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate ``fn(self, tx, op)``: run it in the operation's span when tracing is on."""
    @functools.wraps(fn)
    def wrapper(self: Any, tx: Any, op: Any) -> T:
        if not ON:
            return fn(self, tx, op)
        with operation_span(op):
            return fn(self, tx, op)
    return wrapper


def traced_async_operation(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorate ``async fn(x, op)`` (a model or tool call's operation): run it in the operation's span."""
    @functools.wraps(fn)
    async def wrapper(x: Any, op: Any) -> T:
        if not ON:
            return await fn(x, op)
        with operation_span(op):
            return await fn(x, op)
    return wrapper


def in_callers_context(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorate ``async fn(self, op, commit)``: ``commit(tx, op)`` may run in another task (operations that
    arrive together commit together), so it runs re-attached to the trace context of the code that handed it
    over, and what it queues names the right parent."""
    @functools.wraps(fn)
    async def wrapper(self: Any, op: Any, commit: Callable[[Any, Any], None]) -> T:
        if not ON:
            return await fn(self, op, commit)
        from opentelemetry import context as otel_context

        ctx = otel_context.get_current()

        def attached(tx: Any, o: Any) -> None:
            token = otel_context.attach(ctx)
            try:
                commit(tx, o)
            finally:
                otel_context.detach(token)

        return await fn(self, op, attached)
    return wrapper


@contextmanager
def span(name: str, attributes: dict[str, Any] | None = None, *, client: bool = False) -> Iterator[Any]:
    """A span named ``name`` when tracing is on (of kind CLIENT with ``client``); nothing otherwise."""
    if not ON:
        yield None
        return
    from opentelemetry.trace import SpanKind

    kind = SpanKind.CLIENT if client else SpanKind.INTERNAL
    with _t().start_as_current_span(name, kind=kind, attributes=attributes) as s:
        yield s


@contextmanager
def span_in(name: str, parent: Any, attributes: dict[str, Any], *, kind: Any = None) -> Iterator[trace.Span]:
    """A current span under ``parent`` (an extracted context); tracing must be on."""
    from opentelemetry.trace import SpanKind

    with _t().start_as_current_span(name, context=parent, kind=kind or SpanKind.INTERNAL,
                                    attributes=attributes) as s:
        yield s


class TracedModel:
    """A model client whose calls are spans (``chat <model>``, GenAI semantic conventions' attribute names)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model = inner.model

    async def complete(self, request: Any, output_model: Any) -> Any:
        from opentelemetry.trace import SpanKind

        attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": self.model,
                      "aga.llm.purpose": request.purpose}
        with _t().start_as_current_span(f"chat {self.model}", kind=SpanKind.CLIENT, attributes=attributes) as s:
            response = await self.inner.complete(request, output_model)
            s.set_attribute("gen_ai.response.model", response.model)
            s.set_attribute("gen_ai.usage.input_tokens", response.tokens_in)
            s.set_attribute("gen_ai.usage.output_tokens", response.tokens_out)
            return response
