"""Swarm rows: create a draft, list and page an owner's swarms, count what an owner holds, edit, delete.

The queries the service layer (``SwarmService``) runs on the ``swarms`` table and, to delete one, on every table
that holds a swarm's rows. Checks (ownership, lifecycle, text bounds) are the caller's.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import and_, case, delete, func, insert, or_, select, update

from ..schemas import Swarm, SwarmListItem, SwarmStatus
from . import rows
from . import tables as t


class OwnerCounts(NamedTuple):
    swarms: int
    running: int
    forks: int


def insert_draft(conn: Any, swarm_id: str, *, owner_id: str, name: str, goal: str, config_id: str,
                 now: float) -> None:
    conn.execute(insert(t.swarms).values(
        id=swarm_id, owner_id=owner_id, name=name, goal=goal, config_id=config_id, status=SwarmStatus.DRAFT.value,
        last_seq=0, first_seq=1, usage={}, created_at=now, updated_at=now))


def all_swarms(conn: Any, owner_id: str | None) -> list[Swarm]:
    """Every swarm (of ``owner_id`` when given), newest first."""
    q = select(t.swarms).order_by(t.swarms.c.created_at.desc())
    if owner_id is not None:
        q = q.where(t.swarms.c.owner_id == owner_id)
    return [rows.swarm_from_row(r) for r in conn.execute(q)]


class Page(NamedTuple):
    items: list[SwarmListItem]
    last: tuple[float, str] | None
    """Creation time and id of the page's last item when a next page follows, else None."""


def page(conn: Any, owner_id: str, *, limit: int, after: tuple[float, str] | None, preview_chars: int) -> Page:
    """Up to ``limit`` of the owner's swarms, newest first, after (creation time, id) ``after``, each with only
    the first ``preview_chars`` characters of its goal."""
    c = t.swarms.c
    cols = [col for col in t.swarms.c if col.name not in ("goal", "usage", "auto_approve")]
    q = (select(*cols, func.substr(c.goal, 1, preview_chars).label("goal_preview"),
                func.length(c.goal).label("goal_chars"))
         .where(c.owner_id == owner_id).order_by(c.created_at.desc(), c.id.desc()).limit(limit + 1))
    if after is not None:
        after_ts, after_id = after
        q = q.where(or_(c.created_at < after_ts, and_(c.created_at == after_ts, c.id < after_id)))
    found = conn.execute(q).all()
    items = [SwarmListItem(
        id=r.id, owner_id=r.owner_id, name=r.name, goal_preview=r.goal_preview, goal_chars=r.goal_chars,
        config_id=r.config_id, status=r.status, failure_reason=r.failure_reason, root_node_id=r.root_node_id,
        forked_from=r.forked_from, forked_at_seq=r.forked_at_seq, last_seq=r.last_seq,
        created_at=rows.dt(r.created_at), updated_at=rows.dt(r.updated_at)) for r in found[:limit]]
    last = found[limit - 1] if len(found) > limit else None
    return Page(items, None if last is None else (last.created_at, last.id))


def owner_counts(conn: Any, owner_id: str, *, forks_since: float) -> OwnerCounts:
    """How many swarms the owner has, how many run, and how many forks they made since ``forks_since``."""
    c = t.swarms.c
    counts = conn.execute(select(
        func.count(),
        func.coalesce(func.sum(case((c.status == SwarmStatus.RUNNING.value, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(c.forked_from.is_not(None), c.created_at >= forks_since), 1),
                                    else_=0)), 0)).where(c.owner_id == owner_id)).one()
    return OwnerCounts(int(counts[0]), int(counts[1]), int(counts[2]))


def update_fields(conn: Any, swarm_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(t.swarms).where(t.swarms.c.id == swarm_id).values(**values))


def delete_rows(conn: Any, swarm_id: str) -> None:
    """Every row of the swarm, in every table (its blobs are the caller's)."""
    for table in (t.operations, t.events, t.snapshots, t.messages, t.chats, t.nodes, t.journal, t.llm_calls,
                  t.llm_requests, t.memory_files):
        conn.execute(delete(table).where(table.c.swarm_id == swarm_id))
    conn.execute(delete(t.swarms).where(t.swarms.c.id == swarm_id))
