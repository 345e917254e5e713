"""The hot path's statements on PostgreSQL: many rows as one statement (``Q.many_rows``) and transactions in
psycopg's pipeline mode (``Database._pipelined_tx``), checked against what SQLite writes row by row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from aga_swarm.store import sql
from aga_swarm.store.codec import EventRow, MessageRow, NodeDataRow, NodeRow, NodeUpdateRow, RequestRow
from aga_swarm.store.database import Database

SWARM = ("INSERT INTO swarms (id, owner_id, name, goal, config_id, status, last_seq, first_seq, usage, created_at, "
         "updated_at) VALUES ('s1', 'u1', 'n', 'g', 'local', 'running', 0, 1, '{}', 0, 0)")


def _write(db: Database, *, one_statement: bool = False) -> None:
    """Every statement that has a many-rows form, each given several rows (and once one row); with
    ``one_statement``, as a flush writes them (``sql.Writes``: on PostgreSQL one statement for all)."""
    with db.raw_tx() as conn:
        conn.cursor.execute(SWARM)
        out = sql.Writes(conn)

        def run_rows(c: object, q: sql.Q, rows: list[Any]) -> None:
            if one_statement:
                out.rows(q, rows)
            else:
                sql.run_rows(c, q, rows)

        run_rows(conn, sql.INSERT_EVENT, [EventRow("s1", i, 1.5 * i, "journal", None if i % 2 else "n",
                                                   f'{{"i": {i}, "text": "quote \\" and \\\\ and \'"}}')
                                          for i in range(1, 5)])
        run_rows(conn, sql.INSERT_NODE, [NodeRow("s1", n, None if n == "n" else "n", "running", 1, f'{{"id": "{n}"}}')
                                         for n in ("n", "n.1", "n.2")])
        if one_statement:  # the parts of one statement must write distinct rows: the updates come in a second one
            assert out.parts is None if db.is_sqlite else len(out.parts or ()) == 2
            out.send()
        run_rows(conn, sql.UPDATE_NODE, [NodeUpdateRow("done", 0, f'{{"id": "{n}", "v": 2}}', "s1", n)
                                         for n in ("n.1", "n.2")])
        run_rows(conn, sql.UPDATE_NODE_DATA, [NodeDataRow("waiting_user", '{"id": "n", "v": 3}', "s1", "n")])
        run_rows(conn, sql.INSERT_MESSAGE, [MessageRow("s1", f"c.m{i}", "c", i, "user", f"text {i} ✓",
                                                       None, "[]", 2.0) for i in range(3)])
        run_rows(conn, sql.INSERT_LLM_REQUEST, [RequestRow("s1", "k1", '{"a": 1}', None),
                                                RequestRow("s1", "k1", '{"a": 1}', None),  # stored once
                                                RequestRow("s1", "k2", None, "users/u1/blob")])
        if one_statement:
            assert out.parts is None if db.is_sqlite else len(out.parts or ()) == 4
            out.send()


def _read(db: Database) -> dict[str, list[tuple[object, ...]]]:
    queries = {
        "events": "SELECT seq, ts, type, node_id, data FROM events ORDER BY seq",
        "nodes": "SELECT id, parent_id, lifecycle, live, data FROM nodes ORDER BY id",
        "messages": "SELECT id, chat_id, idx, role, content, reply_to, attachments, created_at FROM messages "
                    "ORDER BY idx",
        "llm_requests": "SELECT key, body, blob_key FROM llm_requests ORDER BY key",
    }
    out = {}
    with db.raw_read() as conn:
        for table, query in queries.items():
            conn.cursor.execute(query)
            out[table] = [tuple(sql.from_json(v) if isinstance(v, str) and v[:1] in "{[" else v for v in row)
                          for row in conn.cursor.fetchall()]
    return out


def test_many_rows_as_one_statement_write_what_sqlite_writes_row_by_row(tmp_path: Path, empty_pg_url: str) -> None:
    assert sql.INSERT_EVENT.pg_many and "json_array_elements(" in sql.INSERT_EVENT.pg_many
    assert sql.UPDATE_NODE.pg_many and "nodes.id = v.id" in sql.UPDATE_NODE.pg_many
    lite, pg = Database(f"sqlite:///{tmp_path / 'a.db'}"), Database(empty_pg_url)
    try:
        for db in (lite, pg):
            _write(db)
        on_sqlite, on_pg = _read(lite), _read(pg)
        assert on_pg == on_sqlite
        assert len(on_pg["events"]) == 4 and len(on_pg["llm_requests"]) == 2
        assert [r[2:4] for r in on_pg["nodes"]] == [("waiting_user", 1), ("done", 0), ("done", 0)]
    finally:
        lite.dispose()
        pg.dispose()


def test_a_flush_written_as_one_statement_writes_what_sqlite_writes(tmp_path: Path, empty_pg_url: str) -> None:
    lite, pg = Database(f"sqlite:///{tmp_path / 'a.db'}"), Database(empty_pg_url)
    try:
        for db in (lite, pg):
            _write(db, one_statement=True)
        on_sqlite, on_pg = _read(lite), _read(pg)
        assert on_pg == on_sqlite
        assert len(on_pg["events"]) == 4 and len(on_pg["llm_requests"]) == 2
    finally:
        lite.dispose()
        pg.dispose()


def test_a_pipelined_transaction_commits_all_or_nothing(empty_pg_url: str) -> None:
    db = Database(empty_pg_url)
    try:
        with db.raw_tx() as conn:
            assert conn.pipeline is not None  # PostgreSQL transactions run in pipeline mode
            conn.cursor.execute(SWARM)
            sql.run_rows(conn, sql.INSERT_EVENT, [EventRow("s1", 1, 0.0, "journal", None, "{}")])
            sql.send(conn, sql.INSERT_OPERATION, {
                "swarm_id": "s1", "node_id": "n", "kind": "step", "status": "running", "payload": "{}",
                "attempts": 1, "idem_key": "k", "not_before": 0, "claim": "c1", "lease_until": None, "created_at": 0})
            # a row count is read from the server, inside the pipeline
            missing = {"id": -1, "claim": "c1", "status": "failed", "error": None}
            assert sql.run(conn, sql.FINISH_OPERATION, missing) == 0
            (op,) = sql.fetch(conn, sql.Q("SELECT id FROM operations WHERE idem_key = 'k'"))
            assert sql.run(conn, sql.DELETE_DONE_OPERATION, {"id": op.id, "claim": "c1"}) == 1
        # a queued statement that fails (a duplicate event) fails the commit and rolls back what came before it
        with pytest.raises(psycopg.errors.UniqueViolation), db.raw_tx() as conn:
            sql.send(conn, sql.Q("UPDATE swarms SET name = 'changed' WHERE id = 's1'"))
            sql.run_rows(conn, sql.INSERT_EVENT, [EventRow("s1", 1, 0.0, "journal", None, "{}")])
        # a Python error inside the transaction rolls it back too
        with pytest.raises(RuntimeError), db.raw_tx() as conn:
            sql.send(conn, sql.Q("UPDATE swarms SET name = 'changed' WHERE id = 's1'"))
            raise RuntimeError("a step failed")
        for _ in range(db.pool_size + 1):  # every pooled connection is usable again, out of pipeline mode
            with db.raw_tx() as conn:
                assert sql.fetch_one(conn, sql.Q("SELECT name FROM swarms WHERE id = 's1'")).name == "n"
                assert sql.fetch_one(conn, sql.Q("SELECT count(*) AS n FROM events")).n == 1
                assert sql.fetch_one(conn, sql.Q("SELECT count(*) AS n FROM operations")).n == 0
        with db.tx() as sa:  # and for SQLAlchemy's own transactions
            assert sa.exec_driver_sql("SELECT count(*) FROM events").scalar() == 1
    finally:
        db.dispose()
