"""A pipelined PostgreSQL transaction's statements held and sent as one (``sql.Held``), and its ``BEGIN``,
``COMMIT`` and sync sent below psycopg's cursor (``store/pgqueue.py``), against the server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from aga_swarm.store import pgqueue, sql
from aga_swarm.store.codec import EventRow, SwarmSeqRow
from aga_swarm.store.database import Database

SWARM = ("INSERT INTO swarms (id, owner_id, name, goal, config_id, status, last_seq, first_seq, usage, created_at, "
         "updated_at) VALUES ('s1', 'u1', 'n', 'g', 'local', 'running', 0, 1, '{}', 0, 0)")
OP = ("INSERT INTO operations (swarm_id, node_id, kind, status, payload, attempts, idem_key, not_before, claim, "
      "created_at) VALUES ('s1', 'n', 'step', 'running', '{}', 1, %s, 0, 'c1', 0) RETURNING id")


def _op_row(key: str) -> dict[str, Any]:
    return {"swarm_id": "s1", "node_id": "n", "kind": "step", "status": "running", "payload": "{}", "attempts": 1,
            "idem_key": key, "not_before": 0, "claim": "c2", "lease_until": None, "created_at": 0}


@pytest.fixture
def db(empty_pg_url: str) -> Iterator[Database]:
    database = Database(empty_pg_url)
    with database.raw_tx() as conn:
        conn.cursor.execute(SWARM)
    yield database
    database.dispose()


def _op(db: Database, key: str) -> int:
    with db.raw_tx() as conn:
        conn.cursor.execute(OP, [key])
        row = conn.cursor.fetchone()
        assert row is not None
        return int(row[0])


def _count(db: Database, query: str) -> int:
    with db.raw_read() as conn:
        return int(sql.fetch_one(conn, sql.Q(query)).n)


class _Statements:
    """The statements a transaction sends, counted on its queue (where every held statement goes)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        original = pgqueue.QueuingCursor.execute

        def execute(cur: Any, query: Any, *a: Any, **k: Any) -> Any:
            self.texts.append(str(query))
            return original(cur, query, *a, **k)

        monkeypatch.setattr(pgqueue.QueuingCursor, "execute", execute)


def _group(conn: Any, op_id: int, *, seq_read: int, next_key: str) -> Any:
    """What a chain's group writes: the guard of the swarm row read without a lock, the leading operation's end,
    the chained operation's insert (its id read after the commit), then the flush's events and swarm row."""
    conn.unguarded.append(("s1", seq_read))
    sql.send(conn, sql.checked(sql.DELETE_DONE_OPERATION), {"id": op_id, "claim": "c1"})
    pending = sql.send_returning(conn, sql.INSERT_OPERATION_RETURNING, _op_row(next_key))
    out = sql.Writes(conn)
    out.rows(sql.INSERT_EVENT, [EventRow("s1", i, 0.0, "journal", None, "{}") for i in (1, 2)])
    out.rows(sql.UPDATE_SWARM_SEQ, [SwarmSeqRow(2, "running", None, None, 0.0, "s1")])
    out.send()
    return pending


