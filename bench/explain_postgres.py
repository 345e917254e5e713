"""The hot queries' plans on PostgreSQL (``EXPLAIN (ANALYZE)`` on a populated database), for docs/postgres.md.

Populates a fresh database of the server at ``$AGA_SWARM_TEST_PG`` with scripted swarms (finished ones, a
paused one holding its operations, a running one with queued work), runs ``ANALYZE``, then explains each hot
statement with real parameters; writes are explained inside a transaction that is rolled back. Prints Markdown.

    python bench/explain_postgres.py [--swarms 300]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import text

import common  # noqa: F401  (puts src/ on the path for a source checkout)
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store import sql
from bench_postgres import drop_database, fresh_database


def populate(svc: SwarmService, swarms: int) -> dict[str, Any]:
    async def run_all() -> None:
        for i in range(swarms):
            s = svc.create_swarm(f"user{i % 20}", "\n".join(f"task {j}" for j in range(8)))
            svc.spawn(s.id)
            if i % 25 == 0:
                await svc.run_until_idle(s.id)
        await svc.run_until_idle()

    asyncio.run(run_all())
    paused = svc.create_swarm("user1", "\n".join(f"task {j}" for j in range(8)))
    svc.spawn(paused.id)
    svc.pause(paused.id)  # its queued operations are now held
    running = svc.create_swarm("user2", "\n".join(f"task {j}" for j in range(8)))
    svc.spawn(running.id)  # queued, not run
    with svc.db.read() as conn:
        node = conn.execute(text("SELECT swarm_id, id, parent_id FROM nodes WHERE parent_id IS NOT NULL "
                                 "LIMIT 1")).one()
        chat = conn.execute(text("SELECT swarm_id, id FROM chats WHERE swarm_id = :s LIMIT 1"),
                            {"s": node.swarm_id}).one()
        op = conn.execute(text("SELECT id, swarm_id, node_id, idem_key FROM operations WHERE status = 'queued' "
                               "LIMIT 1")).one()
        seq = conn.execute(text("SELECT last_seq FROM swarms WHERE id = :s"), {"s": op.swarm_id}).scalar()
        token = conn.execute(text("SELECT token_hash FROM sessions LIMIT 1")).scalar()
    return {"sid": node.swarm_id, "nid": node.id, "pid": node.parent_id, "chat": chat.id, "op": op,
            "paused": paused.id, "running": running.id, "token": token, "seq": seq}


def held_group(p: dict[str, Any]) -> tuple[str, Any]:
    """A chain group's one statement as ``sql.Held`` builds it (the swarm's last_seq as read, the reserved operation
    taken from the queue, the next operation written claimed, two events and the swarm row)."""
    from aga_swarm.store.codec import EventRow, SwarmSeqRow

    op, sid = p["op"], p["op"].swarm_id
    held = sql.Held(None)
    held.guard(sid, p["seq"])
    held.check(sql.TAKE_RESERVED_OPERATION, {"id": op.id, "sid": sid, "key": op.idem_key})
    held.insert_returning(sql.INSERT_OPERATION_RETURNING, {
        "swarm_id": sid, "node_id": op.node_id, "kind": "step", "status": "running", "payload": "{}",
        "attempts": 1, "idem_key": "explain", "not_before": 0, "claim": "x", "lease_until": None, "created_at": 0})
    out = sql.Writes(None)
    out.parts = []
    out.rows(sql.INSERT_EVENT, [EventRow(sid, 10_000_000 + i, 0.0, "journal", None, "{}") for i in (1, 2)])
    out.rows(sql.UPDATE_SWARM_SEQ, [SwarmSeqRow(p["seq"], "running", None, None, 0.0, sid)])
    held.ctes += [f"w{len(held.ctes) + i + 1} AS ({part})" for i, part in enumerate(out.parts)]
    held.params += out.params
    return held.statement(), held.guards[1] + held.params


def hot_queries(p: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(what it does, SQL in psycopg's style, parameters)."""
    pg = lambda q: q.pg  # noqa: E731
    return [
        ("Claim: the queued operations, oldest first (every wake-up of a runner)", pg(sql.QUEUED_CANDIDATES),
         {"limit": 256}),
        ("Claim: nodes with a running operation", pg(sql.RUNNING_NODES), {}),
        ("Claim: take one operation (compare-and-set)", pg(sql.CLAIM),
         {"id": p["op"].id, "claim": "x", "attempts": 1, "lease_until": 0.0}),
        ("Step: the swarm row, locked", pg(sql.SWARM_FOR_UPDATE), {"id": p["sid"]}),
        ("Step: one node", pg(sql.NODE), {"sid": p["sid"], "id": p["nid"]}),
        ("Step: a live child of a node", pg(sql.ANY_LIVE_CHILD), {"sid": p["sid"], "pid": p["pid"]}),
        ("Step: a node's queued operations", pg(sql.NODE_HAS_QUEUED), {"sid": p["sid"], "nid": p["nid"]}),
        ("Step: a chat", pg(sql.CHAT), {"sid": p["sid"], "id": p["chat"]}),
        ("Step: append an event", pg(sql.INSERT_EVENT),
         {"swarm_id": p["sid"], "seq": 10_000_000, "ts": 0.0, "type": "journal", "node_id": None, "data": "{}"}),
        ("Step: finish an operation", pg(sql.FINISH_OPERATION),
         {"id": p["op"].id, "claim": "x", "status": "done", "error": None}),
        ("Chain group: the guard, the leading operation's end, the next operation and the writes, one statement "
         "(`sql.Held`)", *held_group(p)),
        ("Pause: hold a swarm's queued operations", pg(sql.HOLD_QUEUED), {"sid": p["running"]}),
        ("Resume: release them", pg(sql.RELEASE_HELD), {"sid": p["paused"]}),
        ("History: events after a seq (socket catch-up, the slider)",
         "SELECT * FROM events WHERE swarm_id = %(sid)s AND seq > %(after)s ORDER BY seq LIMIT 500",
         {"sid": p["sid"], "after": 10}),
        ("Chat: its messages in order",
         "SELECT * FROM messages WHERE swarm_id = %(sid)s AND chat_id = %(chat)s ORDER BY idx",
         {"sid": p["sid"], "chat": p["chat"]}),
        ("Swarm list: a user's swarms, newest first",
         "SELECT id, name, status, created_at FROM swarms WHERE owner_id = %(owner)s ORDER BY created_at DESC "
         "LIMIT 50", {"owner": "user3"}),
    ]


def explain(url: str, queries: list[tuple[str, str, Any]]) -> str:
    import psycopg

    out: list[str] = []
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("ANALYZE")
        conn.commit()
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                  for t in ("swarms", "nodes", "chats", "messages", "events", "operations")}
        out.append("Rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()) + ".")
        out.append("")
        for what, query, params in queries:
            rows = conn.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + query, params).fetchall()
            conn.rollback()  # writes were explained for real: undo them
            plan = "\n".join(r[0] for r in rows)
            out += [f"**{what}**", "", "```sql", query, "```", "", "```", plan, "```", ""]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--swarms", type=int, default=300)
    args = ap.parse_args()
    url = fresh_database()
    try:
        svc = SwarmService(open_engine(db_url=url, blob_url="memory://"))
        params = populate(svc, args.swarms)
        svc.close()
        print(explain(url, hot_queries(params)))
    finally:
        drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
