"""PostgreSQL benchmark: AGA against LangGraph's PostgresSaver on the same server, and the pool's pre-ping.

Default (``--langgraph``): the engine benchmark's durable step and ask cycle (``bench_engine.py`` sections 1
and 2) with AGA's store on PostgreSQL (serve mode, group commit as by default) and LangGraph's graphs compiled
with ``PostgresSaver`` (langgraph-checkpoint-postgres) on the same server, each in a fresh database, interleaved
repetition by repetition in one process. LangGraph runs as ``durability="sync"`` (a checkpoint per super-step),
``durability="exit"`` with the chain in invocations of 32 super-steps (the bound AGA's group commit puts on lost
work), and the same with the saver in psycopg's pipeline mode; the verdict takes the fastest. Issue 14's
targets: AGA at least 5x faster per step and 3x per ask cycle.

``--trace``: AGA only: psycopg's calls per durable step and per ask cycle (statements executed, and the waits for
the server: syncs, fetches, statements outside pipeline mode), counted by wrapping psycopg's methods.

``--preping``: SQLAlchemy's ``pool_pre_ping=True`` sends ``SELECT 1`` on every checkout; the store pings only
connections that sat idle in the pool (``IDLE_PING_SECONDS``). Step and ask cycle with the pre-ping on and off.

The server is ``$AGA_SWARM_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``).
Prints Markdown.

    python bench/bench_postgres.py [--quick] [--preping | --trace]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine, event, text

import bench_engine as be
import common as c

PG_ADMIN = os.environ.get("AGA_SWARM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def fresh_database() -> str:
    name = f"aga_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_preping(quick: bool) -> str:
    chain_n, ask_m, reps = (100, 20, 2) if quick else (1000, 200, 5)
    base = Path(tempfile.mkdtemp(prefix="aga-bench-pg-"))
    urls = {"pre-ping on every checkout": fresh_database(), "no pre-ping (idle ping only)": fresh_database()}
    agas: dict[str, Any] = {}
    for label, url in urls.items():
        aga = be.Aga(base / label.split()[0], "serve", db_url=url)
        # SQLAlchemy's own switch; the store turns it off (bench only: the old behaviour, for comparison)
        aga.svc.db.engine.pool._pre_ping = label.startswith("pre-ping")
        agas[label] = aga
        be.aga_chain(aga, 5)
        be.aga_ask(aga, 2)
    step: dict[str, list[c.Sample]] = {k: [] for k in agas}
    ask: dict[str, list[c.Sample]] = {k: [] for k in agas}
    checkouts = {"step": 0, "ask": 0}
    phase = ["step"]
    counted = agas["pre-ping on every checkout"]

    def count(*_: Any) -> None:  # each checkout is one pre-ping round trip when pre-ping is on
        checkouts[phase[0]] += 1

    event.listen(counted.svc.db.engine, "checkout", count)
    for _ in range(reps):  # interleaved
        for label, aga in agas.items():
            phase[0] = "step"
            step[label].append(be.aga_chain(aga, chain_n))
            phase[0] = "ask"
            ask[label].append(be.aga_ask(aga, ask_m))
    event.remove(counted.svc.db.engine, "checkout", count)
    per_step = checkouts["step"] / (reps * (chain_n + 1))
    per_ask = checkouts["ask"] / (reps * ask_m)
    for aga in agas.values():
        aga.close()
    for url in urls.values():
        drop_database(url)
    rows = ["| pool | durable step, µs wall (CPU) | spread | ask cycle, µs wall (CPU) | spread |",
            "|---|---|---|---|---|"]
    for label in agas:
        rows.append(f"| {label} | {c.med_wall(step[label]) * 1e6:.0f} ({c.med_cpu(step[label]) * 1e6:.0f}) | "
                    f"{c.spread(step[label])} | {c.med_wall(ask[label]) * 1e6:.0f} ({c.med_cpu(ask[label]) * 1e6:.0f}) "
                    f"| {c.spread(ask[label])} |")
    return "\n".join([f"## PostgreSQL: pool pre-ping ({chain_n}-step chains, {ask_m} ask cycles, median of {reps})",
                      "", *rows, "", f"Pool checkouts (each one a `SELECT 1` round trip with pre-ping on): "
                      f"{per_step:.2f} per durable step, {per_ask:.2f} per ask cycle (whole runs, the runner's "
                      "idle polls included).", ""])


def run_trace(quick: bool) -> str:
    """psycopg's calls per durable step and per ask cycle, AGA only (the commit of a chain's group sent ahead is
    counted where it is confirmed: a sync)."""
    import time

    from psycopg import Connection, Cursor
    from psycopg._pipeline import Pipeline

    chain_n, ask_m = (100, 20) if quick else (400, 60)
    counts: dict[str, list[float]] = {}

    def wrap(cls: Any, name: str, label: str) -> Any:
        orig = getattr(cls, name)

        def traced(self: Any, *a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            try:
                return orig(self, *a, **k)
            finally:
                if not (label == "execute" and getattr(self._conn, "_pipeline", None) is None):
                    key = label
                else:
                    key = "execute, not pipelined (a wait)"
                n = counts.setdefault(key, [0, 0.0])
                n[0] += 1
                n[1] += time.perf_counter() - started

        setattr(cls, name, traced)
        return orig

    url = fresh_database()
    aga = be.Aga(Path(tempfile.mkdtemp(prefix="aga-bench-pg-trace-")), "serve", db_url=url)
    saved = [(Cursor, "execute", wrap(Cursor, "execute", "execute")),
             (Cursor, "fetchall", wrap(Cursor, "fetchall", "fetch (a wait unless already read)")),
             (Cursor, "fetchone", wrap(Cursor, "fetchone", "fetch (a wait unless already read)")),
             (Pipeline, "sync", wrap(Pipeline, "sync", "sync (a wait)")),
             (Connection, "commit", wrap(Connection, "commit", "commit, not pipelined (a wait)"))]
    try:  # the store's own sync, and its reading of a commit sent ahead with its sync (store/pgqueue.py)
        from aga_swarm.store import pgqueue
    except ImportError:  # pragma: no cover - an older tree
        pgqueue = None
    if pgqueue is not None and hasattr(pgqueue, "read_sent"):
        saved += [(pgqueue, "read_sent", wrap_function(pgqueue, "read_sent", "results read (a wait unless sent "
                                                       "ahead)", counts)),
                  (pgqueue, "queue_plain", wrap_function(pgqueue, "queue_plain", "BEGIN / COMMIT (queued, no "
                                                         "cursor)", counts))]
    rows = ["| psycopg call | per durable step | per ask cycle |", "|---|---:|---:|"]
    try:
        be.aga_chain(aga, 5)
        be.aga_ask(aga, 2)
        sid = aga.start("bench_chain", {"n": chain_n})  # as bench_engine.aga_chain and aga_ask time them
        counts.clear()
        aga.go(sid, be.ev_done(sid))
        step = dict(counts)
        sid = aga.start("bench_ask", {"m": ask_m})
        aga.go(sid, be.ev_parked(sid, "chat-n"))
        until = be.ev_any(be.ev_parked(sid, "chat-n"), be.ev_done(sid))
        counts.clear()
        for _ in range(ask_m):
            aga.reply(sid, "chat-n", until)
        ask = dict(counts)
    finally:
        for cls, name, orig in saved:
            setattr(cls, name, orig)
        aga.close()
        drop_database(url)
    for key in sorted(set(step) | set(ask)):
        s_n = step.get(key, [0, 0.0])[0] / (chain_n + 1)
        a_n = ask.get(key, [0, 0.0])[0] / ask_m
        rows.append(f"| {key} | {s_n:.3f} | {a_n:.2f} |")
    return "\n".join([f"## PostgreSQL: psycopg calls ({chain_n}-step chain, {ask_m} ask cycles, as timed: the chain's "
                      "wake-up and its Procrastinate job's claim included)", "", *rows, ""])


def wrap_function(module: Any, name: str, label: str, counts: dict[str, list[float]]) -> Any:
    """Count the calls of ``module.name`` as ``label`` (``run_trace``); the original, to put back."""
    import time

    orig = getattr(module, name)

    def traced(*a: Any, **k: Any) -> Any:
        started = time.perf_counter()
        try:
            return orig(*a, **k)
        finally:
            n = counts.setdefault(label, [0, 0.0])
            n[0] += 1
            n[1] += time.perf_counter() - started

    setattr(module, name, traced)
    return orig


# ---- AGA against LangGraph's PostgresSaver ----------------------------------------------------------------------
class LGPostgres(be.LG):
    """``bench_engine.LG`` with a ``PostgresSaver`` on a fresh database (autocommit, no prepared statements,
    dict rows: the connection the saver's documentation asks for); ``pipeline``: the saver's writes go through
    psycopg's pipeline mode (``PostgresSaver.from_conn_string(..., pipeline=True)`` does the same)."""

    def __init__(self, url: str, *, durability: str, chunk: int = 0, pipeline: bool = False) -> None:
        import contextlib

        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row

        self.chunk = chunk
        self.durability = durability
        self.url = url
        self._stack = contextlib.ExitStack()
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True,
                               prepare_threshold=0, row_factory=dict_row)
        self._stack.callback(conn.close)
        PostgresSaver(conn).setup()
        pipe = self._stack.enter_context(conn.pipeline()) if pipeline else None
        self.saver = PostgresSaver(conn, pipe=pipe)
        self.graphs = {k: g.compile(checkpointer=self.saver) for k, g in be.build_lg_graphs().items()}
        self._threads = 0

    def close(self) -> None:
        self._stack.close()


