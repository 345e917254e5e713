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

import time
from typing import TYPE_CHECKING, Any

from ..schemas import TERMINAL_LIFECYCLES, Continuation, ContinuationKind, Lifecycle, OperationKind
from ..store.blob import scoped_key
from .tx import SwarmTx, new_continuation

if TYPE_CHECKING:
    from .executor import ClaimedOp, Executor

INLINE_RESULT_LIMIT = 16_000  # result text above this many bytes goes to the blob store


async def run_tool_call(ex: Executor, op: ClaimedOp) -> list[Any]:
    known = ex._read_for_llm_call(op)
    if known is None:
        return ex._in_tx(op, lambda tx, o: None)
    _, lifecycle, cont = known
    if (lifecycle in TERMINAL_LIFECYCLES or cont is None or cont.kind is not ContinuationKind.TOOL
            or cont.token != op.payload.get("token")):
        return ex._in_tx(op, lambda tx, o: None)  # moot
    spec = dict(cont.request["tool"])
    if cont.request.get("started"):
        if not spec.get("idempotent"):
            return ex._in_tx(op, lambda tx, o: _ask_again(ex, tx, op.node_id, cont))
    elif not _mark_started(ex, op, cont):
        return ex._in_tx(op, lambda tx, o: None)
    from ..mcp.hub import McpCallError

    server, name = str(spec["server"]), str(spec["name"])
    started = time.perf_counter()
    try:
        result = await ex.engine.mcp_hub().call(server, name, dict(spec.get("arguments") or {}))
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
        if len(data) > INLINE_RESULT_LIMIT:
            key = scoped_key(tx.owner_id, tx.swarm_id, "tools", f"{n.id}.{tx.state.seq + 1}.txt")
            ex.engine.blobs.put(key, data)
            done.update(text=data[:INLINE_RESULT_LIMIT].decode("utf-8", "ignore"), blob_key=key)
        what = (f"failed: {done['error']}" if done["error"] else
                f"returned {'an error' if done['is_error'] else 'a result'} of {len(data)} bytes")
        tx.journal(n.id, c.next_step, f"Called {server}.{name}: {what} ({ms:.0f} ms).")
        token = f"{n.id}@{tx.state.seq + 1}"
        resumed = new_continuation(n.id, ContinuationKind.STEP, {"result": done}, c.context, c.next_step, token,
                                   tx.now)
        tx.update_node(n.id, lifecycle=Lifecycle.RUNNING, continuation=resumed)
        tx.enqueue(OperationKind.STEP, n.id, f"step:{token}", {"token": token})

    return await ex._commit_together(op, commit)


def _mark_started(ex: Executor, op: ClaimedOp, cont: Continuation) -> bool:
    """Commit ``started`` on the continuation before the call; False if the node moved on meanwhile."""
    from .executor import now

    with ex.engine.db.raw_tx() as conn:
        tx = SwarmTx(conn, op.swarm_id, now())
        n = tx.node(op.node_id)
        c = n.continuation
        if c is None or c.token != cont.token:
            return False
        marked = new_continuation(n.id, c.kind, {**c.request, "started": True}, c.context, c.next_step, c.token,
                                  c.created_at)
        tx.update_node(n.id, continuation=marked)
        tx.flush()
    ex.engine.publish(tx.owner_id, tx.events)
    return True


def _ask_again(ex: Executor, tx: SwarmTx, node_id: str, cont: Continuation) -> None:
    """The call was in flight at a crash and is not idempotent: ask the person (step ``tool.in_doubt``)."""
    n = tx.node(node_id)
    if n.continuation is None or n.continuation.token != cont.token:
        return
    step = ex.engine.registry.get_step("tool.in_doubt")
    ctx = step.load_context({**cont.request["tool"], "next_step": cont.next_step})
    ex.run_step(tx, node_id, step.name, ctx, None)
