"""Finding idle swarms: running, every node that is still working waits on the user (a node waiting on its
children, or a subtask waiting for the siblings it needs, counts as waiting on them), and nothing has changed
for the idle threshold. The time of the last change identifies the idle period, so a swarm is reported once per
period.

Incremental: every change to a swarm appends an event, which sets the swarm row's ``updated_at`` in the same
transaction, so an idle period starts at ``updated_at`` and becomes due ``idle_seconds`` later. Each look
(:meth:`IdleWatch.due`) reads only the running swarms whose last change fell between the previous look's
cutoff and this one's (``now - idle_seconds``): the swarms that became due since. A swarm in that window that is
not idle (a node still working) is not looked at again until it changes, because it cannot become idle without
a change. The first look of a process covers every running swarm. So a swarm parked on a question for days costs
nothing after its one look, where a scan of every waiting swarm cost 267-347 ms of CPU every 30 s at 9,000
swarms (issue 14).

Read-only queries over the projection tables: one over the swarms table (no index on ``updated_at``: an index
would be rewritten by every commit of every swarm, and the table scan runs in the database, not in Python),
and, for the few swarms in the window, their live nodes and awaiting chats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from ..schemas import TERMINAL_LIFECYCLES, ChatStatus, Lifecycle, SwarmStatus
from ..store import tables as t
from ..store.database import Database

_PASSIVE = {Lifecycle.WAITING_USER.value, Lifecycle.WAITING_CHILDREN.value, Lifecycle.WAITING_DEPS.value}
_TERMINAL = [lc.value for lc in TERMINAL_LIFECYCLES]
CHUNK = 500
"""Swarm ids per ``IN (...)`` list (SQLite's default limit on bound parameters is far above)."""


@dataclass(frozen=True)
class IdleSwarm:
    swarm_id: str
    owner_id: str
    since: datetime
    """The swarm's last change (its last event, or its latest question); identifies the idle period."""


@dataclass(frozen=True)
class _Candidate:
    swarm_id: str
    owner_id: str
    updated_at: float


class IdleWatch:
    """The idle swarms of a store, each idle period reported by one look only (per process)."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self.checked_until: float | None = None
        """The previous look's cutoff (epoch seconds): swarms whose last change is at or before it were looked
        at. None before the first look."""
        self._pending: dict[str, _Candidate] = {}
        """Swarms passive at a look but whose latest question is newer than their row's last change (not due
        yet): looked at again until due, or until they change."""
        self.looked_at = 0
        """Swarms the last look examined (for tests and the benchmark)."""

    def due(self, db: Database, now: datetime) -> list[IdleSwarm]:
        """The swarms whose idle period became due since the previous look."""
        cutoff = now.timestamp() - self.idle_seconds
        since_prev = self.checked_until
        pending, self._pending = self._pending, {}
        with db.read() as conn:
            query = select(t.swarms.c.id, t.swarms.c.owner_id, t.swarms.c.updated_at).where(
                t.swarms.c.status == SwarmStatus.RUNNING.value, t.swarms.c.updated_at <= cutoff)
            if since_prev is not None:
                query = query.where(t.swarms.c.updated_at > since_prev)
            candidates = {r.id: _Candidate(r.id, r.owner_id, float(r.updated_at)) for r in conn.execute(query)}
            for sid, c in _running(conn, list(pending)).items():
                if c.updated_at == pending[sid].updated_at:  # unchanged since: look again (a change moves it
                    candidates.setdefault(sid, c)        # into the window of its new period)
            self.looked_at = len(candidates)
            passive = _passive_swarms(conn, list(candidates)) if candidates else []
            awaiting = _latest_questions(conn, passive) if passive else {}
        self.checked_until = cutoff
        found: list[IdleSwarm] = []
        for sid in passive:
            c = candidates[sid]
            since = max(c.updated_at, awaiting.get(sid, c.updated_at))
            if since <= cutoff:
                found.append(IdleSwarm(sid, c.owner_id, datetime.fromtimestamp(since, UTC)))
            else:
                self._pending[sid] = c
        return found


def _running(conn: Any, swarm_ids: Sequence[str]) -> dict[str, _Candidate]:
    out: dict[str, _Candidate] = {}
    for chunk in _chunks(swarm_ids):
        for r in conn.execute(select(t.swarms.c.id, t.swarms.c.owner_id, t.swarms.c.updated_at).where(
                t.swarms.c.id.in_(chunk), t.swarms.c.status == SwarmStatus.RUNNING.value)):
            out[r.id] = _Candidate(r.id, r.owner_id, float(r.updated_at))
    return out


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _passive_swarms(conn: Any, swarm_ids: Sequence[str]) -> list[str]:
    """Of these swarms, those whose every live node is passive and at least one waits on the user."""
    kinds: dict[str, set[str]] = {}
    for chunk in _chunks(swarm_ids):
        for r in conn.execute(select(t.nodes.c.swarm_id, t.nodes.c.lifecycle, func.count())
                              .where(t.nodes.c.swarm_id.in_(chunk), t.nodes.c.lifecycle.not_in(_TERMINAL))
                              .group_by(t.nodes.c.swarm_id, t.nodes.c.lifecycle)):
            kinds.setdefault(r.swarm_id, set()).add(r.lifecycle)
    return [sid for sid, lcs in kinds.items() if lcs <= _PASSIVE and Lifecycle.WAITING_USER.value in lcs]


def _latest_questions(conn: Any, swarm_ids: Sequence[str]) -> dict[str, float]:
    """When each swarm's latest awaiting question was asked (epoch seconds)."""
    latest: dict[str, float] = {}
    for chunk in _chunks(swarm_ids):
        for c in conn.execute(select(t.chats.c.swarm_id, t.chats.c.data).where(
                t.chats.c.swarm_id.in_(chunk), t.chats.c.status == ChatStatus.AWAITING_USER.value)):
            raw = (c.data or {}).get("awaiting_since")
            if raw:
                asked = datetime.fromisoformat(raw).timestamp()
                if asked > latest.get(c.swarm_id, 0.0):
                    latest[c.swarm_id] = asked
    return latest

