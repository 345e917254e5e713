"""The row cache: the nodes and chats the last committed transaction on each swarm left, and each swarm's owner
and config ids, so the next transaction (or the runner) does not read and parse them again."""

from __future__ import annotations

from typing import Any

from ..schemas import ChatSummary, Node
from ..store import sql
from ..store.database import Database

CACHED_SWARMS = 256  # swarms whose last transaction's nodes and chats are kept
CACHED_ROWS_PER_SWARM = 64  # a transaction that touched more (a wide fan-in) leaves nothing to reuse


class CachedRows:
    """The nodes and chats as a committed transaction left them, valid while the swarm's ``last_seq`` is still
    ``seq``: every change to a swarm's nodes or chats appends an event, which moves that number, in the same
    transaction. The objects pass from one transaction to the next (never shared by two at once): a
    transaction that takes them and rolls back simply does not hand them on. ``row``: the swarm row as that
    commit left it (None when not kept), which a PostgreSQL transaction starts from without reading it
    (``SwarmTx``'s ``optimistic``: its commit checks that ``last_seq`` is still ``seq``). ``stamp`` (SQLite): what
    says that nothing wrote to the database since that commit (``SwarmTx`` then starts from ``row`` without reading
    it: ``engine/swarmrow.py``); ``usage``: the row's usage column as that transaction's state left it, parsed."""

    __slots__ = ("chats", "nodes", "row", "seq", "stamp", "usage")

    def __init__(self, seq: int, nodes: dict[str, Node], chats: dict[str, ChatSummary], row: Any = None,
                 stamp: Any = None, usage: Any = None) -> None:
        self.seq = seq
        self.nodes = nodes
        self.chats = chats
        self.row = row
        self.stamp = stamp
        self.usage = usage


class RowCache:
    """Per swarm, the ``CachedRows`` of its last committed transaction (insertion order: the oldest swarm goes
    first when full), and the owner and config ids of the swarms seen (they never change)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._rows: dict[str, CachedRows] = {}
        self._owners: dict[str, tuple[str, str]] = {}

    def take(self, swarm_id: str, seq: int | None = None) -> CachedRows | None:
        """The rows a transaction on ``swarm_id`` whose swarm row says ``seq`` may start from (any seq when None:
        the transaction checks it at its commit). Taken: no other transaction can use these objects until it
        hands them back (``keep``)."""
        cached = self._rows.pop(swarm_id, None)
        return cached if cached is not None and (seq is None or cached.seq == seq) else None

    def keep(self, swarm_id: str, rows: CachedRows | None) -> None:
        """After a transaction on ``swarm_id`` committed: keep what it left (None: too much to keep)."""
        if rows is None:
            return
        cache = self._rows
        cache.pop(swarm_id, None)
        cache[swarm_id] = rows  # newest last
        if len(cache) > CACHED_SWARMS:
            cache.pop(next(iter(cache)), None)

    def forget(self) -> None:
        """Drop the kept nodes and chats: the next transactions read them from the store, as a freshly started
        process does. Rows edited behind the engine's back are seen only after this."""
        self._rows.clear()

    def owner_and_config(self, swarm_id: str) -> tuple[str, str] | None:
        """The owner and config ids of a swarm (None if it does not exist): as the transactions saw them, else
        read once. They never change, so the runner needs no query per batch of events."""
        known = self._owners.get(swarm_id)
        if known is None:
            with self.db.raw_read() as conn:
                row = sql.swarm_row(conn, swarm_id)
            if row is None:
                return None
            known = self.remember_owner(swarm_id, str(row.owner_id), str(row.config_id))
        return known

    def remember_owner(self, swarm_id: str, owner_id: str, config_id: str) -> tuple[str, str]:
        owners = self._owners
        known = owners.get(swarm_id)
        if known is None:
            known = owners[swarm_id] = (owner_id, config_id)
            if len(owners) > CACHED_SWARMS * 16:
                owners.pop(next(iter(owners)), None)
        return known