AGA_PG = "AGA Swarm (serve, PostgreSQL)"
LG_PG = {
    "LangGraph (sync)": ("PostgresSaver, durability=sync: a checkpoint committed after every super-step",
                         {"durability": "sync"}),
    "LangGraph (exit)": ("PostgresSaver, durability=exit, the chain in invocations of 32 super-steps (the bound "
                         "AGA's group commit puts on lost work)", {"durability": "exit", "chunk": 32}),
    "LangGraph (exit, pipeline)": ("the same with the saver in psycopg's pipeline mode",
                                   {"durability": "exit", "chunk": 32, "pipeline": True}),
}
TARGETS = {"step": 5.0, "ask": 3.0}  # issue 14: AGA this many times faster than LangGraph's fastest


def run_langgraph(quick: bool) -> tuple[str, dict[str, Any]]:
    be.lg_imports()
    chain_n, ask_m, reps = (100, 20, 2) if quick else (400, 60, 7)
    base = Path(tempfile.mkdtemp(prefix="aga-bench-pg-lg-"))
    urls = {AGA_PG: fresh_database(), **{name: fresh_database() for name in LG_PG}}
    systems: dict[str, Any] = {AGA_PG: be.Aga(base / "aga", "serve", db_url=urls[AGA_PG])}
    for name, (_, kw) in LG_PG.items():
        systems[name] = LGPostgres(urls[name], **kw)
    step: dict[str, list[c.Sample]] = {k: [] for k in systems}
    ask: dict[str, list[c.Sample]] = {k: [] for k in systems}
    try:
        for name, sys_ in systems.items():  # warm-up
            (be.aga_chain if name == AGA_PG else be.lg_chain)(sys_, 5)
            (be.aga_ask if name == AGA_PG else be.lg_ask)(sys_, 2)
        for _ in range(reps):  # interleaved, so background load hits every system alike
            for name, sys_ in systems.items():
                step[name].append((be.aga_chain if name == AGA_PG else be.lg_chain)(sys_, chain_n))
            for name, sys_ in systems.items():
                ask[name].append((be.aga_ask if name == AGA_PG else be.lg_ask)(sys_, ask_m))
    finally:
        for sys_ in systems.values():
            sys_.close()
        for url in urls.values():
            drop_database(url)
    out = [f"## AGA on PostgreSQL against LangGraph's PostgresSaver ({chain_n}-step chains, {ask_m} ask cycles, "
           f"median of {reps} interleaved repetitions)", ""]
    data: dict[str, Any] = {}
    for what, res, unit in (("step", step, "durable step"), ("ask", ask, "ask cycle")):
        fastest = min(LG_PG, key=lambda n: c.med_wall(res[n]))
        aw = c.med_wall(res[AGA_PG])
        rows = [[name, how, c.fmt_us(c.med_wall(res[name]) * 1e6), c.spread(res[name]),
                 c.fmt_us(c.med_cpu(res[name]) * 1e6),
                 "-" if name == AGA_PG else c.fmt_ratio(c.med_wall(res[name]) / aw)]
                for name, how in [(AGA_PG, "background `Runner.serve`, group commit (the default)"),
                                  *((n, h) for n, (h, _) in LG_PG.items())]]
        ratio = c.med_wall(res[fastest]) / aw
        cpu_ratio = c.med_cpu(res[fastest]) / c.med_cpu(res[AGA_PG])
        target = TARGETS[what]
        out += [f"### Per {unit}", "",
                c.md_table(["System", "How it runs", f"µs per {unit} (median wall)", "min–max µs",
                            f"CPU µs per {unit}", "LangGraph ÷ AGA (wall)"], rows, "llrrrr"), "",
                f"**Target (AGA at least {target:.0f}x faster than LangGraph's fastest configuration per {unit}): "
                f"{'MET' if ratio >= target else 'MISSED'}** — {c.fmt_ratio(ratio)} against {fastest} in wall "
                f"time, {c.fmt_ratio(cpu_ratio)} in this process's CPU time.", ""]
        data[what] = {k: [s.__dict__ for s in v] for k, v in res.items()}
    return "\n".join(out), data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--preping", action="store_true", help="the pool pre-ping comparison instead")
    ap.add_argument("--trace", action="store_true", help="psycopg's calls per step and ask cycle instead")
    ap.add_argument("--json", help="also write the raw figures to this JSON file")
    args = ap.parse_args()
    print(c.machine_section(c.versions("aga-swarm", "langgraph", "langgraph-checkpoint-postgres", "psycopg",
                                       "sqlalchemy")))
    print(f"\nLoad average at start: {c.load_average()}\n")
    if args.preping:
        print(run_preping(args.quick))
    elif args.trace:
        print(run_trace(args.quick))
    else:
        text, data = run_langgraph(args.quick)
        print(text)
        c.write_json(args.json, data)
    print(f"Load average at the end: {c.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
