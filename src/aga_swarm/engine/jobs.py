"""Dispatch through Procrastinate (PostgreSQL): a worker that runs operations as Procrastinate jobs.

The operation rows stay the queue's source of truth and ``execute(op)`` the only place the engine's rules run.
A trigger (migration 0006) defers a job, in the transaction that makes an operation ``queued``, with lock
``<swarm>:<node>``; Procrastinate's insert trigger NOTIFYs the workers, which LISTEN. Procrastinate runs at
most one job of a lock at a time, so a node's job is the only runner of that node's operations: it claims the
node's earliest queued operation (the same compare-and-set as the polling claim) and runs it with the chain it
commits with. A job is a wake-up for its node, not a particular operation: one whose operation already ran (in
a group commit, or taken by an earlier job of the node), was held by a pause or dropped claims nothing and
ends.

Claims made under a worker carry ``w<worker id>:`` (``tx.CLAIM_OWNER``). A job retried because its worker
stopped heartbeating (``retry_stalled``) takes over that worker's running operation of its node; a claim of a
live worker, or a lease-based claim (``run_once``, ``run_until_idle``) that has not expired, is left alone and
the node woken again later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from ..schemas import OperationKind
from ..store import sql
from . import tx as tx_module
from .claimed import ClaimedOp, read_for_llm_call

if TYPE_CHECKING:
    import procrastinate

    from .engine import Engine
    from .runner import Runner

log = logging.getLogger("aga_swarm.jobs")

QUEUE = "aga_swarm"
TASK = "aga_swarm.operation"
CLAIM_LOCK = 727274  # the polling claim's advisory lock: direct claims and jobs' claims never interleave
BUSY_RETRY_SECONDS = 0.5  # a node busy under a claim no job holds is woken again this much later
DEFAULT_STALL_SECONDS = 30.0
# Procrastinate also fetches every this many seconds: jobs scheduled for later (a backoff) become due with no
# NOTIFY, and a lost notification is found again (LISTEN/NOTIFY wakes workers for every job deferred now)
DEFAULT_FETCH_POLL_SECONDS = 1.0


def conninfo(db_url: str) -> str:
    """A libpq connection string from a SQLAlchemy URL (``postgresql+psycopg://...``)."""
    url = make_url(db_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def make_app(db_url: str | None, *, pool_size: int = 4, worker: bool = False) -> procrastinate.App:
    """The Procrastinate app of a store: its connector and the one task, ``aga_swarm.operation``. ``worker``: a
    worker's own app, whose connections commit without waiting for the WAL flush (``synchronous_commit=off``):
    what they write is the jobs' bookkeeping (fetched, finished, heartbeats, retries), which a server crash may
    lose without harm: a job is a wake-up for its node, run again if its fetch is lost, finding nothing if its
    end is; the operation rows, written by the engine's own transactions, are the queue's truth. A chain's
    first step then waits for no WAL flush of its job's fetch."""
    import procrastinate

    info = conninfo(db_url) if db_url else ""
    options: dict[str, Any] = {"kwargs": {"options": "-c synchronous_commit=off"}} if worker else {}
    connector = procrastinate.PsycopgConnector(conninfo=info, min_size=1, max_size=max(2, pool_size), **options)
    app = procrastinate.App(connector=connector)

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    async def run_operation(context: procrastinate.JobContext, swarm: str, node: str, op: int) -> None:
        dispatcher: JobDispatcher | None = context.additional_context.get("dispatcher")
        if dispatcher is None:  # pragma: no cover - only a worker made by JobDispatcher runs this task
            raise RuntimeError("aga_swarm.operation runs only in an aga-swarm worker")
        await dispatcher.drain(swarm, node)

    return app


@dataclass
class _Busy:
    """The node has a running operation this job may not take over."""


@dataclass
class _Later:
    """The node's earliest queued operation may not start before ``at`` (a backoff)."""
    at: float


_BUSY = _Busy()

# the node's running operation if it has one, else its earliest queued one (one round trip)
NEXT_OF_NODE = sql.Q("SELECT id, kind, payload, attempts, claim, lease_until, not_before, status, idem_key "
                     "FROM operations WHERE swarm_id = :sid AND node_id = :nid AND status IN ('running', 'queued') "
                     "ORDER BY status = 'running' DESC, id LIMIT 1")
TAKE_OVER = sql.Q("UPDATE operations SET claim = :claim, attempts = attempts + 1, lease_until = :lease "
                  "WHERE id = :id AND claim = :old AND status = 'running'")
WORKER_ALIVE = sql.Q("SELECT 1 AS alive FROM procrastinate_workers WHERE id = :wid "
                     "AND last_heartbeat > now() - make_interval(secs => :stall)")
WAKE = sql.Q("SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, NULL, "
             "CAST(:args AS jsonb), :at)::procrastinate_job_to_defer_v1])")
CLAIM_LOCK_SHARED = sql.Q(f"SELECT pg_advisory_xact_lock_shared({CLAIM_LOCK})")


def worker_of(claim: str | None) -> int | None:
    """The Procrastinate worker id a claim token names (``w<id>:...``), or None for a lease-based claim."""
    if not claim or not claim.startswith("w"):
        return None
    head, sep, _ = claim.partition(":")
    return int(head[1:]) if sep and head[1:].isdigit() else None


def wake(conn: Any, swarm: str, node: str, at: float | None = None) -> None:
    """Defer one more job for a node (in the caller's transaction: a ``raw_tx`` connection)."""
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(at, UTC) if at is not None else None
    sql.send(conn, WAKE, {"queue": QUEUE, "task": TASK, "lock": f"{swarm}:{node}", "at": when,
                          "args": sql.to_json({"swarm": swarm, "node": node, "op": 0})})


FETCH_JOB = sql.Q("SELECT id, args FROM procrastinate_fetch_job_v2(ARRAY[:queue]::varchar[], :wid)")
FINISH_JOB = text("SELECT procrastinate_finish_job_v1(:id, 'succeeded', true)")
FAIL_JOB = text("SELECT procrastinate_finish_job_v1(:id, 'failed', false)")
FINISH_JOB_Q = sql.Q(str(FINISH_JOB))  # the same, on a ``raw_tx`` connection
BATCH_MAX = 32  # a job's claim takes up to this many due jobs' operations (its own included) in one transaction
AWAITS_IO = frozenset({OperationKind.LLM_CALL.value, OperationKind.TOOL_CALL.value})  # claimed, never reserved

Outcome = ClaimedOp | _Busy | _Later | None


@dataclass
class Batch:
    """What one job's claim took: its own node's outcome, and the jobs it fetched besides (``claim_batch``)."""

    own: Outcome
    extra: list[tuple[int, ClaimedOp]]  # (job id, its node's claimed operation): the job stays ``doing``
    due: list[float]  # when the jobs deferred for later in it become due


def claim_batch(engine: Engine, swarm: str, node: str, *, worker_id: int | None, extra: int, stall_seconds: float,
                lease_seconds: float) -> Batch:
    """Claim the job's node's next operation and, in the same transaction, fetch up to ``extra`` more due jobs
    for this worker (``procrastinate_fetch_job_v2``, which skips locks with a job running) and claim their
    nodes' operations: a fan-out's children start together and commit together (``GroupCommit``), one claim
    transaction for many. A fetched job whose node has nothing to run ends in that transaction; one whose
    node is busy or waits for a backoff defers its node's next wake-up and ends; the others stay ``doing``
    under this worker until their operation has run (``JobDispatcher._run_extra``), so Procrastinate's lock
    still keeps one operation per node, and a stalled worker's fetched jobs are retried like its own.

    An operation that does not await the network is *reserved*, not claimed (as on SQLite, ``Runner.claim``):
    nothing is written, and the transaction that runs it deletes its row if still queued, or fails
    (``GroupCommit.take``). The job's lock already keeps one job per node; a direct claim (``--once``) or a
    stalled job's retry that takes the same row meanwhile makes one of the two transactions fail at its
    commit. So the claim of a chain or a step writes nothing: no commit to wait for before it runs. The
    transaction runs pipelined (``Database.raw_tx``): the claim lock, the node's next operation and the
    first extra job's fetch go out together, one round trip."""
    due: list[float] = []
    with engine.db.raw_tx() as conn:
        sql.send(conn, CLAIM_LOCK_SHARED)
        mine = conn.cursor
        mine.execute(NEXT_OF_NODE.pg, {"sid": swarm, "nid": node})
        jobs = None
        if worker_id is not None and extra > 0:  # asked now, read after: one round trip for both
            jobs = conn.dbapi.cursor()
            jobs.execute(FETCH_JOB.pg, {"queue": QUEUE, "wid": worker_id})
        try:
            own = _claim_on(conn, swarm, node, _row(mine), stall_seconds=stall_seconds, lease_seconds=lease_seconds)
            at = _defer_if_waiting(conn, swarm, node, own)
            if at is not None:
                due.append(at)
            fetched: list[tuple[int, ClaimedOp]] = []
            while jobs is not None and len(fetched) < extra:
                job = _row(jobs)
                if job is None or job.id is None:
                    break
                args = sql.from_json(job.args)
                outcome = _claim_on(conn, args["swarm"], args["node"],
                                    sql.fetch_one(conn, NEXT_OF_NODE, {"sid": args["swarm"], "nid": args["node"]}),
                                    stall_seconds=stall_seconds, lease_seconds=lease_seconds)
                if isinstance(outcome, ClaimedOp):
                    fetched.append((int(job.id), outcome))
                else:
                    at = _defer_if_waiting(conn, args["swarm"], args["node"], outcome)
                    if at is not None:
                        due.append(at)
                    sql.send(conn, FINISH_JOB_Q, {"id": job.id})
                if len(fetched) < extra:
                    jobs.execute(FETCH_JOB.pg, {"queue": QUEUE, "wid": worker_id})
        finally:
            if jobs is not None:
                jobs.close()
    return Batch(own, fetched, due)


def _row(cur: Any) -> Any:
    """The one row a statement sent on ``cur`` returned (None if none), with attribute access."""
    found = cur.fetchone()
    if found is None:
        return None
    return SimpleNamespace(**dict(zip([d[0] for d in cur.description], found, strict=True)))


def _defer_if_waiting(conn: Any, swarm: str, node: str, outcome: Outcome) -> float | None:
    """For a node busy under a claim no job holds, or whose next operation waits for a backoff: defer its
    next wake-up (in ``conn``'s transaction) and return when it is due."""
    if isinstance(outcome, _Busy):  # under a direct claim (--once, the serverless handler): look again soon
        at = time.time() + BUSY_RETRY_SECONDS
    elif isinstance(outcome, _Later):  # a backoff: its own job is scheduled; this one keeps the count
        at = max(outcome.at, time.time() + 0.05)
    else:
        return None
    wake(conn, swarm, node, at)
    return at


def _claim_on(conn: Any, swarm: str, node: str, row: Any, *, stall_seconds: float, lease_seconds: float) -> Outcome:
    """Claim the node's next operation ``row`` (``NEXT_OF_NODE``) for the job that holds its lock: an orphaned
    running one (its worker stopped heartbeating, or its lease expired), else the earliest queued one, reserved
    unless it awaits the network (see ``claim_batch``). ``conn`` holds the claim lock (shared: jobs never claim
    for the same node at once, Procrastinate's lock; the claim loop's direct claims take it exclusively, so a
    job and a direct claim never interleave)."""
    if row is None:
        return None
    now = time.time()
    attempts = row.attempts + 1
    if row.status == "running":
        wid = worker_of(row.claim)
        if wid is not None:
            alive = sql.fetch_one(conn, WORKER_ALIVE, {"wid": wid, "stall": stall_seconds}) is not None
        else:
            alive = (row.lease_until or 0) >= now
        if alive:
            return _BUSY
        token = tx_module.claim_token()
        if sql.run(conn, TAKE_OVER, {"id": row.id, "claim": token, "old": row.claim,
                                     "lease": now + lease_seconds}) != 1:
            return _BUSY
        log.warning("operation %s of %s/%s taken over from a stalled claim (%s)", row.id, swarm, node, row.claim)
    else:
        if row.not_before > now:
            return _Later(float(row.not_before))
        if row.kind not in AWAITS_IO:
            return ClaimedOp(id=int(row.id), swarm_id=swarm, node_id=node, kind=OperationKind(row.kind),
                             payload=sql.from_json(row.payload), attempts=attempts, claim="", reserved=True,
                             idem_key=row.idem_key)
        token = tx_module.claim_token()
        won = sql.run(conn, sql.CLAIM, {"id": row.id, "claim": token, "attempts": attempts,
                                        "lease_until": now + lease_seconds})
        if won != 1:  # pragma: no cover - claims of a node are serialised (lock, advisory lock)
            return _BUSY
    kind = OperationKind(row.kind)
    return ClaimedOp(id=int(row.id), swarm_id=swarm, node_id=node, kind=kind, payload=sql.from_json(row.payload),
                     attempts=attempts, claim=token,
                     prefetched=read_for_llm_call(conn, swarm, node) if kind is OperationKind.LLM_CALL else None)


def announcing_worker(app: procrastinate.App, **options: Any) -> Any:
    """A Procrastinate ``Worker`` that loses no announcement. Procrastinate's fetch loop clears its "new job"
    event after each fetch, so a job announced while a fetch that finds nothing is under way (committed after
    that fetch's snapshot) was forgotten until the next fetch poll: a lost wake-up, and a stalled node when the
    poll is long. This worker fetches again whenever an announcement came in during the fetch loop; it also
    takes announcements of its own (``announce``: a job deferred for later became due)."""
    from procrastinate.worker import Worker

    class AnnouncingWorker(Worker):
        announced = False

        def announce(self) -> None:
            self.announced = True
            self._new_job_event.set()

        async def _handle_notification(self, *, channel: str, notification: Any) -> None:
            if notification.get("type") == "job_inserted":
                self.announced = True
            await super()._handle_notification(channel=channel, notification=notification)

        async def _fetch_and_process_jobs(self) -> None:
            while True:
                self.announced = False
                await super()._fetch_and_process_jobs()  # type: ignore[no-untyped-call]
                if not self.announced or self._stop_event.is_set():
                    return

    return AnnouncingWorker(app, **options)


class JobDispatcher:
    """A Procrastinate worker running a ``Runner``'s operations: ``serve`` until ``stop`` is set."""

    def __init__(self, runner: Runner, *, stall_seconds: float | None = None) -> None:
        self.runner = runner
        self.engine = runner.engine
        self.stall_seconds = stall_seconds if stall_seconds is not None else float(
            os.environ.get("AGA_SWARM_STALL_SECONDS", DEFAULT_STALL_SECONDS))
        self.worker: Any = None
        self._extra: set[asyncio.Task[None]] = set()  # operations of jobs fetched by ``claim_batch``
        self._stopping = False

    async def drain(self, swarm: str, node: str) -> None:
        """The task of every job: claim the node's next operation (its earliest queued one, or a running one
        whose worker died) and run it with the chain it commits with, and claim, in the same transaction,
        other due jobs' operations, which start together with it (``claim_batch``). One operation per job:
        each operation that became queued deferred a job of its own, so the node's next one has its job
        waiting (announced when this one ends, migration 0007); a job whose operation already ran (in a group,
        or taken by an earlier job of the node) claims nothing."""
        runner = self.runner
        worker_id = getattr(self.worker, "worker_id", None)
        if worker_id is not None:
            tx_module.CLAIM_OWNER = f"w{worker_id}:"
        # the jobs fetched besides this one take free job slots of this worker, so --concurrency still bounds
        # the operations in flight; the slots they do not use are given back at once
        slots = 0 if self._stopping else await self._take_slots(BATCH_MAX - 1)
        batch: Batch | None = None
        try:
            batch = claim_batch(self.engine, swarm, node, worker_id=worker_id, extra=slots,
                                stall_seconds=self.stall_seconds, lease_seconds=runner.lease_seconds)
        finally:
            for _ in range(slots - (len(batch.extra) if batch is not None else 0)):
                self._slots().release()
        for at in batch.due:
            self._announce_at(at)
        for job_id, op in batch.extra:
            runner._active_nodes.add((op.swarm_id, op.node_id))
            task = asyncio.ensure_future(self._run_extra(job_id, op))
            self._extra.add(task)
            task.add_done_callback(self._extra.discard)
        if isinstance(batch.own, ClaimedOp):
            runner._active_nodes.add((swarm, node))
            await runner._run_one(batch.own)

    def _slots(self) -> asyncio.Semaphore:
        """The worker's job slots (``--concurrency``), which the jobs a claim fetches besides its own take too."""
        return self.worker._job_semaphore  # type: ignore[no-any-return]

    async def _take_slots(self, most: int) -> int:
        """Take up to ``most`` of the worker's free job slots, without waiting for one."""
        slots, taken = self._slots(), 0
        while taken < most and not slots.locked():
            await slots.acquire()  # free: returns at once
            taken += 1
        return taken

    async def _run_extra(self, job_id: int, op: ClaimedOp) -> None:
        """Run an operation claimed for a job this worker fetched besides its own (``claim_batch``), then end
        that job: deleted like a finished Procrastinate job, which announces the node's next job (0007)."""
        outcome = FINISH_JOB
        try:
            await self.runner._run_one(op)
        except Exception:
            log.exception("operation %s of %s/%s failed in its job %s", op.id, op.swarm_id, op.node_id, job_id)
            outcome = FAIL_JOB
        finally:
            try:
                with self.engine.db.tx() as conn:
                    conn.execute(outcome, {"id": job_id})
            finally:
                self._slots().release()

    def _announce_at(self, at: float) -> None:
        """Wake this worker's fetch loop when a job deferred for later becomes due: Procrastinate announces
        only inserts, and its fetch poll (``AGA_SWARM_JOB_POLL_SECONDS``) is only the net."""
        announce = getattr(self.worker, "announce", None)
        if announce is not None:
            asyncio.get_running_loop().call_later(max(0.0, at - time.time()) + 0.01, announce)

    async def retry_stalled(self, app: procrastinate.App, stop: asyncio.Event) -> None:
        """Put the jobs of workers that stopped heartbeating back to ``todo`` (Procrastinate leaves this to
        the application), every third of the stall timeout."""
        while not stop.is_set():
            try:
                stalled = list(await app.job_manager.get_stalled_jobs(queue=QUEUE,
                                                                      seconds_since_heartbeat=self.stall_seconds))
                for job in stalled:
                    log.warning("job %s (%s) of a stalled worker is retried", job.id, job.lock)
                    await app.job_manager.retry_job(job)  # announced by migration 0007's trigger
            except Exception:
                log.exception("retrying stalled jobs failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(0.2, self.stall_seconds / 3))
            except TimeoutError:
                pass

    async def recover_leases(self, stop: asyncio.Event) -> None:
        """Re-queue operations whose lease expired (claims of the polling path), as ``Runner.serve`` does."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.runner.recover, all_running=False)
            except Exception:
                log.exception("recovering expired leases failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.runner.lease_seconds / 4)
            except TimeoutError:
                pass

    async def serve(self, stop: asyncio.Event) -> None:
        runner = self.runner
        app = make_app(self.engine.db.url, pool_size=min(runner.concurrency, 8) + 2, worker=True)
        heartbeat = max(0.1, self.stall_seconds / 3)
        async with app.open_async():
            self.worker = announcing_worker(app, queues=[QUEUE], name=f"aga-swarm-{os.getpid()}",
                                 concurrency=runner.concurrency, listen_notify=True, install_signal_handlers=False,
                                 delete_jobs="successful", additional_context={"dispatcher": self},
                                 update_heartbeat_interval=heartbeat, stalled_worker_timeout=self.stall_seconds,
                                 fetch_job_polling_interval=float(os.environ.get(
                                     "AGA_SWARM_JOB_POLL_SECONDS", DEFAULT_FETCH_POLL_SECONDS)))
            side_stop = asyncio.Event()
            side = [asyncio.create_task(self.retry_stalled(app, side_stop)),
                    asyncio.create_task(self.recover_leases(side_stop))]
            run = asyncio.create_task(self.worker.run())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({run, stopped}, return_when=asyncio.FIRST_COMPLETED)
            # first the operations of the jobs claims fetched besides their own, while this worker still
            # heartbeats (else they could be taken over as a dead worker's); no claim fetches more meanwhile
            self._stopping = True
            while self._extra:
                await asyncio.gather(*self._extra, return_exceptions=True)
            self.worker.stop()  # finishes the running jobs (no graceful timeout), then unregisters
            await run
            while self._extra:
                await asyncio.gather(*self._extra, return_exceptions=True)
            stopped.cancel()
            side_stop.set()
            await asyncio.gather(*side, return_exceptions=True)

