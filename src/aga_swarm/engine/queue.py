"""What the operation queue holds, per swarm: queued, running, held and failed operations (``aga-swarm
queue``). Done operations are history, not queue, and are left out."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select

from ..schemas import OperationStatus
from ..store import tables as t
from ..store.database import Database

SHOWN = (OperationStatus.QUEUED, OperationStatus.RUNNING, OperationStatus.HELD, OperationStatus.FAILED)


@dataclass
class SwarmQueue:
    swarm_id: str
    name: str
    swarm_status: str
    counts: dict[str, int]  # every status in SHOWN, 0 when none
    oldest_age_s: float | None  # age of the oldest queued operation


def queue_report(db: Database, *, now: float | None = None) -> list[SwarmQueue]:
    """One row per swarm that has a queued, running, held or failed operation, oldest queued work first."""
    now = time.time() if now is None else now
    ops, swarms = t.operations, t.swarms
    with db.read() as conn:
        rows = conn.execute(
            select(ops.c.swarm_id, ops.c.status, func.count(), func.min(ops.c.created_at))
            .where(ops.c.status.in_([s.value for s in SHOWN]))
            .group_by(ops.c.swarm_id, ops.c.status)).all()
        ids = {r[0] for r in rows}
        named = {r.id: (r.name, r.status) for r in conn.execute(
            select(swarms.c.id, swarms.c.name, swarms.c.status).where(swarms.c.id.in_(ids)))} if ids else {}
    report: dict[str, SwarmQueue] = {}
    for swarm_id, status, count, oldest in rows:
        name, swarm_status = named.get(swarm_id, ("", "deleted"))
        entry = report.setdefault(swarm_id, SwarmQueue(swarm_id, name, swarm_status,
                                                       {s.value: 0 for s in SHOWN}, None))
        entry.counts[status] = int(count)
        if status == OperationStatus.QUEUED.value:
            entry.oldest_age_s = max(0.0, now - float(oldest))
    return sorted(report.values(), key=lambda q: (-(q.oldest_age_s or -1.0), q.swarm_id))
