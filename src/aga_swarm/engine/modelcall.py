"""Model calls: an ``llm_call`` operation calls the model outside any transaction, then commits the call's
record (the developer log), the parsed answer in the node's continuation and the node's next step together.
A transient error re-queues the operation with backoff; any other fails the node."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update

from .. import tracing
from ..llm.prices import price_cost, price_of
from ..llm.protocol import LLMClient, LLMError, LLMRequest, TransientLLMError, loop_turn, without_nul
from ..schemas import (
    TERMINAL_LIFECYCLES,
    Attachment,
    ContinuationKind,
    EventType,
    Lifecycle,
    LogEntryKind,
    Node,
    OperationKind,
    OperationStatus,
    SwarmConfig,
)
from ..sdk.registry import Registry
from ..store import payloads, sql
from ..store import tables as t
from ..store.blob import BlobStore
from ..store.database import Database
from ..store.payloads import RequestStore
from . import keys
from . import lifecycle as rules
from .claimed import NOTHING, UNWRITTEN, ClaimedOp, Executed, LostClaim, Prefetched, read_for_llm_call
from .dispatch import ConfigLookup
from .errors import MalformedContinuation
from .grouping import GroupCommit
from .llmrequest import Requests
from .logrows import INSERT_LLM_CALL, LlmCallRow
from .rowcache import RowCache
from .stats import ModelCallRecord
from .tx import SwarmTx

log = logging.getLogger("aga_swarm.engine")

MAX_TRANSIENT_ATTEMPTS = 5


def retry_delay(attempts: int) -> float:
    """Exponential backoff for transient failures: 0.5 s, 1 s, 2 s, ... capped at 30 s."""
    return float(min(30.0, 0.5 * 2 ** (attempts - 1)))


def call_cost(config: SwarmConfig, tokens_in: int, tokens_out: int, reported: float) -> float:
    """A call's cost: at the config's own price if it gives one, else as the client reported it, else at the
    table's price for the config's model (see ``price_of``)."""
    llm = config.llm
    if reported and (llm.price_in_per_mtok is None or llm.price_out_per_mtok is None):
        return reported
    price = price_of(llm)
    return reported if price is None else price_cost(price, tokens_in, tokens_out)


def record_llm_call(tx: SwarmTx, requests: RequestStore, node: Node, step: str, request: LLMRequest, model: str,
                    *, raw: str | None, parsed: Any, tokens_in: int, tokens_out: int, latency_ms: float,
                    cost_usd: float, attempts: int, error: str | None, request_ref: str | None = None,
                    kind: LogEntryKind = LogEntryKind.MODEL_CALL) -> None:
    """Record a model call (or, of ``kind`` ``step_error``, a step's error) in the node's developer log: the row
    (its body in the blob store above ``requests.inline_bytes``; the request itself stored once, by
    ``request_ref``) and the ``llm_call`` event (a step error's too: it counts in the usage as it always did)."""
    call_id = f"{node.id}.llm{tx.state.seq + 1}"
    messages = [] if request_ref is not None else [m.model_dump(exclude_none=True) for m in request.messages]
    body = payloads.call_body(request_ref, messages, raw, parsed)
    encoded = sql.to_json(body)
    blob_key = None
    if len(encoded) > requests.inline_bytes:
        blob_key = payloads.body_blob_key(tx.owner_id, tx.swarm_id, call_id)
        requests.blobs.put(blob_key, encoded.encode())
    stored = tx.packed(encoded) if blob_key is None else None  # inline: packed when the operator asks
    sql.run_rows(tx.conn, INSERT_LLM_CALL, [LlmCallRow(  # seq: the event's, below
        tx.swarm_id, call_id, node.id, step, kind.value, model, stored, blob_key, tokens_in, tokens_out, latency_ms,
        cost_usd, attempts, error, tx.now_ts, tx.state.seq + 1, node.attempt, node.replans)])
    if kind is LogEntryKind.MODEL_CALL:
        tx.model_calls.append(ModelCallRecord(model, tokens_in, tokens_out, cost_usd, latency_ms / 1000,
                                              error is not None))
    tx.emit(EventType.LLM_CALL, node.id, {"id": call_id, "step": step, "model": model,
                                          "tokens_in": tokens_in, "tokens_out": tokens_out,
                                          "cost_usd": cost_usd, "latency_ms": round(latency_ms, 3),
                                          "error": error})


class ModelCalls:
    def __init__(self, *, db: Database, registry: Registry, config_for: ConfigLookup,
                 llm_for: Callable[[SwarmConfig], LLMClient], blobs: BlobStore, requests: RequestStore,
                 rows: RowCache, group: GroupCommit) -> None:
        self.db = db
        self.requests = requests
        self.registry = registry
        self.config_for = config_for
        self.llm_for = llm_for
        self.blobs = blobs
        self.rows = rows
        self.group = group
        self.prompts = Requests()  # each stored message validated once (a loop's turns repeat the conversation)

    def prefetch(self, op: ClaimedOp) -> Prefetched | None:
        """What the call needs to start: read when it was claimed, else now."""
        if op.prefetched is not None:
            return op.prefetched
        with self.db.raw_read() as conn:
            return read_for_llm_call(conn, op.swarm_id, op.node_id)

    @tracing.traced_async_operation
    async def run(self, op: ClaimedOp) -> Executed:
        known = self.prefetch(op)
        if known is None:
            return self.group.in_tx(op, _moot)
        lifecycle, cont = known.lifecycle, known.continuation
        if (lifecycle in TERMINAL_LIFECYCLES or cont is None or cont.kind is not ContinuationKind.LLM
                or cont.token != op.payload.get("token")):
            return self.group.in_tx(op, _moot)  # a stale token commits nothing but the finish
        node_id = op.node_id
        # a turn of a tool-using loop resumes the loop's step; the model's final answer is ``output_step``'s
        step = self.registry.get_step(cont.request.get("output_step") or cont.next_step)
        if step.result is None:
            raise MalformedContinuation(f"step {step.name!r} has no result model")
        ref = cont.request.get(payloads.REF)
        request = (LLMRequest.model_validate(cont.request["llm"]) if ref is None else  # "llm": before migration 0008
                   self.prompts.request(self.requests.fetch(self.db, op.swarm_id, ref)))
        owner = self.rows.owner_and_config(op.swarm_id)
        if owner is None:
            return self.group.in_tx(op, _moot)  # the swarm was deleted meanwhile
        if request.images:
            request = request.model_copy(update={"image_data": self._image_data(op.swarm_id, request.images)})
        config = self.config_for(known.config_id, owner[0])
        client = self.llm_for(config)
        started = time.perf_counter()
        try:
            response = without_nul(await client.complete(request, step.result))
        except TransientLLMError as exc:
            if op.attempts < MAX_TRANSIENT_ATTEMPTS:
                return self._retry_later(op, exc)
            return self._failed(op, node_id, request, ref, client.model, exc, started, config)
        except LLMError as exc:
            return self._failed(op, node_id, request, ref, client.model, exc, started, config)

        def commit(tx: SwarmTx, o: ClaimedOp) -> None:
            n = tx.node(node_id)
            c = n.continuation
            result = response.parsed if request.tools is None else loop_turn(response)
            logged = {"tool_calls": response.tool_calls} if response.tool_calls else response.parsed
            record_llm_call(tx, self.requests, n, step.name, request, response.model, request_ref=ref,
                            raw=response.raw_output, parsed=logged, tokens_in=response.tokens_in,
                            tokens_out=response.tokens_out, latency_ms=response.latency_ms,
                            cost_usd=call_cost(config, response.tokens_in, response.tokens_out,
                                               response.cost_usd),
                            attempts=response.attempts, error=None)
            if c is None or c.token != cont.token:
                return  # the node was cancelled or moved on meanwhile: the call is recorded (it was paid), no more
            token = tx.continuation_token(n.id)
            resumed = c.model_copy(update={"kind": ContinuationKind.STEP, "token": token,
                                           "request": {"result": result}})
            tx.update_node(n.id, lifecycle=Lifecycle.RUNNING, continuation=resumed)
            tx.enqueue(OperationKind.STEP, n.id, keys.step_key(token), {"token": token})

        return await self.group.commit_together(op, commit)

    def _image_data(self, swarm_id: str, images: list[Attachment]) -> list[str]:
        """The images a model call receives, as data URLs, read from the versions attached (one that is gone
        is left out: the prompt names it anyway)."""
        from .attachments import data_url
        from .memory import LATEST, committed_file

        out: list[str] = []
        with self.db.raw_read() as conn:
            found = [committed_file(conn, swarm_id, a.path, a.seq if a.seq is not None else LATEST)
                     for a in images]
        for a, stored in zip(images, found, strict=True):
            if stored is None:
                continue
            try:
                out.append(data_url(stored.file.content_type, self.blobs.get(stored.blob_key)))
            except KeyError:
                log.warning("attached image %s of swarm %s has no bytes", a.path, swarm_id)
        return out

    def _retry_later(self, op: ClaimedOp, exc: Exception) -> Executed:
        delay = retry_delay(op.attempts)
        if op.id == UNWRITTEN:  # it has no row yet: written queued for later (unless recovery wrote it meanwhile)
            assert op.row is not None
            row = {**op.row, "status": OperationStatus.QUEUED.value, "attempts": op.attempts, "claim": None,
                   "lease_until": None, "not_before": time.time() + delay, "payload": sql.to_json(op.row["payload"])}
            with self.db.raw_tx() as conn:
                sql.run(conn, sql.INSERT_OPERATION, row)
            log.info("model call of %s/%s transient failure (%s); retry in %.1fs", op.swarm_id, op.node_id, exc,
                     delay)
            return NOTHING._replace(queued_work=True)
        with self.db.tx() as conn:
            res = conn.execute(update(t.operations).where(t.operations.c.id == op.id,
                                                          t.operations.c.claim == op.claim)
                               .values(status=OperationStatus.QUEUED.value, claim=None, lease_until=None,
                                       not_before=time.time() + delay, error=f"retrying: {exc}"))
            if res.rowcount != 1:
                raise LostClaim()
        log.info("operation %s transient failure (%s); retry in %.1fs", op.id, exc, delay)
        return NOTHING._replace(queued_work=True)

    def _failed(self, op: ClaimedOp, node_id: str, request: LLMRequest, ref: str | None, model: str,
                exc: LLMError, started: float, config: SwarmConfig) -> Executed:
        def commit(tx: SwarmTx, o: ClaimedOp) -> None:
            n = tx.node(node_id)
            step = n.continuation.next_step if n.continuation else "llm"
            record_llm_call(tx, self.requests, n, step, request, model, request_ref=ref, raw=exc.raw_output,
                            parsed=None,
                            tokens_in=exc.tokens_in, tokens_out=exc.tokens_out,
                            latency_ms=(time.perf_counter() - started) * 1000,
                            cost_usd=call_cost(config, exc.tokens_in, exc.tokens_out, 0.0),
                            attempts=exc.attempts, error=str(exc))
            rules.fail_node(tx, n.id, f"model call failed: {exc}")

        return self.group.in_tx(op, commit)


_LOST_MODEL_CALLS = ("SELECT n.swarm_id, n.id, n.data, s.status FROM swarms AS s CROSS JOIN nodes AS n{indexed} "
                     "WHERE n.swarm_id = s.id AND s.status IN ('running', 'paused') AND n.live = 1 "
                     "AND n.lifecycle = 'waiting_llm' "
                     "AND NOT EXISTS (SELECT 1 FROM operations AS o WHERE o.swarm_id = n.swarm_id AND o.node_id = n.id "
                     "AND o.status IN ('queued', 'held', 'running'))")
# SQLite: the swarms that run (or are paused) first, then each one's live nodes by the (swarm, parent, live) index
# (the rows of live nodes only are read for their lifecycle); PostgreSQL plans it from its statistics
LOST_MODEL_CALLS = {"sqlite": sql.Q(_LOST_MODEL_CALLS.format(indexed=" INDEXED BY ix_nodes_parent")),
                    "postgresql": sql.Q(_LOST_MODEL_CALLS.format(indexed=""))}


def derive_lost_model_calls(db: Database, older_than: float | None) -> int:
    """Queue (or hold, in a paused swarm) the model call of each node that waits on one with no operation row: a
    reply's model call handed to its process's runner is not written (``GroupCommit.transact``), so if that
    process died, the node's ``llm`` continuation is all that says a call is due. ``older_than`` (a time): only
    continuations made before it, as an expired lease would be (a live process may still be making the call);
    None: all (at a start where no other process runs). How many were queued. The nodes are looked for on a read
    connection (no write lock held while it looks); a call that ended meanwhile gets a stale operation, which does
    nothing (its token is not the node's)."""
    with db.raw_read() as conn:
        rows = sql.fetch(conn, LOST_MODEL_CALLS[conn.dialect.name])
    lost: list[dict[str, Any]] = []
    for r in rows:
        cont = sql.from_json(r.data).get("continuation") or {}
        if cont.get("kind") != ContinuationKind.LLM.value:
            continue
        if older_than is not None and datetime.fromisoformat(cont["created_at"]).timestamp() >= older_than:
            continue
        status = OperationStatus.QUEUED if r.status == "running" else OperationStatus.HELD
        token = str(cont["token"])
        lost.append({
            "swarm_id": r.swarm_id, "node_id": r.id, "kind": OperationKind.LLM_CALL.value, "status": status.value,
            "payload": sql.to_json({"token": token}), "attempts": 0, "idem_key": keys.llm_call_key(token),
            "not_before": 0.0, "claim": None, "lease_until": None, "created_at": time.time()})
    if not lost:
        return 0
    queued = 0
    with db.raw_tx() as conn:
        for row in lost:
            queued += sql.run(conn, sql.INSERT_OPERATION, row)
    return queued


def _moot(tx: SwarmTx, op: ClaimedOp) -> None:
    """An operation that has nothing left to do: only its finish commits."""
