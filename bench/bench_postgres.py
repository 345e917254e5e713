"""PostgreSQL benchmark: what the pool's pre-ping costs the engine's hot path, and the hot queries' plans.

SQLAlchemy's ``pool_pre_ping=True`` sends ``SELECT 1`` on every checkout, one more round trip per
transaction. The store now pings only connections that sat idle in the pool (``IDLE_PING_SECONDS``). This runs
the engine benchmark's durable step and ask cycle (``bench_engine.py``) on PostgreSQL, interleaved, with the
pre-ping on and off, on fresh databases of the server at ``$AGA_SWARM_TEST_PG``
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Prints Markdown.

    python bench/bench_postgres.py [--quick]
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


def run(quick: bool) -> str:
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(c.machine_section())
    print(f"Load average: {c.load_average()}")
    print(run(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
