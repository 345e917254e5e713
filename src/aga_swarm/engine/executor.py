"""execute(op): load by id, run one step, commit every effect atomically, return. Nothing waits."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import update

from .. import tracing
from ..llm.prices import price_cost, price_of
from ..llm.protocol import LLMError, LLMRequest, TransientLLMError, loop_turn
from ..schemas import (
    TERMINAL_LIFECYCLES,
    Attachment,
    ChatStatus,
    Continuation,
    ContinuationKind,
    EventType,
    Lifecycle,
    MessageRole,
    Node,
    OperationKind,
    OperationStatus,
    SwarmConfig,
    SwarmStatus,
    TerminationPolicy,
)
from ..store import payloads, sql
from ..store import tables as t
from .context import ChildrenResult, StepContext
from .deps import release_dependents
from .errors import LimitExceeded, MalformedContinuation, NotFound, SwarmError
from .limits import check_time
from .policies import apply_policy
from .tx import CachedRows, SwarmTx, attempt_key, new_continuation

if TYPE_CHECKING:
    from .core import Engine

log = logging.getLogger("aga_swarm.engine")
T = TypeVar("T")

MAX_TRANSIENT_ATTEMPTS = 5
GROUP_COMMIT_MAX = 32  # operations run in the transaction of the operation that queued them (Executor._group)
# spawns of nodes created (or released) in a transaction that run in it beyond GROUP_COMMIT_MAX: a fan-out's
# children start in the transaction that creates them, which a crash loses (and re-runs) whole anyway
SPAWN_GROUP_MAX = 4096
# ... and while the transaction has used less CPU than this (its own thread's time): entry steps can be costly
# (a prompt to render), and a long transaction holds SQLite's write lock and is lost whole in a crash
SPAWN_GROUP_SECONDS = 0.25
CACHED_SWARMS = 256  # swarms whose last transaction's nodes and chats are kept (``Executor._keep_rows``)
CACHED_ROWS_PER_SWARM = 64  # a transaction that touched more (a wide fan-in) leaves nothing to reuse


@dataclass
class ClaimedOp:
    id: int
    swarm_id: str
    node_id: str
    kind: OperationKind
    payload: dict[str, Any]
    attempts: int
    claim: str
    chained: ClaimedOp | None = None  # the node's next operation, already claimed in the same transaction
    prefetched: Prefetched | None = None  # for a model call: what it needs, read when it was claimed
    queued_work: bool = False  # running it wrote queued operations (for any worker)
    grouped: int = 0  # operations run after this one in its transaction (group commit)


Prefetched = tuple[str, Lifecycle, Continuation | None]  # a model call's swarm config id, node lifecycle, continuation


def read_for_llm_call(conn: Any, swarm_id: str, node_id: str) -> Prefetched | None:
    """What a model call needs to start, in one query (the commit re-checks it under the write lock)."""
    found = sql.fetch_one(conn, sql.NODE_FOR_LLM_CALL, {"sid": swarm_id, "id": node_id})
    if found is None:
        return None
    data = sql.from_json(found.data)
    raw = data.get("continuation")
    return found.config_id, Lifecycle(data["lifecycle"]), Continuation.model_validate(raw) if raw else None


def retry_delay(attempts: int) -> float:
    """Exponential backoff for transient failures: 0.5 s, 1 s, 2 s, ... capped at 30 s."""
    return float(min(30.0, 0.5 * 2 ** (attempts - 1)))


class _GroupedFailed(Exception):
    """A grouped operation failed after ``completed`` others of its group succeeded (see ``_group``)."""

    def __init__(self, completed: int, spawns: int = 0) -> None:
        super().__init__(completed)
        self.completed = completed  # operations run inline before the failing one
        self.spawns = spawns  # how many of them were spawns counted in the spawn budget (``_drain``)


class LostClaim(Exception):
    """Another worker took the operation over (lease expired); our effects are rolled back."""


def now() -> datetime:
    return datetime.now(UTC)


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


class Executor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.group_limit = GROUP_COMMIT_MAX  # 0: every operation in a transaction of its own
        self._together: list[tuple[ClaimedOp, Callable[[SwarmTx, ClaimedOp], None], asyncio.Future[list[Any]]]] = []
        self._rows_cache: dict[str, CachedRows] = {}  # per swarm, see ``CachedRows`` (insertion order: LRU-ish)
        self._owners: dict[str, tuple[str, str]] = {}  # swarm id -> (owner id, config id): they never change

    # ---- entry point ---------------------------------------------------------------------------
    async def execute(self, op: ClaimedOp) -> list[Any]:
        """Run one claimed operation. Returns the committed events (for the fan-out)."""
        try:
            if op.kind is OperationKind.LLM_CALL:
                return await self._llm_call(op)
            if op.kind is OperationKind.TOOL_CALL:
                from .toolcall import run_tool_call

                return await run_tool_call(self, op)
            return await self._commit_together(op, self._dispatch)
        except LostClaim:
            log.warning("operation %s lost its claim; effects rolled back", op.id)
            return []
        except Exception as exc:  # a step blew up: record it and fail the node, never stall
            return self._record_failure(op, exc)

    def _in_tx(self, op: ClaimedOp, fn: Any) -> list[Any]:
        """Run the claimed ``op`` and the operations of its node that it chains (see ``_group``)."""
        def leader(tx: SwarmTx) -> None:
            fn(tx, op)
            self._finish(tx, op, OperationStatus.DONE)

        _, tx, op.chained = self._group(op.swarm_id, op.node_id, leader, claim_tail=True)
        op.grouped, op.queued_work = tx.grouped, tx.queued_work
        return tx.events

    def transact(self, swarm_id: str, fn: Callable[[SwarmTx], T], *,
                 claim_tail: bool = False) -> tuple[T, SwarmTx, ClaimedOp | None]:
        """A change from outside the queue (a user's reply) in one transaction, together with the operations
        it queues for the node it names as ``tx.chain_node``, run at once (see ``_group``): a reply resumes
        its node in the reply's own transaction, and the node's next message commits with it. Operations
        left over (a model call, say) are queued for the runner, except that with ``claim_tail`` the node's
        model call is claimed and returned, for the caller to hand to a running runner. Returns ``fn``'s
        result, the committed ``SwarmTx`` (its events, its swarm) and that claimed operation."""
        return self._group(swarm_id, None, fn, claim_tail=claim_tail)

    def resume_now(self, tx: SwarmTx, node_id: str, cont: Continuation, result: dict[str, Any]) -> bool:
        """Run the step a reply resumes right here, in the reply's transaction, when it may run now (the
        swarm runs, the group has room, no older operation of the node waits); else return False, and the
        caller queues a ``user_reply`` operation. A step that fails sends the group back to run without it
        (``_GroupedFailed``), so the reply commits and the operation then fails on its own, recorded."""
        if not (tx.grouped - tx.spawns_grouped < tx.group_budget and tx.state.status is SwarmStatus.RUNNING
                and tx.may_run_inline(node_id)):
            return False
        step = self.engine.registry.get_step(cont.next_step)
        try:
            self.run_step(tx, node_id, step.name, step.load_context(cont.context), step.load_result(result))
        except Exception as exc:
            raise _GroupedFailed(tx.grouped, tx.spawns_grouped) from exc
        tx.grouped += 1
        tx.ran.append(OperationKind.USER_REPLY.value)
        return True

    def _group(self, swarm_id: str, node_id: str | None, leader: Callable[[SwarmTx], T], *, claim_tail: bool,
               group_limit: int | None = None, spawn_limit: int | None = None) -> tuple[T, SwarmTx, ClaimedOp | None]:
        """Run ``leader`` in one transaction, then, in the same transaction and ``SwarmTx``, up to
        ``group_limit`` of the operations it queued that may run there (group commit; see
        ``SwarmTx.enqueue``): the next operations of its own node (``node_id``, or the node ``leader`` names
        as ``tx.chain_node``) and those of nodes it created (a new child's spawn). They run from memory and
        never become rows, because they commit with the operation that queued them, and everything the group
        changed is written once, at its end. If a grouped operation fails, the transaction is rolled back and
        the group runs again, stopping before it, so it runs (and fails, recorded) on its own. A crash before
        the commit loses the whole group, which then runs again from its start. The spawns of nodes created
        in the transaction do not count in ``group_limit`` but in ``spawn_limit`` (``SPAWN_GROUP_MAX``)."""
        limit = self.group_limit if group_limit is None else group_limit
        try:
            with self.engine.db.raw_tx() as conn:
                tx = self._grouping_tx(conn, swarm_id, limit, self._spawn_limit(limit, spawn_limit))
                tx.lead(node_id)
                result = leader(tx)
                tail = self._drain(tx, claim_tail)
                tx.flush()
        except _GroupedFailed as failed:
            return self._group(swarm_id, node_id, leader, claim_tail=claim_tail,
                               group_limit=failed.completed - failed.spawns, spawn_limit=failed.spawns)
        self._keep_rows(tx)
        return result, tx, tail

    def _spawn_limit(self, group_limit: int, spawn_limit: int | None) -> int:
        """How many new nodes' spawns may run in a transaction besides ``group_limit`` other operations: none
        without group commit (``group_limit`` 0 on an executor whose own limit is 0)."""
        if spawn_limit is not None:
            return spawn_limit
        return SPAWN_GROUP_MAX if self.group_limit > 0 else 0

    def _grouping_tx(self, conn: Any, swarm_id: str, budget: int, spawn_budget: int) -> SwarmTx:
        """A ``SwarmTx`` that keeps back the operations it may run itself, up to ``budget`` (``_drain``) and
        ``spawn_budget`` spawns of new nodes, and starts from the nodes and chats the last committed
        transaction on this swarm left, if still current."""
        tx = SwarmTx(conn, swarm_id, now())
        tx.grouping = True
        tx.group_budget = budget
        tx.spawn_budget = spawn_budget
        tx.spawn_deadline = time.thread_time() + SPAWN_GROUP_SECONDS
        cached = self._rows_cache.pop(swarm_id, None)  # taken: no other transaction can use these objects
        if cached is not None and cached.seq == tx.state.seq:
            tx.adopt(cached)
        return tx

    def forget_rows(self) -> None:
        """Drop the kept nodes and chats (``CachedRows``): the next transactions read them from the store, as
        a freshly started process does. Rows edited behind the engine's back are seen only after this."""
        self._rows_cache.clear()

    def owner_and_config(self, swarm_id: str) -> tuple[str, str] | None:
        """The owner and config ids of a swarm (None if it does not exist): as this executor's transactions
        saw them, else read once. They never change, so the runner needs no query per batch of events."""
        known = self._owners.get(swarm_id)
        if known is None:
            with self.engine.db.raw_read() as conn:
                row = sql.swarm_row(conn, swarm_id)
            if row is None:
                return None
            known = self._remember_owner(swarm_id, str(row.owner_id), str(row.config_id))
        return known

    def _remember_owner(self, swarm_id: str, owner_id: str, config_id: str) -> tuple[str, str]:
        owners = self._owners
        known = owners[swarm_id] = (owner_id, config_id)
        if len(owners) > CACHED_SWARMS * 16:
            owners.pop(next(iter(owners)), None)
        return known

    def _keep_rows(self, tx: SwarmTx) -> None:
        """After ``tx`` committed: count what it ran (metrics), and keep the nodes and chats it holds for the
        next transaction on its swarm."""
        stats = self.engine.stats
        if tx.ran:
            stats.ran(tx.ran)
        for model, tokens_in, tokens_out, cost, seconds, error in tx.model_calls:
            stats.model_call(model, tokens_in=tokens_in, tokens_out=tokens_out, cost_usd=cost, seconds=seconds,
                             error=error)
        if tx.swarm_id not in self._owners:
            self._remember_owner(tx.swarm_id, tx.owner_id, tx.config_id)
        cached = tx.cacheable(CACHED_ROWS_PER_SWARM)
        if cached is None:
            return
        cache = self._rows_cache
        cache.pop(tx.swarm_id, None)
        cache[tx.swarm_id] = cached  # newest last: the oldest swarm goes first when the cache is full
        if len(cache) > CACHED_SWARMS:
            cache.pop(next(iter(cache)), None)

    def _drain(self, tx: SwarmTx, claim_tail: bool) -> ClaimedOp | None:
        """Run the operations ``tx`` kept back, oldest first, while its budget lasts (see ``_group``); each one
        counts in ``tx.grouped``. A spawn (only ever kept back for a node created or released in ``tx``, which
        no other operation can concern yet) counts in ``tx.spawn_budget`` instead while that lasts (and
        ``SPAWN_GROUP_SECONDS`` of CPU): the children of a fan-out start in the transaction that creates them,
        with no claim round trip. Model
        calls never run here: the first one of the leading node is written claimed by this worker
        (``claim_tail``) and returned, to run right after the commit; the others, and whatever is left past
        the budget, are written queued."""
        tail: ClaimedOp | None = None
        while (row := tx.take_inline()) is not None:
            kind = OperationKind(row["kind"])
            if kind is OperationKind.TOOL_CALL:  # runs outside any transaction, by a runner
                tx.enqueue_row(row)
                continue
            free = (kind is OperationKind.SPAWN and tx.spawns_grouped < tx.spawn_budget
                    and time.thread_time() < tx.spawn_deadline)
            if kind is OperationKind.LLM_CALL or not (free or tx.grouped - tx.spawns_grouped < tx.group_budget):
                if claim_tail and tail is None and row["node_id"] == tx.chain_node:
                    tail = self._claimed_row(tx, row)
                else:
                    tx.enqueue_row(row)
                continue
            nxt = ClaimedOp(id=0, swarm_id=tx.swarm_id, node_id=row["node_id"], kind=kind,
                            payload=row["payload"], attempts=1, claim="")
            try:
                self._dispatch(tx, nxt)
            except Exception as exc:
                raise _GroupedFailed(tx.grouped, tx.spawns_grouped) from exc
            tx.grouped += 1
            if free:
                tx.spawns_grouped += 1
            tx.ran.append(kind.value)
        return tail

    # ---- committing claimed operations together ---------------------------------------------------
    @tracing.in_callers_context
    async def _commit_together(self, op: ClaimedOp, fn: Callable[[SwarmTx, ClaimedOp], None]) -> list[Any]:
        """Run ``fn`` for the claimed ``op`` (its dispatch, or a model's answer) and commit it with the other
        operations that reach this point in the same turn of the event loop, in one transaction (see
        ``_commit_batch``): the runner starts a batch of claimed operations at once (a fan-out's children,
        say), and model answers arrive together. The result is what ``_in_tx`` would return."""
        loop = asyncio.get_running_loop()
        if self._together and self._together[0][2].get_loop() is not loop:
            self._together = []  # left by an event loop that stopped before committing them: nothing awaits them
        fut: asyncio.Future[list[Any]] = loop.create_future()
        self._together.append((op, fn, fut))
        if len(self._together) == 1:
            loop.call_soon(self._commit_batch)
        return await fut

    def _commit_batch(self) -> None:
        """One transaction for many operations (of any nodes and swarms) that came in together: a commit
        costs more than the work of one such operation. Each operation still runs its grouped operations; on
        any error the transaction is rolled back and each runs in its own transaction instead, where
        failures are isolated and recorded as usual."""
        batch, self._together = self._together, []
        results: list[list[Any]] | None = None
        if len(batch) > 1:
            try:
                results = self._run_batch([(op, fn) for op, fn, _ in batch])
            except Exception:
                log.debug("batched commit of %d operations rolled back; committing one by one", len(batch))
                for op, _, _ in batch:
                    op.grouped, op.chained = 0, None
                results = None
        for i, (op, fn, fut) in enumerate(batch):
            if fut.done():
                continue
            if results is not None:
                fut.set_result(results[i])
                continue
            try:
                fut.set_result(self._in_tx(op, fn))
            except Exception as exc:  # handed to the operation's task, which records it like any failure
                fut.set_exception(exc)

    def _run_batch(self, items: list[tuple[ClaimedOp, Callable[[SwarmTx, ClaimedOp], None]]]) -> list[list[Any]]:
        order = sorted(range(len(items)), key=lambda i: items[i][0].swarm_id)  # one lock order (PostgreSQL)
        results: list[list[Any]] = [[] for _ in items]
        with self.engine.db.raw_tx() as conn:
            txs: dict[str, SwarmTx] = {}
            for i in order:
                op, fn = items[i]
                tx = txs.get(op.swarm_id)
                if tx is None:
                    tx = txs[op.swarm_id] = self._grouping_tx(conn, op.swarm_id, self.group_limit,
                                                              self._spawn_limit(self.group_limit, None))
                tx.lead(op.node_id)
                start = len(tx.events)
                fn(tx, op)
                self._finish(tx, op, OperationStatus.DONE)
                op.chained = self._drain(tx, True)
                op.grouped, results[i] = tx.grouped, tx.events[start:]
                tx.grouped = tx.spawns_grouped = 0  # each leader's group has the whole budget
            for tx in txs.values():
                tx.flush()
            for op, _ in items:
                op.queued_work = txs[op.swarm_id].queued_work
        for tx in txs.values():
            self._keep_rows(tx)
        return results

    def _claimed_row(self, tx: SwarmTx, row: dict[str, Any]) -> ClaimedOp | None:
        """Write the node's next operation claimed by this worker, to run right after this transaction."""
        claimed = tx.insert_claimed(row)
        if claimed is None:
            return None
        node = tx.node(row["node_id"])
        return ClaimedOp(id=claimed, swarm_id=tx.swarm_id, node_id=row["node_id"], kind=OperationKind(row["kind"]),
                         payload=row["payload"], attempts=1, claim=row["claim"],
                         prefetched=(tx.config_id, node.lifecycle, node.continuation))

    def _finish(self, tx: SwarmTx, op: ClaimedOp, status: OperationStatus, error: str | None = None) -> None:
        if status is OperationStatus.DONE:  # pruned: its effects are in the history (migration 0008)
            done = sql.run(tx.conn, sql.DELETE_DONE_OPERATION, {"id": op.id, "claim": op.claim})
        else:
            done = sql.run(tx.conn, sql.FINISH_OPERATION, {"id": op.id, "claim": op.claim, "status": status.value,
                                                           "error": error})
        if done != 1:
            raise LostClaim()
        if status is OperationStatus.DONE:
            tx.ran.append(op.kind.value)

    # ---- dispatch ------------------------------------------------------------------------------
    @tracing.traced_operation
    def _dispatch(self, tx: SwarmTx, op: ClaimedOp) -> None:
        node = tx.node(op.node_id)
        if node.lifecycle in TERMINAL_LIFECYCLES:
            return  # cancelled or finished meanwhile: the operation is moot
        kind = op.kind
        if kind is OperationKind.SPAWN:
            if node.lifecycle is not Lifecycle.SPAWNED:
                return
            action = self.engine.registry.get_action(node.action_id)
            step = self.engine.registry.get_step(action.entry_step)
            self.run_step(tx, node.id, step.name, step.load_context(node.context_down), None)
        elif kind in (OperationKind.STEP, OperationKind.USER_REPLY):
            cont = node.continuation
            if cont is None or cont.token != op.payload.get("token") or cont.kind is not ContinuationKind.STEP:
                return  # stale
            step = self.engine.registry.get_step(cont.next_step)
            self.run_step(tx, node.id, step.name, step.load_context(cont.context),
                          step.load_result(cont.request.get("result")))
        elif kind is OperationKind.USER_PROMPT:
            self._user_prompt(tx, node, op)
        elif kind is OperationKind.TERMINATE:
            self._terminate(tx, node, op)
        elif kind is OperationKind.FAILURE:
            self.fail_node(tx, node.id, str(op.payload.get("reason", "failed")))
        else:  # pragma: no cover - LLM_CALL is handled before
            raise MalformedContinuation(f"unknown operation kind {kind}")

    def run_step(self, tx: SwarmTx, node_id: str, step_name: str, data: Any, result: Any) -> None:
        step = self.engine.registry.get_step(step_name)
        config = self.engine.config_for(tx.config_id, tx.owner_id)
        ctx = StepContext(tx, node_id, step_name, config, self.engine.services)
        if tx.node(node_id).lifecycle is not Lifecycle.RUNNING:
            ctx.changes["lifecycle"] = Lifecycle.RUNNING
        ctx.changes["continuation"] = None
        try:
            check_time(tx.state, config.limits, node_id, tx.now)
            step.fn(ctx, data, result)
        except LimitExceeded as exc:  # final for the swarm: never reviewed or re-planned
            self.breach(tx, node_id, str(exc))
            return
        if not ctx.continued:
            raise RuntimeError(f"step {step_name!r} returned without continuing, completing or failing the node")
        tx.update_node(node_id, **ctx.changes)
        node = tx.node(node_id)
        if node.lifecycle in TERMINAL_LIFECYCLES:
            self.after_terminal(tx, node)

    # ---- user prompt -----------------------------------------------------------------------------
    def _user_prompt(self, tx: SwarmTx, node: Node, op: ClaimedOp) -> None:
        cont = node.continuation
        if cont is None or cont.token != op.payload.get("token") or cont.kind is not ContinuationKind.USER:
            return
        if cont.request.get("posted"):
            return
        cited = [Attachment.model_validate(a) for a in cont.request.get("attachments", ())]
        msg = tx.post_message(node.chat_id, MessageRole.AGENT, str(cont.request["message"]), attachments=cited)
        chat = tx.chat(node.chat_id)
        tx.update_chat(chat.id, status=ChatStatus.AWAITING_USER, awaiting_since=tx.now)
        posted = new_continuation(cont.node_id, cont.kind, {**cont.request, "posted": True, "message_id": msg.id},
                                  cont.context, cont.next_step, cont.token, cont.created_at)
        tx.update_node(node.id, lifecycle=Lifecycle.WAITING_USER, continuation=posted)

    # ---- children ending -----------------------------------------------------------------------
    def _terminate(self, tx: SwarmTx, parent: Node, op: ClaimedOp) -> None:
        if parent.termination_policy != TerminationPolicy.ALL:  # every other policy decides in engine/policies.py
            apply_policy(self, tx, parent, op.payload.get("child_id"))
            return
        cont = parent.continuation
        if cont is None or cont.kind is not ContinuationKind.CHILDREN:
            return
        # under "all", every queued child-ended notice asks the same question (are all children done?),
        # so this check answers them all: fan-in costs a few operations, not one per child
        sql.run(tx.conn, sql.ABSORB_TERMINATES, {"sid": tx.swarm_id, "nid": parent.id})
        tx.absorb_inline(OperationKind.TERMINATE, parent.id)
        if tx.has_live_children(parent):
            return
        step = self.engine.registry.get_step(cont.next_step)
        ctx = StepContext(tx, parent.id, step.name, self.engine.config_for(tx.config_id, tx.owner_id),
                          self.engine.services)
        result = ChildrenResult(children=ctx.children_outcomes())
        self.run_step(tx, parent.id, step.name, step.load_context(cont.context), result)

    def cancel_children(self, tx: SwarmTx, parent: Node, reason: str) -> None:
        for child in tx.children(parent):
            cid = child.id
            if child.lifecycle in TERMINAL_LIFECYCLES:
                continue
            self.cancel_children(tx, child, reason)
            self.close_chat(tx, child)
            tx.update_node(cid, lifecycle=Lifecycle.CANCELLED, failure_reason=reason, continuation=None)

    def close_chat(self, tx: SwarmTx, node: Node) -> None:
        chat = tx.chat(node.chat_id)
        if chat.status is ChatStatus.AWAITING_USER:
            tx.update_chat(chat.id, status=ChatStatus.CLOSED, awaiting_since=None)

    def fail_node(self, tx: SwarmTx, node_id: str, reason: str) -> None:
        node = tx.node(node_id)
        if node.lifecycle in TERMINAL_LIFECYCLES:
            return
        self.cancel_children(tx, node, f"parent {node_id} failed")
        self.close_chat(tx, node)
        tx.journal(node_id, "failure", f"Failed: {reason}")
        tx.update_node(node_id, lifecycle=Lifecycle.FAILED, failure_reason=reason, continuation=None)
        self.after_terminal(tx, tx.node(node_id))

    def breach(self, tx: SwarmTx, node_id: str, reason: str) -> None:
        """A final limit was reached at ``node_id``: that node fails, every other live node of the swarm is
        cancelled, pending operations are dropped, and the swarm fails with ``reason``. Nobody reviews it."""
        node = tx.node(node_id)
        tx.journal(node_id, "limit", f"Stopped: {reason}")
        if node.lifecycle not in TERMINAL_LIFECYCLES:
            self.close_chat(tx, node)
            tx.update_node(node_id, lifecycle=Lifecycle.FAILED, failure_reason=reason, continuation=None)
        self.end_swarm(tx, reason)

    def end_swarm(self, tx: SwarmTx, reason: str) -> None:
        """Fail the swarm with ``reason``: cancel every live node, drop every pending operation."""
        tx.flush(swarm_row=False)  # the live-node query must see this transaction's changes
        for row in sql.fetch(tx.conn, sql.LIVE_NODES, {"sid": tx.swarm_id}):
            live = tx.node(row.id)
            if live.lifecycle in TERMINAL_LIFECYCLES:
                continue
            self.close_chat(tx, live)
            tx.update_node(live.id, lifecycle=Lifecycle.CANCELLED, failure_reason=f"swarm stopped: {reason}",
                           continuation=None)
        sql.run(tx.conn, sql.DROP_PENDING, {"sid": tx.swarm_id, "why": f"dropped: {reason}"[:4000]})
        tx.inline.clear()
        tx.set_status(SwarmStatus.FAILED, reason)

    def after_terminal(self, tx: SwarmTx, node: Node) -> None:
        """Tell the parent, or end the swarm when the root ends."""
        if node.needed_by:  # siblings waiting for this node start (or are cancelled) in this same transaction
            release_dependents(tx, node)
        if node.parent_id is not None:
            tx.enqueue(OperationKind.TERMINATE, node.parent_id, attempt_key("terminate", node), {"child_id": node.id})
            return
        if node.lifecycle is Lifecycle.DONE:
            tx.set_status(SwarmStatus.COMPLETED)
        else:
            tx.set_status(SwarmStatus.FAILED, node.failure_reason or "the root node failed")

    # ---- LLM calls -----------------------------------------------------------------------------
    @tracing.traced_async_operation
    async def _llm_call(self, op: ClaimedOp) -> list[Any]:
        known = op.prefetched or self._read_for_llm_call(op)
        if known is None:
            return self._in_tx(op, lambda tx, o: None)
        config_id, lifecycle, cont = known
        if (lifecycle in TERMINAL_LIFECYCLES or cont is None or cont.kind is not ContinuationKind.LLM
                or cont.token != op.payload.get("token")):
            return self._in_tx(op, lambda tx, o: None)  # moot (a stale token commits nothing but the finish)
        node_id = op.node_id
        # a turn of a tool-using loop resumes the loop's step; the model's final answer is ``output_step``'s
        step = self.engine.registry.get_step(cont.request.get("output_step") or cont.next_step)
        if step.result is None:
            raise MalformedContinuation(f"step {step.name!r} has no result model")
        ref = cont.request.get(payloads.REF)
        request = LLMRequest.model_validate(cont.request["llm"] if ref is None else  # "llm": before migration 0008
                                            self.engine.requests.fetch(self.engine.db, op.swarm_id, ref))
        owner = self.owner_and_config(op.swarm_id)
        if owner is None:
            return self._in_tx(op, lambda tx, o: None)  # the swarm was deleted meanwhile
        if request.images:
            request = request.model_copy(update={"image_data": self._image_data(op.swarm_id, request.images)})
        config = self.engine.config_for(config_id, owner[0])
        client = self.engine.llm_for(config)
        started = time.perf_counter()
        try:
            response = await client.complete(request, step.result)
        except TransientLLMError as exc:
            if op.attempts < MAX_TRANSIENT_ATTEMPTS:
                return self._retry_later(op, exc)
            return self._llm_failed(op, node_id, request, ref, client.model, exc, started, config)
        except LLMError as exc:
            return self._llm_failed(op, node_id, request, ref, client.model, exc, started, config)

        def commit(tx: SwarmTx, o: ClaimedOp) -> None:
            n = tx.node(node_id)
            c = n.continuation
            result = response.parsed if request.tools is None else loop_turn(response)
            logged = {"tool_calls": response.tool_calls} if response.tool_calls else response.parsed
            self._record_llm_call(tx, n, step.name, request, response.model, request_ref=ref,
                                  raw=response.raw_output, parsed=logged, tokens_in=response.tokens_in,
                                  tokens_out=response.tokens_out, latency_ms=response.latency_ms,
                                  cost_usd=self._cost(config, response.tokens_in, response.tokens_out,
                                                      response.cost_usd),
                                  attempts=response.attempts, error=None)
            if c is None or c.token != cont.token:
                return  # the node was cancelled or moved on meanwhile: the call is recorded (it was paid), no more
            token = f"{n.id}@{tx.state.seq + 1}"
            resumed = c.model_copy(update={"kind": ContinuationKind.STEP, "token": token,
                                           "request": {"result": result}})
            tx.update_node(n.id, lifecycle=Lifecycle.RUNNING, continuation=resumed)
            tx.enqueue(OperationKind.STEP, n.id, f"step:{token}", {"token": token})

        return await self._commit_together(op, commit)

    @staticmethod
    def _cost(config: SwarmConfig, tokens_in: int, tokens_out: int, reported: float) -> float:
        """A call's cost: at the config's own price if it gives one, else as the client reported it, else at
        the table's price for the config's model (see ``price_of``)."""
        llm = config.llm
        if reported and (llm.price_in_per_mtok is None or llm.price_out_per_mtok is None):
            return reported
        price = price_of(llm)
        return reported if price is None else price_cost(price, tokens_in, tokens_out)

    def _image_data(self, swarm_id: str, images: list[Attachment]) -> list[str]:
        """The images a model call receives, as data URLs, read from the versions attached (one that is gone
        is left out: the prompt names it anyway)."""
        from .attachments import data_url
        from .memory import LATEST, committed_file

        out: list[str] = []
        with self.engine.db.raw_read() as conn:
            found = [committed_file(conn, swarm_id, a.path, a.seq if a.seq is not None else LATEST)
                     for a in images]
        for a, stored in zip(images, found, strict=True):
            if stored is None:
                continue
            try:
                out.append(data_url(stored.file.content_type, self.engine.blobs.get(stored.blob_key)))
            except KeyError:
                log.warning("attached image %s of swarm %s has no bytes", a.path, swarm_id)
        return out

    def _read_for_llm_call(self, op: ClaimedOp) -> Prefetched | None:
        with self.engine.db.raw_read() as conn:
            return read_for_llm_call(conn, op.swarm_id, op.node_id)

    def _retry_later(self, op: ClaimedOp, exc: Exception) -> list[Any]:
        delay = retry_delay(op.attempts)
        with self.engine.db.tx() as conn:
            res = conn.execute(update(t.operations).where(t.operations.c.id == op.id,
                                                          t.operations.c.claim == op.claim)
                               .values(status=OperationStatus.QUEUED.value, claim=None, lease_until=None,
                                       not_before=time.time() + delay, error=f"retrying: {exc}"))
            if res.rowcount != 1:
                raise LostClaim()
        log.info("operation %s transient failure (%s); retry in %.1fs", op.id, exc, delay)
        op.queued_work = True
        return []

    def _llm_failed(self, op: ClaimedOp, node_id: str, request: LLMRequest, ref: str | None, model: str,
                    exc: LLMError, started: float, config: SwarmConfig) -> list[Any]:
        def commit(tx: SwarmTx, o: ClaimedOp) -> None:
            n = tx.node(node_id)
            step = n.continuation.next_step if n.continuation else "llm"
            self._record_llm_call(tx, n, step, request, model, request_ref=ref, raw=exc.raw_output, parsed=None,
                                  tokens_in=exc.tokens_in, tokens_out=exc.tokens_out,
                                  latency_ms=(time.perf_counter() - started) * 1000,
                                  cost_usd=self._cost(config, exc.tokens_in, exc.tokens_out, 0.0),
                                  attempts=exc.attempts, error=str(exc))
            self.fail_node(tx, n.id, f"model call failed: {exc}")

        return self._in_tx(op, commit)

    def _record_llm_call(self, tx: SwarmTx, node: Node, step: str, request: LLMRequest, model: str, *,
                         raw: str | None, parsed: Any, tokens_in: int, tokens_out: int, latency_ms: float,
                         cost_usd: float, attempts: int, error: str | None, request_ref: str | None = None) -> None:
        call_id = f"{node.id}.llm{tx.state.seq + 1}"
        body = payloads.call_body(request_ref, [m.model_dump(exclude_none=True) for m in request.messages], raw,
                                  parsed)
        encoded = sql.to_json(body)
        blob_key = None
        if len(encoded) > self.engine.requests.inline_bytes:
            blob_key = payloads.body_blob_key(tx.owner_id, tx.swarm_id, call_id)
            self.engine.blobs.put(blob_key, encoded.encode())
        sql.run(tx.conn, sql.INSERT_LLM_CALL, {
            "swarm_id": tx.swarm_id, "id": call_id, "node_id": node.id, "step": step, "model": model,
            "body": encoded if blob_key is None else None, "blob_key": blob_key, "tokens_in": tokens_in,
            "tokens_out": tokens_out, "latency_ms": latency_ms, "cost_usd": cost_usd, "attempts": attempts,
            "error": error, "created_at": tx.now.timestamp(), "seq": tx.state.seq + 1})  # the event's, below
        if model != "-":  # "-": a step's own error, recorded in the developer log, not a model call
            tx.model_calls.append((model, tokens_in, tokens_out, cost_usd, latency_ms / 1000, error is not None))
        tx.emit(EventType.LLM_CALL, node.id, {"id": call_id, "step": step, "model": model,
                                              "tokens_in": tokens_in, "tokens_out": tokens_out,
                                              "cost_usd": cost_usd, "latency_ms": round(latency_ms, 3),
                                              "error": error})

    # ---- failures ------------------------------------------------------------------------------
    def _record_failure(self, op: ClaimedOp, exc: Exception) -> list[Any]:
        expected = isinstance(exc, SwarmError)
        detail = str(exc) if expected else "".join(traceback.format_exception(exc))
        if not expected:
            log.exception("operation %s (%s on %s) failed", op.id, op.kind.value, op.node_id)
        try:
            with self.engine.db.tx() as conn:
                tx = SwarmTx(conn, op.swarm_id, now())
                try:
                    node = tx.node(op.node_id)
                except NotFound:
                    node = None
                if node is not None:
                    req = LLMRequest(purpose="step-error", messages=[], output_schema={})
                    step = node.continuation.next_step if node.continuation else op.kind.value
                    reason = failure_sentence(exc, step)
                    self._record_llm_call(tx, node, step, req, "-", raw=detail, parsed=None, tokens_in=0,
                                          tokens_out=0, latency_ms=0.0, cost_usd=0.0, attempts=op.attempts,
                                          error=reason)
                    tx.enqueue(OperationKind.FAILURE, node.id, f"failure:{op.id}", {"reason": reason})
                tx.flush()
                self._finish(tx, op, OperationStatus.FAILED, detail[-4000:])
            self.engine.stats.failed(op.kind.value)
            op.queued_work = True
            return tx.events
        except LostClaim:
            return []
        except NotFound:
            return []
