"""Finding idle swarms: running, every node that is still working waits on the user (a node waiting on its
children, or a subtask waiting for the siblings it needs, counts as waiting on them), and nothing has changed
for the idle threshold. The time of the last change identifies the idle period, so a swarm is reported once per
period.

A read-only query over the projection tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from ..schemas import TERMINAL_LIFECYCLES, ChatStatus, Lifecycle, SwarmStatus
from ..store import tables as t
from ..store.database import Database

_PASSIVE = {Lifecycle.WAITING_USER.value, Lifecycle.WAITING_CHILDREN.value, Lifecycle.WAITING_DEPS.value}


@dataclass(frozen=True)
class IdleSwarm:
    swarm_id: str
    owner_id: str
    since: datetime
    """The swarm's last change (its last event, or its latest question); identifies the idle period."""


def find_idle(db: Database, now: datetime, idle_seconds: float) -> list[IdleSwarm]:
    terminal = [lc.value for lc in TERMINAL_LIFECYCLES]
    with db.read() as conn:
        rows = conn.execute(
            select(t.nodes.c.swarm_id, t.nodes.c.lifecycle, func.count())
            .join(t.swarms, t.swarms.c.id == t.nodes.c.swarm_id)
            .where(t.swarms.c.status == SwarmStatus.RUNNING.value, t.nodes.c.lifecycle.not_in(terminal))
            .group_by(t.nodes.c.swarm_id, t.nodes.c.lifecycle)).all()
        kinds: dict[str, set[str]] = {}
        for r in rows:
            kinds.setdefault(r.swarm_id, set()).add(r.lifecycle)
        candidates = [sid for sid, lcs in kinds.items()
                      if lcs <= _PASSIVE and Lifecycle.WAITING_USER.value in lcs]
        if not candidates:
            return []
        swarm_rows = conn.execute(select(t.swarms.c.id, t.swarms.c.owner_id, t.swarms.c.updated_at)
                                  .where(t.swarms.c.id.in_(candidates))).all()
        chats = conn.execute(select(t.chats.c.swarm_id, t.chats.c.data).where(
            t.chats.c.swarm_id.in_(candidates), t.chats.c.status == ChatStatus.AWAITING_USER.value)).all()
    owners = {r.id: r.owner_id for r in swarm_rows}
    latest: dict[str, datetime] = {r.id: datetime.fromtimestamp(r.updated_at, UTC) for r in swarm_rows}
    for c in chats:
        raw = (c.data or {}).get("awaiting_since")
        if not raw:
            continue
        since = datetime.fromisoformat(raw)
        if c.swarm_id not in latest or since > latest[c.swarm_id]:
            latest[c.swarm_id] = since
    return [IdleSwarm(sid, owners[sid], since) for sid, since in latest.items()
            if sid in owners and (now - since).total_seconds() >= idle_seconds]
