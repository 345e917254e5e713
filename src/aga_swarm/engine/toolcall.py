"""tool_call: an MCP tool call as an operation of its own.

1. A transaction marks the node's tool continuation ``started`` (committed before the call is made).
2. The call runs outside any transaction, bounded by the server's timeout (``mcp.hub``).
3. One transaction records the result (a journal line; text over 16 KB in the blob store), moves the
   continuation to its next step and queues it, and finishes the operation.

A crash before step 3 leaves the operation ``running``; recovery runs it again and finds ``started``: the call
may or may not have happened. An idempotent tool is simply called again; for any other, the node asks the person
in its chat whether to run it again (step ``tool.in_doubt``), and nothing waits meanwhile. A crash after step 3
never repeats the call: its result is in the continuation.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from .. import tracing
from ..schemas import (
    TERMINAL_LIFECYCLES,
    Continuation,
    ContinuationKind,
    EventType,
    Lifecycle,
    LogEntryKind,
    OperationKind,
)
from ..store import sql
from ..store.blob import scoped_key
from ..store.codec import new_continuation
from . import keys, memory
from .claimed import ClaimedOp, Executed, now
from .logrows import INSERT_LLM_CALL, LlmCallRow
from .tx import SwarmTx

if TYPE_CHECKING:
    from ..store.blob import BlobStore
    from .executor import Executor

_TOOL_CALL = LogEntryKind.TOOL_CALL.value
INLINE_RESULT_LIMIT = 16_000  # result text above this many bytes goes to the blob store
_ARGUMENTS = json.JSONEncoder(ensure_ascii=False)  # json.dumps(..., ensure_ascii=False), without a new encoder a call
# ... nor a new C encoder a call (``JSONEncoder.encode`` makes one each time: 7.6 µs against 2.1 for a one-key dict):
# the same text (arguments parsed from JSON have no cycles to check for, hence no markers)
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_ARGUMENTS_C = None if _C_ENCODER is None else _C_ENCODER(
    None, _ARGUMENTS.default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)


def _encode_arguments(value: dict[str, Any]) -> str:
    """``json.dumps(value, ensure_ascii=False)``."""
    return _ARGUMENTS.encode(value) if _ARGUMENTS_C is None else "".join(_ARGUMENTS_C(value, 0))


@tracing.traced_async_operation
async def run_tool_call(ex: Executor, op: ClaimedOp) -> Executed:
    known = ex.model_calls.prefetch(op)
    if known is None:
        return ex.in_tx(op, lambda tx, o: None)
    _, lifecycle, cont = known
    if (lifecycle in TERMINAL_LIFECYCLES or cont is None or cont.kind is not ContinuationKind.TOOL
            or cont.token != op.payload.get("token")):
        return ex.in_tx(op, lambda tx, o: None)  # moot
    spec = dict(cont.request["tool"])
    if cont.request.get("started"):
        if not spec.get("idempotent"):
            return ex.in_tx(op, lambda tx, o: _ask_again(ex, tx, op.node_id, cont))
    elif not _mark_started(ex, op, cont):
        return ex.in_tx(op, lambda tx, o: None)
    from ..mcp.hub import McpCallError

    server, name = str(spec["server"]), str(spec["name"])
    arguments = dict(spec.get("arguments") or {})
    started = time.perf_counter()
    try:
        with tracing.span(f"tool {server}.{name}", {"aga.tool.server": server, "aga.tool.name": name},
                          client=True):
            result = await ex.mcp_hub().call(server, name, arguments)
        outcome: dict[str, Any] = {"text": result.text, "is_error": result.is_error, "error": None}
    except McpCallError as exc:
        outcome = {"text": "", "is_error": True, "error": str(exc)}
    ms = (time.perf_counter() - started) * 1000

    def commit(tx: SwarmTx, o: ClaimedOp) -> None:
        n = tx.node(op.node_id)
        c = n.continuation
        if c is None or c.token != cont.token:
            return
        done = dict(outcome)
        data = str(done["text"]).encode()
        if len(data) > INLINE_RESULT_LIMIT:  # kept whole in the memory space (the blob store); the text's start
            path = save_result(tx, ex.blobs, n.id, f"{server}.{name}", str(done["text"]))
            done.update(text=data[:INLINE_RESULT_LIMIT].decode("utf-8", "ignore"), path=path,
                        blob_key=tx.memory_keys.get(path) if path else None)
        what = (f"failed: {done['error']}" if done["error"] else
                f"returned {'an error' if done['is_error'] else 'a result'} of {len(data)} bytes")
        step = str(c.context.get("final_step") or c.next_step)  # a tool-using loop's: the step it works for
        record_tool_call(tx, ex.blobs, n.id, step, f"{server}.{name}", arguments,
                         str(done["error"] or outcome["text"]), error=bool(done["error"] or done["is_error"]), ms=ms)
        tx.journal(n.id, c.next_step, f"Called {server}.{name}: {what} ({ms:.0f} ms).")
        token = tx.continuation_token(n.id)
        resumed = new_continuation(n.id, ContinuationKind.STEP, {"result": done}, c.context, c.next_step, token,
                                   tx.now)
        tx.update_node(n.id, lifecycle=Lifecycle.RUNNING, continuation=resumed)
        tx.enqueue(OperationKind.STEP, n.id, keys.step_key(token), {"token": token})

    return await ex.commit_together(op, commit)


def _mark_started(ex: Executor, op: ClaimedOp, cont: Continuation) -> bool:
    """Commit ``started`` on the continuation before the call; False if the node moved on meanwhile."""
    with ex.db.raw_tx() as conn:
        tx = SwarmTx(conn, op.swarm_id, now())
        n = tx.node(op.node_id)
        c = n.continuation
        if c is None or c.token != cont.token:
            return False
        marked = new_continuation(n.id, c.kind, {**c.request, "started": True}, c.context, c.next_step, c.token,
                                  c.created_at)
        tx.update_node(n.id, continuation=marked)
        tx.flush()
    ex.publish(tx.owner_id, tx.events)
    return True


def _ask_again(ex: Executor, tx: SwarmTx, node_id: str, cont: Continuation) -> None:
    """The call was in flight at a crash and is not idempotent: ask the person (step ``tool.in_doubt``)."""
    n = tx.node(node_id)
    if n.continuation is None or n.continuation.token != cont.token:
        return
    step = ex.registry.get_step("tool.in_doubt")
    ctx = step.load_context({**cont.request["tool"], "next_step": cont.next_step, "resume_context": cont.context})
    ex.run_step(tx, node_id, step.name, ctx, None)


def record_tool_call(tx: SwarmTx, blobs: BlobStore, node_id: str, step: str, tool: str, arguments: dict[str, Any],
                     result: str, *, error: bool, ms: float) -> None:
    """A tool call in the node's developer log: a record beside its model calls (model ``tool:<id>``, the
    arguments as the prompt, the result as the output; a body over 16 KB in the blob store, as a model call's)
    and a ``tool_call`` event (which changes no state; forks copy the record by it)."""
    seq = tx.state.seq + 1
    call_id = f"{node_id}.tool{seq}"
    node = tx.node(node_id)
    body = {"messages": [{"role": "tool_call", "content": _encode_arguments(arguments)}],
            "raw_output": result, "parsed_output": {"tool": tool, "arguments": arguments, "is_error": error}}
    encoded = sql.to_json(body)
    blob_key = None
    if len(encoded) > INLINE_RESULT_LIMIT:
        blob_key = scoped_key(tx.owner_id, tx.swarm_id, "llm", f"{call_id}.json")
        blobs.put(blob_key, encoded.encode())
    stored = tx.packed(encoded) if blob_key is None else None  # inline: packed when the operator asks
    sql.run_rows(tx.conn, INSERT_LLM_CALL, [LlmCallRow(
        tx.swarm_id, call_id, node_id, step, _TOOL_CALL, f"tool:{tool}", stored, blob_key, 0, 0, ms, 0.0, 1,
        result[:2000] if error else None, tx.now_ts, seq, node.attempt, node.replans)])
    tx.emit(EventType.TOOL_CALL, node_id, {"id": call_id, "step": step, "tool": tool, "latency_ms": round(ms, 3),
                                           "bytes": len(result.encode()), "error": error})


def save_result(tx: SwarmTx, blobs: BlobStore, node_id: str, tool: str, text: str) -> str | None:
    """Keep a tool's result in the swarm's memory space (``tool-results/<node>/<seq>-<tool>.txt``, written by the
    node); its path, or None when it is too large even for that."""
    data = text.encode()
    if len(data) > memory.MAX_WRITE_BYTES:
        return None
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in tool)[:80]
    path = f"tool-results/{node_id}/{tx.state.seq + 1}-{safe}.txt"
    return memory.write(tx, blobs, path, data, node_id=node_id, title=f"Result of {tool}",
                        content_type="text/plain").path
