"""psycopg in pipeline mode, with statements queued rather than sent one by one (PostgreSQL only: imported by
``Database`` for a PostgreSQL store).

psycopg's ``execute`` in pipeline mode sends each statement as it is executed: a poll of the socket, a write to
it, and a wake-up of the server process per statement. The engine's transactions read few results (usually
none before the commit), so most of their statements are queued here instead, and go out together with the next
statement whose result is read (``fetch``), or with the commit's sync: one write, and one wake-up of the server,
for the whole transaction. Errors are unchanged: a queued statement's error is raised where the results are
read, as before (``docs/postgres.md``).

This reaches into psycopg's pipeline (its command queue, and the generator ``Cursor.execute`` runs): the
version is pinned (``requirements.lock``), and ``tests/store/test_sql_batching.py`` runs these paths against
the server.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from psycopg import Cursor


def _send_all(commands: tuple[Callable[[], Any], ...]) -> None:
    for command in commands:
        command()


class QueuingCursor(Cursor[Any]):
    """A cursor whose ``execute``, in pipeline mode, only queues the statement (psycopg's own ``_execute_gen``
    less its ``_communicate_gen``), and folds what is queued into one command, so that the next exchange
    writes it all in one go (psycopg sends one queued command per turn of its I/O loop)."""

    def _execute_gen(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                     binary: bool | None = None) -> Generator[Any, Any, None]:
        conn: Any = self._conn
        yield from self._start_query(query)
        pgq = self._convert_query(query, params)
        yield from self._maybe_prepare_gen(pgq, prepare=prepare, binary=binary)
        self._last_query = query
        yield from conn._prepared.maintain_gen(conn)
        pipeline = conn._pipeline
        if pipeline is None:  # not pipelined (never, as ``Database`` uses it): run it as psycopg does
            return
        queue = pipeline.command_queue
        if len(queue) > 1:
            commands = tuple(queue)
            queue.clear()
            queue.append(lambda: _send_all(commands))


def send_queued(dbapi: Any, pipeline: Any) -> None:
    """Write what is queued in ``pipeline`` to the socket (reading whatever results have come back meanwhile,
    as psycopg's ``execute`` does), without waiting for the results: ``Database``'s commit sent ahead."""
    dbapi.wait(pipeline._communicate_gen())
