"""psycopg in pipeline mode, with statements queued rather than sent one by one (PostgreSQL only: imported by
``Database`` for a PostgreSQL store).

psycopg's ``execute`` in pipeline mode sends each statement as it is executed: a poll of the socket, a write to
it, and a wake-up of the server process per statement. The engine's transactions read few results (usually
none before the commit), so most of their statements are queued here instead, and go out together with the next
statement whose result is read (``fetch``), or with the commit's sync: one write, and one wake-up of the server,
for the whole transaction. Errors are unchanged: a queued statement's error is raised where the results are
read, as before (``docs/postgres.md``).

``BEGIN`` and ``COMMIT`` are queued below psycopg's cursor (``queue_plain``): a statement without parameters
whose result is only checked for an error needs none of a cursor's work (5-15 µs each). A commit sent ahead
goes out with its sync (``send_queued(sync=True)``), so the server flushes its results at once and reading them
later (``read_sent``) waits for no round trip.

This reaches into psycopg's pipeline (its command and result queues, and the generators ``Cursor.execute`` and
``Pipeline.sync`` run): the version is pinned (``requirements.lock``), and ``tests/store/test_sql_batching.py``
and ``tests/store/test_pgqueue.py`` run these paths against the server.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from functools import partial
from typing import Any

from psycopg import Cursor, generators


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


class EmittingCursor(Cursor[Any]):
    """The cursor of a pipelined transaction for the statements whose results it reads (``RawConnection.cursor``):
    what the transaction holds to send as parts of its next write statement (``sql.Held``) goes out first, so a
    statement run on it directly sees every write before it, as if each had been sent at once."""

    held: Any = None  # ``sql.Held`` of the transaction's connection

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        held = self.held
        if held is not None and held.n:
            held.emit()
        return super().execute(query, params, **kwargs)

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        held = self.held
        if held is not None and held.n:
            held.emit()
        super().executemany(query, params_seq, **kwargs)


def queue_plain(pipeline: Any, statement: bytes) -> None:
    """Queue ``statement`` (no parameters, no rows: ``BEGIN``, ``COMMIT``) in ``pipeline`` without a cursor: its
    result is checked for an error where the results are read, as psycopg checks its own commands'."""
    pipeline.command_queue.append(partial(pipeline.pgconn.send_query_params, statement, None))
    pipeline.result_queue.append(None)


def _write_gen(pipeline: Any) -> Generator[Any, Any, None]:
    queue = pipeline.command_queue
    while queue:
        queue.popleft()()  # into libpq's buffer
    yield from generators.send(pipeline.pgconn)  # to the socket, without waiting for any result


def send_queued(dbapi: Any, pipeline: Any, *, sync: bool = False) -> None:
    """Write what is queued in ``pipeline`` to the server in one go, without waiting for the results; with
    ``sync``, end it with a sync, after which the server sends every result at once (``read_sent``)."""
    if sync:
        pipeline._enqueue_sync()
    with dbapi.lock:
        dbapi.wait(_write_gen(pipeline))


def read_sent(dbapi: Any, pipeline: Any) -> None:
    """Read the results of what ``send_queued(sync=True)`` sent (and process them, as psycopg does: rows to their
    cursors), raising the first error among them, as ``Pipeline.sync`` does."""
    with dbapi.lock:
        dbapi.wait(pipeline._fetch_gen(flush=False))


def sync(dbapi: Any, pipeline: Any) -> None:
    """``Pipeline.sync``, with what is queued written in one go (psycopg writes one queued command per turn)."""
    send_queued(dbapi, pipeline, sync=True)
    read_sent(dbapi, pipeline)
