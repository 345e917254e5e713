"""SQLite: whether the swarm row this process's last transaction on a swarm left is still what the table holds,
so the next transaction starts from it (``RowCache``) instead of reading and parsing it again (two reads a tool
call cycle, about 25 µs each).

A transaction on the writer's connection (``Database.raw_tx``) reads ``PRAGMA data_version`` once it holds the
write lock (``BEGIN IMMEDIATE``), and after its last write notes that value with the connection's
``total_changes`` (a ``Stamp``, kept with its rows once it has committed). A later transaction may start from
those rows when it runs on that same connection in the same process and reads the same ``data_version`` (no
other connection, of this process or another, committed since: SQLite changes the number for every commit but
the connection's own) and the same ``total_changes`` (nothing else was written on this connection since: a
statement outside a ``SwarmTx``, or a transaction rolled back after its writes, moves it). A fork gets a
different process id; a new writer connection (a reopened database) a different object. ``RowCache.forget``
drops the rows, as before. PostgreSQL has no stamp: it keeps its own rule (``SwarmTx``'s ``optimistic``)."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

_pid = os.getpid()  # this process's (``os.getpid`` is a system call); a forked child sets its own


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


class Stamp(NamedTuple):
    conn: Any  # the ``RawConnection`` the transaction ran on
    pid: int
    data_version: int
    total_changes: int


def data_version(conn: Any) -> int | None:
    """The connection's ``PRAGMA data_version``, read inside the transaction that holds the write lock; None when
    no stamp applies (not a raw SQLite connection)."""
    if conn.dialect.name != "sqlite" or getattr(conn, "dbapi", None) is None:
        return None
    row = conn.cursor.execute("PRAGMA data_version").fetchone()
    return int(row[0])


def stamp(conn: Any, version: int | None) -> Stamp | None:
    """What this transaction leaves, called after its last write (``version``: ``data_version`` at its start)."""
    if version is None:
        return None
    return Stamp(conn, _pid, version, conn.dbapi.total_changes)


def unchanged(conn: Any, version: int | None, since: Stamp | None) -> bool:
    """Whether nothing was written to the database since the transaction that left ``since`` committed, for a
    transaction on ``conn`` that read ``version`` under the write lock."""
    return (since is not None and version is not None and since.conn is conn and since.data_version == version
            and since.total_changes == conn.dbapi.total_changes and since.pid == _pid)
