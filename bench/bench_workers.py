"""Worker processes on PostgreSQL: operations per second with 1, 2 and 4 ``aga-swarm worker`` processes, and
the latency from an operation's creation (the spawn's commit) to the first event a worker commits for it.

Two dispatches side by side in the same run: the database claim loop (``AGA_SWARM_DISPATCH=poll``,
``engine/runner.py``: compare-and-set under an advisory lock, waking every 0.2 s when idle) and Procrastinate
(the default on PostgreSQL, ``engine/jobs.py``: a job deferred by a trigger in the operation's transaction,
LISTEN/NOTIFY wake-up). The operations are created by this process through ``SwarmService`` (what an API
process runs), with the same dispatch setting as the workers.

    python bench/bench_workers.py [--notes 400] [--latency-samples 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

import common  # noqa: F401  (puts src/ on sys.path)
from aga_swarm.schemas import SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store import tables as t

ADMIN = os.environ.get("AGA_SWARM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BIN = Path(sys.executable).parent / "aga-swarm"


def fresh_db() -> str:
    name = f"aga_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_db(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


DISPATCHES = {"poll": "polling claim loop", "procrastinate": "Procrastinate (push)"}


def service(url: str, tmp: Path, dispatch: str) -> SwarmService:
    os.environ["AGA_SWARM_DISPATCH"] = dispatch  # read when the store opens: poll sessions defer no job
    return SwarmService(open_engine(db_url=url, blob_url=str(tmp / "blobs")))


def start_workers(url: str, blobs: Path, n: int) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "AGA_SWARM_DB_URL": url, "AGA_SWARM_BLOB_URL": str(blobs)}
    procs = [subprocess.Popen([str(BIN), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True) for _ in range(n)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "worker ready"
    return procs


def stop_workers(procs: list[subprocess.Popen[str]]) -> int:
    ran = 0
    for p in procs:
        p.terminate()
        out, _ = p.communicate(timeout=120)
        ran += int(out.strip().splitlines()[-1].split()[2])
    return ran


def throughput(n_workers: int, notes: int, tmp: Path, dispatch: str) -> tuple[int, float]:
    url = fresh_db()
    try:
        svc = service(url, tmp, dispatch)
        procs = start_workers(url, tmp / "blobs", n_workers)
        sid = svc.create_swarm("bench", "\n".join(f"Write note {i}" for i in range(notes))).id
        started = time.perf_counter()
        svc.spawn(sid)
        while svc.get_swarm(sid).status is SwarmStatus.RUNNING:
            time.sleep(0.01)
        wall = time.perf_counter() - started
        ran = stop_workers(procs)
        assert svc.get_swarm(sid).status is SwarmStatus.COMPLETED
        svc.close()
        return ran, wall
    finally:
        drop_db(url)


def latency(samples: int, tmp: Path, dispatch: str) -> list[float]:
    """Spawn one single-task swarm at a time on an idle worker: spawn commit -> the worker's first event (the
    ``ts`` of the worker's transaction is taken when it starts the operation)."""
    url = fresh_db()
    try:
        svc = service(url, tmp, dispatch)
        procs = start_workers(url, tmp / "blobs", 1)
        out: list[float] = []
        for _ in range(samples):
            sid = svc.create_swarm("bench", "Write a note").id
            seq = svc.spawn(sid).last_seq
            committed = time.time()
            while True:
                with svc.db.read() as conn:
                    first = conn.execute(select(func.min(t.events.c.ts)).where(
                        t.events.c.swarm_id == sid, t.events.c.seq > seq)).scalar()
                if first is not None:
                    break
                time.sleep(0.002)
            out.append((float(first) - committed) * 1000)
            while svc.get_swarm(sid).status is SwarmStatus.RUNNING:
                time.sleep(0.005)
            time.sleep(0.3)  # the worker is idle again (asleep in its poll wait) before the next sample
        stop_workers(procs)
        svc.close()
        return out
    finally:
        drop_db(url)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=400)
    ap.add_argument("--latency-samples", type=int, default=40)
    ap.add_argument("--dispatch", default="poll,procrastinate", help="comma-separated: poll, procrastinate")
    args = ap.parse_args()
    chosen = {d: DISPATCHES[d] for d in args.dispatch.split(",")}
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_workers_{uuid.uuid4().hex[:6]}"
    tmp.mkdir(parents=True)
    print(f"load average at start: {os.getloadavg()}; cores: {os.cpu_count()}")
    print("| dispatch | workers | operations | wall s | operations/s |")
    print("|---|---|---|---|---|")
    for n in (1, 2, 4):
        for dispatch, label in chosen.items():
            ran, wall = throughput(n, args.notes, tmp, dispatch)
            print(f"| {label} | {n} | {ran} | {wall:.2f} | {ran / wall:.0f} |", flush=True)
    for dispatch, label in chosen.items():
        lat = sorted(latency(args.latency_samples, tmp, dispatch))
        p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
        print(f"spawn commit -> first worker event ({label}, idle worker, {len(lat)} samples): "
              f"p50 {statistics.median(lat):.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms", flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
