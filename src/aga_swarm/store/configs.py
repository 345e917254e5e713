"""Stored swarm configs: those an owner may use (the operator's shared ones and their own), and saving one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from ..schemas import SwarmConfig
from . import tables as t


def usable(conn: Any, owner_id: str | None) -> list[SwarmConfig]:
    """The shared configs, then ``owner_id``'s own (which hide a shared one of the same id), each group oldest
    first. Without an owner: the shared ones."""
    owners = [t.SHARED_CONFIG_OWNER] + ([owner_id] if owner_id else [])
    found = sorted(conn.execute(select(t.configs.c.owner_id, t.configs.c.id, t.configs.c.data)
                                .where(t.configs.c.owner_id.in_(owners))
                                .order_by(t.configs.c.created_at, t.configs.c.id)),
                   key=lambda r: r.owner_id != t.SHARED_CONFIG_OWNER)  # shared first, then the owner's
    own = {r.id for r in found if r.owner_id == owner_id}
    return [SwarmConfig.model_validate(r.data) for r in found if r.owner_id == owner_id or r.id not in own]


def replace(conn: Any, owner: str, config: SwarmConfig, now: float) -> None:
    """Save ``config`` as ``owner``'s (``tables.SHARED_CONFIG_OWNER``: shared), replacing theirs of that id."""
    conn.execute(delete(t.configs).where(t.configs.c.owner_id == owner, t.configs.c.id == config.id))
    conn.execute(insert(t.configs).values(id=config.id, owner_id=owner, name=config.name,
                                          data=config.model_dump(mode="json"), created_at=now))
