"""A step that raised: roll it back, record the error in the node's developer log, and queue a ``failure``
operation that fails the node (and tells its parent). Never a stalled swarm."""

from __future__ import annotations

import logging
import traceback

from ..llm.protocol import LLMRequest
from ..schemas import LogEntryKind, OperationKind, OperationStatus
from ..store.database import Database
from ..store.payloads import RequestStore
from . import keys
from .claimed import NOTHING, ClaimedOp, Executed, LostClaim, now
from .errors import NotFound, SwarmError
from .grouping import GroupCommit
from .modelcall import record_llm_call
from .stats import EngineStats
from .tx import SwarmTx

log = logging.getLogger("aga_swarm.engine")

MAX_REASON_DETAIL = 500


def failure_sentence(exc: Exception, step: str) -> str:
    """A failure reason a person can read: which step, what went wrong, and where the details are. The
    exception's own text is kept (bounded), since a step's author may have written it for people."""
    detail = " ".join(str(exc).split())
    if len(detail) > MAX_REASON_DETAIL:
        detail = detail[:MAX_REASON_DETAIL] + "..."
    kind = type(exc).__name__
    if isinstance(exc, SwarmError):
        return f"Step {step!r} failed: {detail or kind} ({kind})."
    return (f"Step {step!r} stopped on an unexpected error ({kind}{': ' + detail if detail else ''}); "
            "the traceback is in the node's developer log.")


def record_failure(db: Database, requests: RequestStore, stats: EngineStats, op: ClaimedOp,
                   exc: Exception) -> Executed:
    """In a transaction of its own: the error in the node's developer log, a ``failure`` operation queued for
    the node, and ``op`` finished ``failed``."""
    expected = isinstance(exc, SwarmError)
    detail = str(exc) if expected else "".join(traceback.format_exception(exc))
    if not expected:
        log.exception("operation %s (%s on %s) failed", op.id, op.kind.value, op.node_id)
    try:
        with db.tx() as conn:
            tx = SwarmTx(conn, op.swarm_id, now())
            GroupCommit.materialize(tx, op)  # a model call with no row gets one now: it fails recorded
            try:
                node = tx.node(op.node_id)
            except NotFound:
                node = None
            if node is not None:
                req = LLMRequest(purpose="step-error", messages=[], output_schema={})
                step = node.continuation.next_step if node.continuation else op.kind.value
                reason = failure_sentence(exc, step)
                record_llm_call(tx, requests, node, step, req, "", raw=detail, parsed=None, tokens_in=0,
                                tokens_out=0, latency_ms=0.0, cost_usd=0.0, attempts=op.attempts, error=reason,
                                kind=LogEntryKind.STEP_ERROR)
                tx.enqueue(OperationKind.FAILURE, node.id, keys.failure_key(op.id), {"reason": reason})
            tx.flush()
            GroupCommit.finish(tx, op, OperationStatus.FAILED, detail[-4000:])
    except (LostClaim, NotFound):
        return NOTHING
    stats.failed(op.kind.value)
    return Executed(tx.events, queued_work=True)
