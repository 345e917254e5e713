"""Runner: claims queued operations and runs them, one at a time per node, many nodes at once (the scheduler).

Claiming is a compare-and-set on the operation row, so several worker processes can share one database.
A claim carries a lease; operations whose worker died are re-queued when the lease expires (and, in the
embedded single-process mode, all at start).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import Any, NamedTuple

from sqlalchemy import and_, select, update

from ..schemas import EventType, OperationKind, OperationStatus, SwarmStatus
from ..store import sql
from ..store import tables as t
from .claimed import ClaimedOp, Executed, PriorCommitFailed, read_for_llm_call
from .engine import Engine
from .gcpause import gc_paused
from .stats import EngineStats

log = logging.getLogger("aga_swarm.scheduler")


class OnceOutcome(NamedTuple):
    """What ``Runner.run_once_outcome`` did: whether it claimed an operation, and how many finished."""

    claimed: bool
    ran: int

op_t = t.operations
ENDED = {SwarmStatus.COMPLETED.value, SwarmStatus.FAILED.value}
AWAITS_IO = frozenset({OperationKind.LLM_CALL, OperationKind.TOOL_CALL})  # operations that await the network
AWAITS_IO_KINDS = frozenset(kind.value for kind in AWAITS_IO)  # ... as the rows spell them
_SWARM_STATUS = EventType.SWARM_STATUS  # read per event of a batch: a module constant, not the enum's slow getattr


class _Wake:
    """The runner's wake-up: ``asyncio.Event``'s ``set`` and ``clear``, and a wait with a timeout that is one
    future and one timer. ``asyncio.wait_for(event.wait(), timeout)`` makes a task per wait and takes two more
    turns of the event loop to resume the waiter: tens of µs on every wake-up, a fixed cost of each fan-out
    (bench/RESULTS.md, "Fan-out, fourth pass"). Used on the loop's thread only (``Runner._on_loop``)."""

    __slots__ = ("_flag", "_waiter")

    def __init__(self) -> None:
        self._flag = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._flag = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    async def wait(self, timeout: float) -> None:
        """Until ``set`` (now, if it is) or ``timeout`` seconds passed, whichever comes first."""
        if self._flag:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _release, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Runner:
    def __init__(self, engine: Engine, *, concurrency: int = 32, poll_interval: float = 0.2,
                 lease_seconds: float = 300.0, stall_seconds: float | None = None) -> None:
        self.engine = engine
        self.stall_seconds = stall_seconds  # Procrastinate dispatch: a worker silent this long is taken over
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self._active_nodes: set[tuple[str, str]] = set()
        self._blocked_nodes: set[tuple[str, str]] = set()  # nodes with queued work waiting on a running task
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wake = _Wake()
        self.ops_done = 0  # operations this process finished (done or failed), with those grouped with them
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop the runner runs on, once it runs
        self._loop_thread = 0  # the thread that runs it (``_bind_loop``)
        self._serving = False

    def count_done(self, count: int) -> None:
        """Count ``count`` operations this process ran outside the runner (those a reply's transaction ran)."""
        self.ops_done += count

    def notify(self) -> None:
        """Wake the loop (call after enqueueing from this process); safe from any thread."""
        self._on_loop(self._wake.set)

    def accepts_handoff(self) -> bool:
        """Whether ``adopt`` may be used: ``serve`` is running (``run_until_idle`` may not be)."""
        loop = self.loop
        return self._serving and loop is not None and not loop.is_closed()

    def adopt(self, op: ClaimedOp) -> None:
        """Run an operation another part of this process already claimed (a reply's model call); safe from
        any thread. Only while ``accepts_handoff()``: nothing else would run it until its lease expires."""
        if self.loop is not None:
            self._on_loop(self._launch, [op])

    def _on_loop(self, fn: Any, *args: Any) -> None:
        """Call ``fn`` on the runner's loop: now when already on it (or before it runs); from the loop's own
        thread while it is not running (a script or a notebook between ``run_until_complete`` calls), at its next
        turn without waking it (nothing waits in its selector: the thread is here); else thread-safely."""
        loop = self.loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            fn(*args)
        elif loop.is_closed():
            return
        elif running is None and self._loop_thread == threading.get_ident() and not loop.is_running():
            loop.call_soon(fn, *args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def _bind_loop(self) -> None:
        """Run on the current event loop. A runner may be used from one ``asyncio.run`` after another (a
        script, a notebook): its wake-up event and model clients belong to the loop that made them, so a new
        loop gets new ones. A runner runs on one loop at a time, so the old loop's tasks are over (their
        operations, if cut off, are recovered like a dead worker's)."""
        loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        if self.loop is loop:
            return
        if self.loop is not None:
            self._wake = _Wake()
            self._tasks.clear()
            self._active_nodes.clear()
            self._blocked_nodes.clear()
            self.engine.forget_clients()
        self.loop = loop

    # ---- recovery ----------------------------------------------------------------------------
    def recover(self, *, all_running: bool = True) -> int:
        """Re-queue operations left running by a dead worker (all of them, or only expired leases)."""
        from .modelcall import derive_lost_model_calls

        cond = op_t.c.status == OperationStatus.RUNNING.value
        if not all_running:
            cond = and_(cond, op_t.c.lease_until < time.time())
        # a reply's model call handed to a runner has no row (``GroupCommit.transact``): re-derived from its node,
        # all of them or those older than a lease, as running rows are recovered
        derived = derive_lost_model_calls(self.engine.db, None if all_running else time.time() - self.lease_seconds)
        if derived:
            log.info("re-derived %d model calls a dead worker was making", derived)
        with self.engine.db.tx() as conn:
            rows = conn.execute(select(op_t.c.id, op_t.c.swarm_id).where(cond)).all()
            if not rows:
                return derived
            swarm_status = dict(conn.execute(select(t.swarms.c.id, t.swarms.c.status).where(
                t.swarms.c.id.in_({r.swarm_id for r in rows}))).all())
            for r in rows:
                status = (OperationStatus.QUEUED if swarm_status.get(r.swarm_id) == SwarmStatus.RUNNING.value
                          else OperationStatus.HELD)
                conn.execute(update(op_t).where(op_t.c.id == r.id, cond).values(
                    status=status.value, claim=None, lease_until=None))
        log.info("recovered %d operations", len(rows))
        return len(rows) + derived

    # ---- claiming ----------------------------------------------------------------------------
    def claim(self, limit: int, swarm_id: str | None = None) -> list[ClaimedOp]:
        """Take up to ``limit`` queued operations to run: each node's earliest one, none of a node with one
        running (in this process, or claimed by another), none deferred (``not_before``).

        Operations that await the network (model and tool calls) are claimed: the row is marked ``running``
        with a claim token and a lease, committed before they start. On SQLite the others are *reserved*
        instead: nothing is written, and the transaction that runs one deletes its row first, if still
        queued (``GroupCommit.take``), and commits its effects with that delete. They run at once, and a
        crash before that commit leaves the row queued, as it would a claimed row (re-queued at start).
        Another process that reserved or claimed the same row meanwhile finds it gone and rolls back, and a
        node's later operation is not eligible while its earliest is still queued: one operation at a time per
        node holds as with claims, at the cost of one claim transaction less per batch (its write lock, its
        update of each row and its commit)."""
        if limit <= 0:
            return []
        db = self.engine.db
        if db.is_sqlite:
            # reads only, on the writer's connection under this process's write lock (``Database.peek``): most
            # wake-ups find nothing, and those that find work need no write lock to reserve it
            with db.peek() as conn:
                picked = self._pick(conn, limit, swarm_id)
            if not any(r.kind in AWAITS_IO_KINDS for r in picked):
                return [self._reserved(r) for r in picked]
            with db.raw_tx() as conn:
                return [op for r in picked
                        if (op := self._claimed(conn, r) if r.kind in AWAITS_IO_KINDS else self._reserved(r))]
        if not self._queued(swarm_id):  # a read first: most wake-ups find nothing, and need no write lock
            return []
        with db.raw_tx() as conn:  # the executor's connection, pipelined
            sql.send(conn, sql.CLAIM_LOCK)
            return [op for r in self._pick(conn, limit, swarm_id) if (op := self._claimed(conn, r))]

    def _pick(self, conn: Any, limit: int, swarm_id: str | None) -> list[Any]:
        """Up to ``limit`` queued rows that may start now (see ``claim``), in id order."""
        now = time.time()
        scan = max(limit * 8, 64)
        if swarm_id is None:
            candidates = sql.fetch(conn, sql.QUEUED_CANDIDATES, {"limit": scan})
        else:
            candidates = sql.fetch(conn, sql.QUEUED_CANDIDATES_OF_SWARM, {"sid": swarm_id, "limit": scan})
        if not candidates:
            return []
        busy = {(r.swarm_id, r.node_id) for r in sql.fetch(conn, sql.RUNNING_NODES)} | self._active_nodes
        seen: set[tuple[str, str]] = set()
        mine: set[tuple[str, str]] = set()  # nodes picked by this call (their tasks start next)
        picked: list[Any] = []
        for r in candidates:
            key = (r.swarm_id, r.node_id)
            if key in busy or key in seen:
                if key in mine or key in self._active_nodes:
                    self._blocked_nodes.add(key)  # look again when this process's task for it ends
                continue
            seen.add(key)  # only the earliest queued op of a node is eligible
            if r.not_before > now:
                continue
            mine.add(key)
            picked.append(r)
            if len(picked) >= limit:
                break
        return picked

    def _claimed(self, conn: Any, r: Any) -> ClaimedOp | None:
        """Claim the picked row ``r`` (a compare-and-set on its status); None if another worker was first."""
        token = uuid.uuid4().hex
        now = time.time()
        if sql.run(conn, sql.CLAIM, {"id": r.id, "claim": token, "attempts": r.attempts + 1,
                                     "lease_until": now + self.lease_seconds}) != 1:
            return None
        kind = OperationKind(r.kind)
        return ClaimedOp(id=r.id, swarm_id=r.swarm_id, node_id=r.node_id, kind=kind, payload=sql.from_json(r.payload),
                         attempts=r.attempts + 1, claim=token,
                         prefetched=read_for_llm_call(conn, r.swarm_id, r.node_id)
                         if kind is OperationKind.LLM_CALL else None)

    @staticmethod
    def _reserved(r: Any) -> ClaimedOp:
        return ClaimedOp(id=r.id, swarm_id=r.swarm_id, node_id=r.node_id, kind=OperationKind(r.kind),
                         payload=sql.from_json(r.payload), attempts=r.attempts + 1, claim="", reserved=True,
                         idem_key=r.idem_key)

    def _queued(self, swarm_id: str | None) -> bool:
        with self.engine.db.peek() as conn:
            if swarm_id is None:
                return sql.fetch_one(conn, sql.QUEUED_CANDIDATES, {"limit": 1}) is not None
            return sql.fetch_one(conn, sql.QUEUED_CANDIDATES_OF_SWARM, {"sid": swarm_id, "limit": 1}) is not None

    def _has_pending(self, swarm_id: str | None) -> tuple[bool, float | None]:
        """Whether runnable work remains, and the earliest deferred time if only deferred work remains."""
        with self.engine.db.raw_read() as conn:
            if swarm_id is None:
                row = sql.fetch_one(conn, sql.PENDING_SOONEST)
            else:
                row = sql.fetch_one(conn, sql.PENDING_SOONEST_OF_SWARM, {"sid": swarm_id})
        if row is None:
            return False, None
        return True, float(row.not_before)

    # ---- running -----------------------------------------------------------------------------
    async def _run_one(self, op: ClaimedOp) -> None:
        key = (op.swarm_id, op.node_id)
        queued = False
        held: tuple[ClaimedOp, Executed] | None = None
        op.defer = True  # its commit may be sent ahead (``_execute_and_publish``)
        try:
            next_op: ClaimedOp | None = op
            stats = self.engine.stats
            while next_op is not None:
                if next_op.kind in AWAITS_IO:  # no pause across a network call; its commit pauses on its own
                    next_op, more, held = await self._execute_and_publish(next_op, stats, held)
                else:
                    with gc_paused():  # until the events are published and let go (``engine/gcpause.py``)
                        next_op, more, held = await self._execute_and_publish(next_op, stats, held)
                queued = queued or more
                if next_op is not None:
                    await asyncio.sleep(0)  # let other nodes' tasks run between a node's operations
        finally:
            if held is not None:  # left by a cancelled task: reported if its commit went through
                try:
                    after = held[1].chained.after if held[1].chained is not None else None
                    if after is not None:
                        self.engine.executor.group.confirm(after)
                    self._publish(*held)
                except Exception:
                    log.exception("a chained group's commit could not be confirmed")
            # leave the task set *before* waking the loop, so the capacity it computes next is right
            was_full = len(self._tasks) >= self.concurrency
            task = asyncio.current_task()
            if task is not None:
                self._tasks.discard(task)
            self._active_nodes.discard(key)
            blocked = key in self._blocked_nodes
            self._blocked_nodes.discard(key)
            if queued or was_full or blocked or not self._serving:  # else a wake-up would find nothing
                self._wake.set()

    async def _execute_and_publish(self, op: ClaimedOp, stats: EngineStats, held: tuple[ClaimedOp, Executed] | None
                                   ) -> tuple[ClaimedOp | None, bool, tuple[ClaimedOp, Executed] | None]:
        """Execute ``op`` and publish its events; the operation it chained (the node's next one, claimed in the
        same transaction), whether it queued work for any worker, and what is held. On PostgreSQL a chain's
        commit is sent ahead (``GroupCommit._group``): the chained operation's transaction confirms it, so its
        events are ``held`` until then and published first; if that commit failed (``PriorCommitFailed``),
        neither is reported and the earlier operation runs again, on its own."""
        started = time.perf_counter()
        try:
            done = await self.engine.executor.execute(op)
        except PriorCommitFailed:
            if held is None:  # pragma: no cover - only an operation chained after a commit sent ahead raises it
                raise
            log.info("a chained group's commit failed; operation %s runs again", held[0].id)
            again = held[0]
            again.defer = False  # its commit waited for this time: a failure that recurs is handled where it occurs
            return again, False, None
        stats.executed(op.kind.value, time.perf_counter() - started)
        if held is not None:
            self._publish(*held)
        chained = done.chained
        if chained is None:
            self._publish(op, done)
            return None, done.queued_work, None
        chained.defer = True
        if chained.after is not None:
            return chained, done.queued_work, (op, done)
        self._publish(op, done)
        return chained, done.queued_work, None

    def _publish(self, op: ClaimedOp, done: Executed) -> None:
        if done.finished:  # an operation run again elsewhere, held or retried later is not counted (``NOTHING``)
            self.ops_done += 1 + done.grouped
        events = done.events
        if events:
            owner = self._owner(op.swarm_id)
            if owner is not None:
                self.engine.publish(owner, events)
            if any(e.type is _SWARM_STATUS and e.data.get("status") in ENDED for e in events):
                self._apply_retention(op.swarm_id)

    def _apply_retention(self, swarm_id: str) -> None:
        """When a swarm ends, compact its history to the config's retention, if it sets one."""
        from .history import compact

        known = self.engine.executor.owner_and_config(swarm_id)
        keep = self.engine.config_for(known[1], known[0]).history_retention if known else None
        if keep:
            try:
                compact(self.engine.db, self.engine.blobs, swarm_id, keep)
            except Exception:
                log.exception("compacting %s failed", swarm_id)

    def _owner(self, swarm_id: str) -> str | None:
        known = self.engine.executor.owner_and_config(swarm_id)
        return known[0] if known else None

    def _launch(self, ops: list[ClaimedOp]) -> None:
        for op in ops:
            self._active_nodes.add((op.swarm_id, op.node_id))
            task = asyncio.ensure_future(self._run_one(op))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def run_until_idle(self, swarm_id: str | None = None, *, timeout: float | None = None) -> None:
        """Run until no queued or running operation remains (for one swarm, or all). Held ones stay held."""
        self._bind_loop()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._wake.clear()
            ops = self.claim(self.concurrency - len(self._tasks), swarm_id)
            self._launch(ops)
            if not ops and not self._tasks:
                pending, not_before = self._has_pending(swarm_id)
                if not pending:
                    return
                wait = max(0.01, min(self.poll_interval, (not_before or 0) - time.time()))
            else:
                wait = self.poll_interval
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("run_until_idle timed out")
            if ops:
                await asyncio.sleep(0)
                continue
            await self._wake.wait(wait)

    async def run_once(self) -> int:
        """Run exactly one queued operation (and the chain it commits with) and return how many operations
        ran: 0 when nothing was runnable. Expired leases are re-queued first, so a short-lived process (a
        queue-triggered function, ``aga-swarm worker --once``) also takes over a dead worker's work."""
        return (await self.run_once_outcome()).ran

    async def run_once_outcome(self) -> OnceOutcome:
        """``run_once``, telling apart "nothing was queued" from "an operation was claimed but none finished"
        (another worker took it over, or a transient failure queued it again)."""
        self._bind_loop()
        await asyncio.to_thread(self.recover, all_running=False)
        ops = self.claim(1)
        if not ops:
            return OnceOutcome(claimed=False, ran=0)
        before = self.ops_done
        self._active_nodes.add((ops[0].swarm_id, ops[0].node_id))
        await self._run_one(ops[0])
        return OnceOutcome(claimed=True, ran=self.ops_done - before)

    async def serve(self, stop: asyncio.Event) -> None:
        """Run forever (until ``stop`` is set), re-queuing expired leases now and then. On PostgreSQL (unless
        ``AGA_SWARM_DISPATCH=poll``) as a Procrastinate worker woken by LISTEN/NOTIFY (``engine/jobs.py``);
        else by claiming from the table, woken by ``notify`` or every ``poll_interval``."""
        self._bind_loop()
        if self.engine.db.dispatch == "procrastinate":
            from .jobs import JobDispatcher

            await JobDispatcher(self, stall_seconds=self.stall_seconds).serve(stop)
            return
        self._serving = True
        last_recover = 0.0
        while not stop.is_set():
            if time.monotonic() - last_recover > self.lease_seconds / 4:
                await asyncio.to_thread(self.recover, all_running=False)
                last_recover = time.monotonic()
            self._wake.clear()
            room = self.concurrency - len(self._tasks)
            try:
                ops = self.claim(room)
            except Exception:
                log.exception("claim failed")
                ops = []
            self._launch(ops)
            if ops and len(ops) >= room:  # there may be more: look again once these have started
                await asyncio.sleep(0)
                continue
            await self._wake.wait(self.poll_interval)
        self._serving = False
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
