"""Grouping and group commit: one transaction carries as many operations as it safely can.

- *A node's chain*: the operations an operation queues for its own node run right after it, in the same
  transaction and ``SwarmTx``, from memory (up to ``GROUP_COMMIT_MAX``); so do the spawns of nodes created in
  the transaction (up to ``SPAWN_GROUP_MAX`` and ``SPAWN_GROUP_SECONDS``).
- *Operations claimed together*: whatever reaches the commit in the same turn of the event loop commits in one
  transaction, each operation followed by its own chain.

Everything a group changed is written once, at its end. A grouped operation that fails rolls the group back,
which runs again stopping before it, so it runs (and fails, recorded) on its own. See docs/architecture.md,
"Group commit".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .. import tracing
from ..schemas import Continuation, OperationKind, OperationStatus, SwarmStatus
from ..store import sql
from ..store.database import Database, PendingCommit, RawConnection
from .claimed import UNWRITTEN, ClaimedOp, Executed, LostClaim, Prefetched, PriorCommitFailed, now
from .dispatch import Dispatcher
from .gcpause import gc_paused
from .rowcache import RowCache
from .stats import EngineStats
from .tx import SwarmTx

log = logging.getLogger("aga_swarm.engine")
T = TypeVar("T")

GROUP_COMMIT_MAX = 32  # operations run in the transaction of the operation that queued them (``GroupCommit``)
# spawns of nodes created (or released) in a transaction that run in it beyond GROUP_COMMIT_MAX: a fan-out's
# children start in the transaction that creates them, which a crash loses (and re-runs) whole anyway
SPAWN_GROUP_MAX = 4096
# ... and while the transaction has used less CPU than this (its own thread's time): entry steps can be costly
# (a prompt to render), and a long transaction holds SQLite's write lock and is lost whole in a crash
SPAWN_GROUP_SECONDS = 0.25
SPAWN_CLOCK_EVERY = 16  # ... read every this many spawns (a thread's CPU clock is a system call: ~1 µs on a VM)
# PostgreSQL: how long a swarm found written by another process while a transaction of ours ran is locked from
# the start of each transaction (``GroupCommit._contend``), rather than only around the writes
CONTENDED_SECONDS = 5.0

OpFn = Callable[[SwarmTx, ClaimedOp], None]
"""What a claimed operation does in its transaction (its dispatch, or a model's answer)."""


_KINDS = {kind.value: kind for kind in OperationKind}


# Enum members read on the hot path, as module constants: on Python 3.11 ``EnumType`` defines ``__getattr__``,
# which puts every ``Kind.MEMBER`` read on a slow path (~0.2 µs; ``member.value`` is a descriptor written in
# Python, hence ``_value_``), and a fan-out reads a dozen per child (bench/RESULTS.md, "Fan-out, third pass").
_SPAWN, _LLM_CALL, _TOOL_CALL = OperationKind.SPAWN, OperationKind.LLM_CALL, OperationKind.TOOL_CALL
_AWAITS_IO = frozenset({_LLM_CALL, _TOOL_CALL})

class _GroupedFailed(Exception):
    """A grouped operation failed after ``completed`` others of its group succeeded (see ``_group``)."""

    def __init__(self, completed: int, spawns: int = 0) -> None:
        super().__init__(completed)
        self.completed = completed  # operations run inline before the failing one
        self.spawns = spawns  # how many of them were spawns counted in the spawn budget (``drain``)


class GroupCommit:
    def __init__(self, db: Database, dispatcher: Dispatcher, rows: RowCache, stats: EngineStats) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.rows = rows
        self.stats = stats
        self.group_limit = GROUP_COMMIT_MAX  # 0: every operation in a transaction of its own
        # PostgreSQL: the swarm row is locked only around a transaction's writes (``SwarmTx``'s ``optimistic``);
        # SQLite's transactions hold its one write lock from their start anyway
        self.optimistic = not db.is_sqlite
        # swarms another process (or thread) wrote while a transaction of ours ran, until when (``time.monotonic``):
        # their transactions lock the row from the start meanwhile, as waiting on the lock costs less than
        # running again (several workers on one swarm)
        self._contended: dict[str, float] = {}
        self._together: list[tuple[ClaimedOp, OpFn, asyncio.Future[list[Executed]]]] = []

    # ---- one operation, or a change from outside the queue --------------------------------------
    def in_tx(self, op: ClaimedOp, fn: OpFn) -> Executed:
        """Run the claimed ``op`` (``fn``) and the operations of its node that it chains (see ``_group``)."""
        def leader(tx: SwarmTx) -> None:
            self.take(tx, op)
            fn(tx, op)
            self.finish(tx, op, OperationStatus.DONE)

        _, tx, chained = self._group(op.swarm_id, op.node_id, leader, claim_tail=True, after=op.after,
                                     may_defer=op.defer)
        return Executed(tx.events, chained, tx.grouped, tx.queued_work)

    def transact(self, swarm_id: str, fn: Callable[[SwarmTx], T], *,
                 claim_tail: bool = False) -> tuple[T, SwarmTx, ClaimedOp | None]:
        """A change from outside the queue (a user's reply) in one transaction, together with the operations
        it queues for the node it names as ``tx.chain_node``, run at once (see ``_group``): a reply resumes
        its node in the reply's own transaction, and the node's next message commits with it. Operations
        left over (a model call, say) are queued for the runner, except that with ``claim_tail`` the node's
        model call is claimed and returned, for the caller to hand to a running runner. That model call is not
        written (``UNWRITTEN``): the node's ``llm`` continuation, committed here, is its record; it becomes a row
        only if it does not end done (``materialize``), and if this process dies first, recovery re-derives it
        (``Runner.recover``). Returns ``fn``'s result, the committed ``SwarmTx`` (its events, its swarm) and that
        claimed operation."""
        return self._group(swarm_id, None, fn, claim_tail=claim_tail, unwritten=claim_tail)

    def resume_now(self, tx: SwarmTx, node_id: str, cont: Continuation, result: dict[str, Any]) -> bool:
        """Run the step a reply resumes right here, in the reply's transaction, when it may run now (the
        swarm runs, the group has room, no older operation of the node waits); else return False, and the
        caller queues a ``user_reply`` operation. A step that fails sends the group back to run without it
        (``_GroupedFailed``), so the reply commits and the operation then fails on its own, recorded."""
        if not (tx.grouped - tx.spawns_grouped < tx.group_budget and tx.state.status is SwarmStatus.RUNNING
                and tx.may_run_inline(node_id)):
            return False
        step = self.dispatcher.registry.get_step(cont.next_step)
        try:
            self.dispatcher.run_step(tx, node_id, step.name, step.load_context(cont.context),
                                     step.load_result(result))
        except Exception as exc:
            raise _GroupedFailed(tx.grouped, tx.spawns_grouped) from exc
        tx.grouped += 1
        tx.ran.append(OperationKind.USER_REPLY.value)
        return True

    def _group(self, swarm_id: str, node_id: str | None, leader: Callable[[SwarmTx], T], *, claim_tail: bool,
               group_limit: int | None = None, spawn_limit: int | None = None,
               unwritten: bool = False, after: PendingCommit | None = None,
               may_defer: bool = False) -> tuple[T, SwarmTx, ClaimedOp | None]:
        """Run ``leader`` in one transaction, then, in the same transaction and ``SwarmTx``, up to
        ``group_limit`` of the operations it queued that may run there (see ``SwarmTx.enqueue``): the next
        operations of its own node (``node_id``, or the node ``leader`` names as ``tx.chain_node``) and those
        of nodes it created (a new child's spawn). They run from memory and never become rows, because they
        commit with the operation that queued them, and everything the group changed is written once, at its
        end. If a grouped operation fails, the transaction is rolled back and the group runs again, stopping
        before it, so it runs (and fails, recorded) on its own. A crash before the commit loses the whole
        group, which then runs again from its start. The spawns of nodes created in the transaction do not
        count in ``group_limit`` but in ``spawn_limit`` (``SPAWN_GROUP_MAX``).

        PostgreSQL, a chain (``may_defer``): when the group chains its node's next operation (one that awaits
        no network), its ``COMMIT`` is sent and not waited for (``PendingCommit``, kept as the chained
        operation's ``after``): the next group's steps run while the server commits this one, and the next
        group's transaction confirms it (``after``) before its own commit, or raises ``PriorCommitFailed``.
        Nothing this group did is reported before then (``Runner._run_one`` holds its events)."""
        limit = self.group_limit if group_limit is None else group_limit
        optimistic = self._optimistic_on(swarm_id)
        tail: ClaimedOp | None = None
        while True:
            ctx = self.db.raw_tx()
            try:
                with gc_paused(), ctx as conn:
                    tx = self._grouping_tx(conn, swarm_id, limit, self._spawn_limit(limit, spawn_limit), optimistic)
                    tx.lead(node_id)
                    result = leader(tx)
                    tail = self.drain(tx, claim_tail, unwritten=unwritten)
                    tx.flush()
                    if after is not None:  # the transaction before this one first: its outcome is this one's start
                        self.confirm(after)
                        after = None
                    if (may_defer and tail is not None and tail.kind not in _AWAITS_IO and tx.pending_claims
                            and isinstance(conn, RawConnection)):
                        conn.defer_commit = True
            except Exception as exc:
                if isinstance(exc, PriorCommitFailed):
                    raise
                if after is not None:
                    self.confirm(after)  # PriorCommitFailed if the failure came from there
                    after = None
                if sql.is_lost_claim(exc):  # the leading operation's end, checked at the commit (``finish``)
                    raise LostClaim() from exc
                if isinstance(exc, _GroupedFailed) and not sql.is_stale(exc):
                    return self._group(swarm_id, node_id, leader, claim_tail=claim_tail,
                                       group_limit=exc.completed - exc.spawns, spawn_limit=exc.spawns,
                                       unwritten=unwritten, may_defer=may_defer)
                if not optimistic:
                    raise
                # the swarm row changed since it was read (or the transaction failed for another reason, which
                # may come from a stale read too): run it again from a fresh read, under the row's lock from
                # its start, as every transaction did before (it fails the same way if the failure was real)
                if sql.is_stale(exc):
                    self.stats.stale_retries += 1
                    self._contend(swarm_id)
                optimistic = False
                continue
            break
        pending = getattr(ctx, "pending", None)
        if pending is not None:
            assert tail is not None
            pending.payload = tx
            tail.after = pending
        elif tx.pending_claims and id(tail) in self._unwritten_claims(tx):
            tail = None
        self._committed(tx)
        return result, tx, tail

    def confirm(self, pending: PendingCommit) -> None:
        """Wait for a commit sent ahead (``_group``) and read what it returned (the chained operation's id);
        ``PriorCommitFailed`` if it failed. Once done, later calls return at once."""
        done = pending.done
        tx = pending.payload
        try:
            pending.wait()  # once done, returns at once or raises the same error again
        except Exception as exc:
            if not done and sql.is_stale(exc) and isinstance(tx, SwarmTx):  # as ``_group`` counts its own
                self.stats.stale_retries += 1
                self._contend(tx.swarm_id)
            raise PriorCommitFailed() from exc
        if done:
            return
        if isinstance(tx, SwarmTx) and tx.pending_claims:
            self._unwritten_claims(tx)  # an operation not written fails its own transaction (``finish``)

    def _optimistic_on(self, swarm_id: str) -> bool:
        """Whether a transaction on ``swarm_id`` reads its row without the lock (``SwarmTx``'s ``optimistic``): on
        PostgreSQL, unless the swarm was found written by someone else in the last ``CONTENDED_SECONDS``."""
        if not self.optimistic:
            return False
        until = self._contended.get(swarm_id)
        if until is None:
            return True
        if time.monotonic() < until:
            return False
        self._contended.pop(swarm_id, None)
        return True

    def _contend(self, swarm_id: str) -> None:
        contended = self._contended
        contended.pop(swarm_id, None)
        contended[swarm_id] = time.monotonic() + CONTENDED_SECONDS
        if len(contended) > 4096:  # the oldest first
            contended.pop(next(iter(contended)), None)

    def _spawn_limit(self, group_limit: int, spawn_limit: int | None) -> int:
        """How many new nodes' spawns may run in a transaction besides ``group_limit`` other operations: none
        without group commit (``group_limit`` 0 on a ``GroupCommit`` whose own limit is 0)."""
        if spawn_limit is not None:
            return spawn_limit
        return SPAWN_GROUP_MAX if self.group_limit > 0 else 0

    def _grouping_tx(self, conn: Any, swarm_id: str, budget: int, spawn_budget: int,
                     optimistic: bool = False) -> SwarmTx:
        """A ``SwarmTx`` that keeps back the operations it may run itself, up to ``budget`` (``drain``) and
        ``spawn_budget`` spawns of new nodes, and starts from the nodes and chats the last committed
        transaction on this swarm left, if still current. ``optimistic`` (PostgreSQL): the swarm row is not
        locked until the first write, and is not even read when that transaction left it (the commit checks
        it is still current: ``SwarmTx``)."""
        tx = SwarmTx.from_cache(self.rows, conn, swarm_id, now(), optimistic=optimistic)
        tx.grouping = True
        tx.group_budget = budget
        tx.spawn_budget = spawn_budget
        return tx

    def _committed(self, tx: SwarmTx) -> None:
        """After ``tx`` committed: count what it ran (metrics), and keep the nodes and chats it holds for the
        next transaction on its swarm."""
        stats = self.stats
        if tx.ran:
            stats.ran(tx.ran)
        for call in tx.model_calls:
            stats.model_call(call.model, tokens_in=call.tokens_in, tokens_out=call.tokens_out,
                             cost_usd=call.cost_usd, seconds=call.seconds, error=call.error)
        tx.leave_to(self.rows)

    def drain(self, tx: SwarmTx, claim_tail: bool, *, unwritten: bool = False) -> ClaimedOp | None:
        """Run the operations ``tx`` kept back, oldest first, while its budget lasts (see ``_group``); each one
        counts in ``tx.grouped``. A spawn (only ever kept back for a node created or released in ``tx``, which
        no other operation can concern yet) counts in ``tx.spawn_budget`` instead while that lasts (and
        ``SPAWN_GROUP_SECONDS`` of CPU): the children of a fan-out start in the transaction that creates them,
        with no claim round trip. Model calls never run here: the first one of the leading node is written
        claimed by this worker (``claim_tail``) and returned, to run right after the commit; the others, and
        whatever is left past the budget, are written queued."""
        tail: ClaimedOp | None = None
        run = self.dispatcher.run
        in_time = True
        while (row := tx.take_inline()) is not None:
            payload: dict[str, Any]
            if isinstance(row, str):  # a new node's spawn, kept back as its id (``SwarmTx.enqueue_spawn``)
                node_id, kind, payload = row, _SPAWN, {}
            else:
                node_id, kind, payload = row["node_id"], _KINDS[row["kind"]], row["payload"]
                if kind is _TOOL_CALL:  # runs outside any transaction, by a runner
                    tx.enqueue_row(row)
                    continue
            free = kind is _SPAWN and tx.spawns_grouped < tx.spawn_budget
            if free:
                if tx.spawns_grouped % SPAWN_CLOCK_EVERY == 0:
                    if not tx.spawn_deadline:  # read at the first spawn: most groups run none (a system call)
                        tx.spawn_deadline = time.thread_time() + SPAWN_GROUP_SECONDS
                    in_time = time.thread_time() < tx.spawn_deadline
                free = in_time
            if kind is _LLM_CALL or not (free or tx.grouped - tx.spawns_grouped < tx.group_budget):
                if isinstance(row, str):
                    row = tx.spawn_row(row)
                if claim_tail and tail is None and node_id == tx.chain_node:
                    tail = self._unwritten(tx, row) if unwritten and kind is _LLM_CALL else self._claimed_row(tx, row)
                else:
                    tx.enqueue_row(row)
                continue
            try:
                if tracing.ON:  # a span of its own, as a claimed operation gets
                    self.dispatcher.dispatch(tx, ClaimedOp(id=0, swarm_id=tx.swarm_id, node_id=node_id,
                                                           kind=kind, payload=payload, attempts=1, claim=""))
                else:
                    run(tx, node_id, kind, payload)
            except Exception as exc:
                raise _GroupedFailed(tx.grouped, tx.spawns_grouped) from exc
            tx.grouped += 1
            if free:
                tx.spawns_grouped += 1
            tx.ran.append(kind._value_)
        return tail

    # ---- claimed operations committed together ---------------------------------------------------
    @tracing.in_callers_context
    async def commit_together(self, op: ClaimedOp, fn: OpFn) -> Executed:
        """Run ``fn`` for the claimed ``op`` (its dispatch, or a model's answer) and commit it with the other
        operations that reach this point in the same turn of the event loop, in one transaction (see
        ``_commit_batch``): the runner starts a batch of claimed operations at once (a fan-out's children,
        say), and model answers arrive together. The result is what ``in_tx`` would return."""
        loop = asyncio.get_running_loop()
        if self._together and self._together[0][2].get_loop() is not loop:
            self._together = []  # left by an event loop that stopped before committing them: nothing awaits them
        fut: asyncio.Future[list[Executed]] = loop.create_future()
        self._together.append((op, fn, fut))
        if len(self._together) == 1:
            loop.call_soon(self._commit_batch)
        # the result comes in a box emptied here: the event loop's handle that resumes this task still holds the
        # future, and a result left in it would keep the whole group's events alive past the runner's
        # ``gc_paused`` (its collector would then scan them all once for nothing)
        return (await fut).pop()

    def _commit_batch(self) -> None:
        """One transaction for many operations (of any nodes and swarms) that came in together: a commit
        costs more than the work of one such operation. Each operation still runs its grouped operations; on
        any error the transaction is rolled back and each runs in its own transaction instead, where
        failures are isolated and recorded as usual."""
        batch, self._together = self._together, []
        results: list[Executed] | None = None
        if len(batch) > 1:
            for op, _, fut in batch:  # chained after a commit sent ahead (``_group``): confirmed before batching
                if op.after is not None:
                    try:
                        self.confirm(op.after)
                    except PriorCommitFailed as exc:
                        fut.set_exception(exc)
            batch = [item for item in batch if not item[2].done()]
        if len(batch) > 1:
            try:
                results = self._run_batch([(op, fn) for op, fn, _ in batch])
            except Exception:
                log.debug("batched commit of %d operations rolled back; committing one by one", len(batch))
                results = None
        for i, (op, fn, fut) in enumerate(batch):
            if fut.done():
                continue
            if results is not None:
                fut.set_result([results[i]])
                continue
            try:
                fut.set_result([self.in_tx(op, fn)])
            except Exception as exc:  # handed to the operation's task, which records it like any failure
                fut.set_exception(exc)

    def _run_batch(self, items: list[tuple[ClaimedOp, OpFn]]) -> list[Executed]:
        order = sorted(range(len(items)), key=lambda i: items[i][0].swarm_id)  # one lock order (PostgreSQL)
        ran: list[tuple[list[Any], ClaimedOp | None, int]] = [([], None, 0) for _ in items]
        with gc_paused(), self.db.raw_tx() as conn:
            txs: dict[str, SwarmTx] = {}
            for i in order:
                op, fn = items[i]
                tx = txs.get(op.swarm_id)
                if tx is None:  # in swarm id order: so are the locks (``sql.send_guards``)
                    tx = txs[op.swarm_id] = self._grouping_tx(conn, op.swarm_id, self.group_limit,
                                                              self._spawn_limit(self.group_limit, None),
                                                              self._optimistic_on(op.swarm_id))
                tx.lead(op.node_id)
                start = len(tx.events)
                self.take(tx, op)
                fn(tx, op)
                self.finish(tx, op, OperationStatus.DONE)
                chained = self.drain(tx, True)
                tx.settle()  # its nodes' change events, before its events are taken
                ran[i] = (tx.events[start:], chained, tx.grouped)
                tx.grouped = tx.spawns_grouped = 0  # each leader's group has the whole budget
            for tx in txs.values():
                tx.flush()
        gone: set[int] = set()
        for tx in txs.values():
            if tx.pending_claims:
                gone |= self._unwritten_claims(tx)
            self._committed(tx)
        return [Executed(events, None if id(chained) in gone else chained, grouped, txs[op.swarm_id].queued_work)
                for (events, chained, grouped), (op, _) in zip(ran, items, strict=True)]

    @staticmethod
    def _unwritten(tx: SwarmTx, row: dict[str, Any]) -> ClaimedOp:
        """The node's model call, to run right after this transaction, with no row (see ``transact``)."""
        node = tx.node(row["node_id"])
        return ClaimedOp(id=UNWRITTEN, swarm_id=tx.swarm_id, node_id=row["node_id"], kind=_LLM_CALL,
                         payload=row["payload"], attempts=1, claim="", row=row,
                         prefetched=Prefetched(tx.config_id, node.lifecycle, node.continuation))

    @staticmethod
    def materialize(tx: SwarmTx, op: ClaimedOp) -> None:
        """Write an ``UNWRITTEN`` operation's row, claimed by this worker, in ``tx``, so that what does not end it
        done (a failure, a retry later) is recorded as for any other; ``LostClaim`` if its key is taken already
        (recovery re-derived it meanwhile: another worker runs it)."""
        if op.id != UNWRITTEN:
            return
        assert op.row is not None
        row = dict(op.row)
        claimed = tx.insert_claimed(row)
        if claimed is None:
            raise LostClaim()
        op.id, op.claim, op.row = claimed, str(row["claim"]), None

    def _claimed_row(self, tx: SwarmTx, row: dict[str, Any]) -> ClaimedOp | None:
        """Write the node's next operation claimed by this worker, to run right after this transaction. In a
        pipelined PostgreSQL transaction its id is read after the commit (``_unwritten_claims``): no round trip."""
        conn = tx.conn
        pending = None
        claimed = 0  # its id, read after the commit
        if isinstance(conn, RawConnection) and conn.pipeline is not None:
            pending = tx.send_claimed(row)
        else:
            written = tx.insert_claimed(row)
            if written is None:
                return None
            claimed = written
        node = tx.node(row["node_id"])
        op = ClaimedOp(id=claimed, swarm_id=tx.swarm_id, node_id=row["node_id"], kind=OperationKind(row["kind"]),
                       payload=row["payload"], attempts=1, claim=row["claim"],
                       prefetched=Prefetched(tx.config_id, node.lifecycle, node.continuation),
                       idem_key=row["idem_key"])
        if pending is not None:
            tx.pending_claims.append((op, pending))
        return op

    @staticmethod
    def _unwritten_claims(tx: SwarmTx) -> set[int]:
        """After ``tx`` committed: read the ids of the operations ``_claimed_row`` wrote claimed without waiting,
        and return those (``id()`` of the ``ClaimedOp``) that were not written (their key existed already)."""
        gone: set[int] = set()
        for op, cur in tx.pending_claims:
            found = sql.returned(cur)
            if found is None:
                gone.add(id(op))
            else:
                op.id = int(found.id)
        tx.pending_claims = []
        return gone

    @staticmethod
    def take(tx: SwarmTx, op: ClaimedOp) -> None:
        """Before a reserved ``op`` runs in ``tx``: delete its row if still queued (else ``LostClaim``: another
        worker ran it, a pause held it, a notice was absorbed), so nothing runs it twice and, in the same
        transaction, its effects and its end commit together. Nothing for a claimed one (``finish``)."""
        if not op.reserved:
            return
        conn, params = tx.conn, {"id": op.id, "sid": op.swarm_id, "key": op.idem_key}
        if isinstance(conn, RawConnection) and conn.pipeline is not None:
            # PostgreSQL (a job's reserved operation, ``engine/jobs.py``): checked where the transaction's results
            # are read, as a claimed operation's end (``finish``), not by a round trip for its row count
            sql.send(conn, sql.checked(sql.TAKE_RESERVED_OPERATION), params)
        elif sql.run(conn, sql.TAKE_RESERVED_OPERATION, params) != 1:
            raise LostClaim()

    @staticmethod
    def finish(tx: SwarmTx, op: ClaimedOp, status: OperationStatus, error: str | None = None) -> None:
        """Mark the claimed ``op`` ``status`` in ``tx``, if its claim still holds (else ``LostClaim``). An
        ``UNWRITTEN`` one ending done leaves nothing to delete; ending otherwise, it is written first. A reserved
        one that ran is already gone (``take``); one that failed is marked if still queued."""
        if op.reserved:
            if status is not OperationStatus.DONE and sql.run(tx.conn, sql.FAIL_RESERVED_OPERATION, {
                    "id": op.id, "sid": op.swarm_id, "key": op.idem_key, "status": status.value,
                    "error": error}) != 1:
                raise LostClaim()
            if status is OperationStatus.DONE:
                tx.ran.append(op.kind.value)
            return
        if op.id == UNWRITTEN:
            if status is OperationStatus.DONE:
                tx.ran.append(op.kind._value_)
                return
            GroupCommit.materialize(tx, op)
        conn = tx.conn
        if isinstance(conn, RawConnection) and conn.pipeline is not None:
            # PostgreSQL: no round trip for the row count: the statement fails the transaction if the claim was
            # lost, where its results are read (at the latest by the commit; ``_group`` raises LostClaim)
            if status is OperationStatus.DONE:
                if op.id:
                    sql.send(conn, sql.checked(sql.DELETE_DONE_OPERATION), {"id": op.id, "claim": op.claim})
                else:  # written claimed by a commit not yet confirmed (``_group``): its id is not known yet
                    sql.send(conn, sql.checked(sql.DELETE_DONE_OPERATION_BY_KEY),
                             {"sid": op.swarm_id, "key": op.idem_key, "claim": op.claim})
                tx.ran.append(op.kind.value)
            else:
                sql.send(conn, sql.checked(sql.FINISH_OPERATION), {"id": op.id, "claim": op.claim,
                                                                    "status": status.value, "error": error})
            return
        if status is OperationStatus.DONE:  # pruned: its effects are in the history (migration 0008)
            done = sql.run(tx.conn, sql.DELETE_DONE_OPERATION, {"id": op.id, "claim": op.claim})
        else:
            done = sql.run(tx.conn, sql.FINISH_OPERATION, {"id": op.id, "claim": op.claim, "status": status.value,
                                                           "error": error})
        if done != 1:
            raise LostClaim()
        if status is OperationStatus.DONE:
            tx.ran.append(op.kind.value)
