"""What an owner stores, for the operator's per-user quota on stored bytes (``SwarmService.check_storage_quota``).

Counted: the goals of their swarms, their messages, their events (as stored: JSON text, or its packed bytes on
SQLite with ``AGA_SWARM_ROW_COMPRESS_BYTES``) and the bytes of their memory files (uploads, tool writes,
artifacts: every version). Text is counted in characters, which is its size in
bytes for the ASCII most of it is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, func, select

from . import tables as t


def stored_bytes(conn: Any, owner_id: str) -> int:
    """The bytes the owner's swarms hold, by the measure above: four aggregate queries over their swarms."""
    mine = select(t.swarms.c.id).where(t.swarms.c.owner_id == owner_id).scalar_subquery()
    goals = conn.execute(select(func.coalesce(func.sum(func.length(t.swarms.c.goal)), 0))
                         .where(t.swarms.c.owner_id == owner_id)).scalar_one()
    messages = conn.execute(select(func.coalesce(func.sum(func.length(t.messages.c.content)), 0))
                            .where(t.messages.c.swarm_id.in_(mine))).scalar_one()
    # SQLite's length() counts a BLOB's bytes (a packed value: CAST would stop at its first NUL); PostgreSQL's json
    # has no length() of its own
    data = t.events.c.data if conn.dialect.name == "sqlite" else cast(t.events.c.data, Text)
    events = conn.execute(select(func.coalesce(func.sum(func.length(data)), 0))
                          .where(t.events.c.swarm_id.in_(mine))).scalar_one()
    files = conn.execute(select(func.coalesce(func.sum(t.memory_files.c.size), 0))
                         .where(t.memory_files.c.swarm_id.in_(mine))).scalar_one()
    return int(goals) + int(messages) + int(events) + int(files)