def test_a_groups_writes_go_out_as_one_statement(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    op_id = _op(db, "k1")
    sent = _Statements(monkeypatch)
    with db.raw_tx() as conn:
        pending = _group(conn, op_id, seq_read=0, next_key="k2")
    assert len(sent.texts) == 1 and sent.texts[0].startswith("WITH g0 AS (")  # the guard, the end, insert, writes
    found = sql.returned(pending)
    assert found is not None and found.id > op_id
    assert _count(db, "SELECT count(*) AS n FROM operations") == 1  # k1 ended (deleted), k2 written
    assert _count(db, "SELECT count(*) AS n FROM operations WHERE idem_key = 'k2'") == 1
    assert _count(db, "SELECT count(*) AS n FROM events") == 2
    assert _count(db, "SELECT last_seq AS n FROM swarms") == 2


def test_a_stale_guard_in_the_statement_writes_nothing(db: Database) -> None:
    op_id = _op(db, "k1")
    with pytest.raises(psycopg.Error) as failed, db.raw_tx() as conn:
        _group(conn, op_id, seq_read=7, next_key="k2")  # the row says last_seq 0
    assert sql.is_stale(failed.value) and not sql.is_lost_claim(failed.value)
    assert _count(db, "SELECT count(*) AS n FROM events") == 0
    assert _count(db, "SELECT count(*) AS n FROM operations WHERE idem_key = 'k1'") == 1


def test_a_lost_claim_in_the_statement_writes_nothing(db: Database) -> None:
    op_id = _op(db, "k1")
    with pytest.raises(psycopg.Error) as failed, db.raw_tx() as conn:
        _group(conn, op_id + 100, seq_read=0, next_key="k2")  # no such operation: its end changes no row
    assert sql.is_lost_claim(failed.value) and not sql.is_stale(failed.value)
    assert _count(db, "SELECT count(*) AS n FROM events") == 0
    assert _count(db, "SELECT count(*) AS n FROM operations") == 1


def test_an_operation_ended_and_written_again_with_its_key_in_one_statement(db: Database) -> None:
    op_id = _op(db, "k1")
    with db.raw_tx() as conn:
        pending = _group(conn, op_id, seq_read=0, next_key="k1")  # the end runs before the insert
    found = sql.returned(pending)
    assert found is not None and found.id != op_id


def test_what_is_held_goes_out_before_any_other_statement(db: Database) -> None:
    op_id = _op(db, "k1")
    with db.raw_tx() as conn:
        sql.send(conn, sql.checked(sql.DELETE_DONE_OPERATION), {"id": op_id, "claim": "c1"})
        assert conn.held is not None and conn.held.n  # held, not sent
        # a read sees it, as if it had been sent at once: by ``sql.fetch`` and on the cursor directly
        assert sql.fetch_one(conn, sql.Q("SELECT count(*) AS n FROM operations")).n == 0
    op_id = _op(db, "k2")
    with pytest.raises(psycopg.Error) as failed, db.raw_tx() as conn:
        sql.send(conn, sql.checked(sql.DELETE_DONE_OPERATION), {"id": op_id, "claim": "c1"})
        sql.send(conn, sql.checked(sql.TAKE_RESERVED_OPERATION), {"id": op_id, "sid": "s1", "key": "k2"})
        conn.cursor.execute("SELECT count(*) FROM operations")  # the second check fails: nothing left to take
        conn.cursor.fetchone()
    assert sql.is_lost_claim(failed.value)
    assert _count(db, "SELECT count(*) AS n FROM operations") == 1  # rolled back


def test_a_commit_sent_ahead_is_read_without_a_round_trip(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chain's commit goes out with its sync: by the time it is confirmed its results are in this process's
    socket, and reading them writes nothing to the server."""
    op_id = _op(db, "k1")
    tx: Any = db.raw_tx()
    with tx as conn:
        pending_id = _group(conn, op_id, seq_read=0, next_key="k2")
        conn.defer_commit = True
    assert tx.pending is not None and not tx.pending.done
    writer = tx.writer
    assert writer.raw.dbapi.pgconn.flush() == 0  # the commit and its sync are all written: nothing left to send
    sent = _Statements(monkeypatch)
    tx.pending.wait()
    assert tx.pending.done and sent.texts == []
    assert _count(db, "SELECT count(*) AS n FROM events") == 2
    found = sql.returned(pending_id)
    assert found is not None and found.id > op_id
    with db.raw_tx() as conn:  # the connection went back for the next transaction
        assert sql.fetch_one(conn, sql.Q("SELECT last_seq AS n FROM swarms")).n == 2


def test_a_guard_sent_before_a_read_waits_and_what_follows_sees_that_commit(db: Database) -> None:
    """Held statements that go out early (a read comes first) are sent as they were before being held: the guard,
    which may wait for the swarm row's lock, then the rest in a statement of its own, whose snapshot comes after
    that wait. Here the previous group's transaction, committing meanwhile, wrote the operation this one ends
    (a chain's commit sent ahead: its id not known yet, ended by key); one statement would not see it."""
    import threading
    import time

    other = psycopg.connect(db.url.replace("postgresql+psycopg://", "postgresql://"))
    other.execute("UPDATE swarms SET last_seq = 1 WHERE id = 's1'")  # the previous group: the row's lock ...
    other.execute(OP, ["k9"])  # ... and the chained operation it wrote claimed, not committed yet
    errors: list[BaseException] = []

    def next_group() -> None:
        try:
            with db.raw_tx() as conn:
                conn.unguarded.append(("s1", 1))  # the row as the previous group left it (this process's cache)
                sql.send(conn, sql.checked(sql.DELETE_DONE_OPERATION_BY_KEY), {"sid": "s1", "key": "k9",
                                                                                "claim": "c1"})
                sql.fetch(conn, sql.Q("SELECT 1 AS one"))  # a read: what is held goes out now, and waits
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=next_group)
    thread.start()
    time.sleep(0.5)  # the guard waits for the row's lock meanwhile
    other.commit()
    thread.join(30)
    other.close()
    assert not thread.is_alive() and errors == []
    assert _count(db, "SELECT count(*) AS n FROM operations") == 0
