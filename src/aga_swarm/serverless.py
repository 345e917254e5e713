"""The serverless entry point: run exactly one queued operation per invocation, with no long-lived process.

A queue-triggered function (Azure Functions, AWS Lambda, a Kubernetes job) calls :func:`handle_queue_message`
once per message. The message is only a wake-up: the operation rows in the database are the queue's truth, so
a lost, repeated or reordered message never loses or doubles work; a claim is a compare-and-set, a node runs
one operation at a time, and an invocation that dies mid-run leaves a lease that the next invocation re-queues
once it expires. The store comes from the same settings as every process (``AGA_SWARM_DB_URL``,
``AGA_SWARM_BLOB_URL``, ``AGA_SWARM_ACTIONS``) and is kept between warm invocations of one instance."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from .service import SwarmService

_lock = threading.Lock()
_service: SwarmService | None = None


def service() -> SwarmService:
    """The instance's store, opened on the first invocation and reused by the next warm ones."""
    global _service
    with _lock:
        if _service is None:
            from .plugins import modules_from_env
            from .service.composition import default_registry

            _service = SwarmService(registry=default_registry(modules_from_env(), installed=True))
        return _service


async def run_one_operation(svc: SwarmService | None = None) -> int:
    """Run one queued operation (and the chain it commits with); how many operations ran (0: none queued)."""
    return await (svc or service()).runner.run_once()


def handle_queue_message(message: Any = None) -> int:
    """A queue trigger's body, for a synchronous handler: ``message`` is ignored (a wake-up, see above)."""
    return asyncio.run(run_one_operation())


def close() -> None:
    """Close the instance's store (tests, or a host that recycles the process)."""
    global _service
    with _lock:
        if _service is not None:
            _service.close()
            _service = None


def queued_operations(svc: SwarmService | None = None) -> int:
    """How many operations are queued now: after an invocation, the host sends up to this many wake-up
    messages (an output binding), so work that one operation queued fans out to parallel invocations. Extra
    wake-ups are harmless (an invocation that finds nothing runnable returns 0)."""
    from .engine.queue import queue_report

    return sum(q.counts["queued"] for q in queue_report((svc or service()).db))
