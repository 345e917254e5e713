"""Hot-path SQL, written once and run on the DBAPI cursor of the current SQLAlchemy transaction.

Building and dispatching a SQLAlchemy statement costs several times more than executing it on SQLite, and
every operation runs about ten statements, so the executor's path uses these. Transactions are still
SQLAlchemy's (begin/commit/rollback, pooling); only statement dispatch is direct. The SQL is what SQLite and
PostgreSQL share (``ON CONFLICT ... DO NOTHING`` included), written with ``:name`` parameters and translated
once to psycopg's ``%(name)s``. JSON goes in as a string (PostgreSQL casts it to ``json``) and comes back
through :func:`from_json`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import JSON, Float, Integer, Table

from . import packing
from . import tables as t
from .codec import (
    ChatRow,
    ChatUpdateRow,
    EventRow,
    JournalRow,
    MessageRow,
    NodeDataRow,
    NodeRow,
    NodeUpdateRow,
    RequestRow,
    SwarmSeqRow,
    SwarmUpdateRow,
)

PACKED_BYTES = frozenset({bytes([packing.V1]), bytes([packing.V1_NODE])})  # first bytes of packed JSON values
_PARAM = re.compile(r"(?<!:):(\w+)")


class Q:
    """One statement in both parameter styles, by name (dicts) and, for the hottest writes, by position
    (tuples: binding by name costs SQLite's driver a lookup per parameter, most of an insert's own time)."""

    def __init__(self, sql: str) -> None:
        self.sqlite = sql
        self.pg = _PARAM.sub(r"%(\1)s", sql)
        self.names = tuple(_PARAM.findall(sql))
        self._sqlite_pos = _PARAM.sub("?", sql)
        self._pg_pos = _PARAM.sub("%s", sql)
        self.row: type[tuple[Any, ...]] | None = None  # the NamedTuple ``run_rows`` takes (``positional``)
        # PostgreSQL: one statement for many rows, its parameter one JSON text (``many_rows``)
        self.pg_many: str | None = None
        # SQLite: a plain ``INSERT ... VALUES (?, ...)``'s row tuple, repeated for a multi-row insert (``run_rows``)
        head, sep, tail = self._sqlite_pos.partition(" VALUES ")
        self.multi_row: tuple[str, str] | None = (head, tail) if (
            sep and head.startswith("INSERT") and tail.startswith("(") and tail.endswith(")")
            and tail.count("(") == 1) else None
        self._multi_texts: dict[int, str] = {}
        self.checks: Q | None = None  # a ``checked`` statement's own statement

    def multi_row_text(self, rows: int) -> str:
        """This ``INSERT`` for ``rows`` rows in one statement (SQLite, ``?`` parameters)."""
        text = self._multi_texts.get(rows)
        if text is None:
            assert self.multi_row is not None
            head, values = self.multi_row
            text = self._multi_texts[rows] = head + " VALUES " + ", ".join([values] * rows)
        return text

    def text_for(self, conn: Any) -> str:
        return self.pg if conn.dialect.name == "postgresql" else self.sqlite

    def positional_text_for(self, conn: Any) -> str:
        return self._pg_pos if conn.dialect.name == "postgresql" else self._sqlite_pos

    def positional(self, row: type[tuple[Any, ...]]) -> Q:
        """Declare the NamedTuple (``codec``) whose values ``run_rows`` gives, in its fields' order (checked here,
        once: its fields must be this statement's parameters, in order)."""
        names = tuple(getattr(row, "_fields", ()))
        if names != self.names:
            raise ValueError(f"parameters are {self.names}, not {row.__name__}'s {names}: {self.sqlite}")
        self.row = row
        return self

    def many_rows(self, table: Table) -> Q:
        """On PostgreSQL, run many rows as one statement over one JSON parameter, the rows as arrays of their
        values in this statement's order (``rows_json``): one statement to send and plan instead of one per row
        (a group's events, a fan-out's nodes). An ``INSERT ... VALUES (...)`` becomes ``INSERT ... SELECT ...
        FROM json_array_elements(...)``; an ``UPDATE t SET c = :c ... WHERE k = :k AND ...`` joins the rows as
        ``v`` on its keys. Each value is read back as text and cast to its column's type (a JSON column's value
        goes in as the JSON text it is, so what is stored is that text). One JSON text built by orjson costs
        this process a tenth of what psycopg's dumping of one binary array per column did (bench/RESULTS.md,
        "PostgreSQL, third pass")."""
        values = ", ".join(f"(r->>{i})::{_pg_type(table.c[name].type)} AS {name}" for i, name in enumerate(self.names))
        rows = f"SELECT {values} FROM json_array_elements(%s::json) AS r"
        head, _, tail = self.sqlite.partition(" VALUES (")
        if tail:
            rest = tail.split(")", 1)[1]
            self.pg_many = f"{head} {rows}{rest}"
        else:
            sets, _, where = self.sqlite.partition(" WHERE ")
            keys = [c.split(" = ")[0] for c in where.split(" AND ")]
            self.pg_many = (_PARAM.sub(r"v.\1", sets) + f" FROM ({rows}) AS v "
                            "WHERE " + " AND ".join(f"{table.name}.{k} = v.{k}" for k in keys))
        return self


def rows_json(rows: Sequence[tuple[Any, ...]]) -> str:
    """The parameter of a ``Q.many_rows`` statement: the rows as one JSON array of arrays."""
    return orjson.dumps(rows, default=tuple).decode()


def _pg_type(column_type: Any) -> str:
    """The PostgreSQL type a column's values are cast to (``Q.many_rows``)."""
    if isinstance(column_type, JSON):
        return "json"
    if isinstance(column_type, Float):
        return "float8"
    if isinstance(column_type, Integer):  # BigInteger too
        return "bigint"
    return "text"


def _cursor(conn: Any) -> Any:
    """The DBAPI cursor of a SQLAlchemy Connection, or the one a ``RawConnection`` keeps for its lifetime."""
    cur = getattr(conn, "cursor", None)
    if cur is not None:
        return cur
    return conn.connection.driver_connection.cursor()


def run(conn: Any, q: Q, params: dict[str, Any] | None = None) -> int:
    """Execute; return the row count (in a pipelined transaction this waits for the server: use ``send``
    when the count does not matter)."""
    if getattr(conn, "unguarded", None):
        send_guards(conn)
    pipeline = getattr(conn, "pipeline", None)
    if pipeline is not None:
        conn.held.emit()
        cur = conn.queue
        cur.execute(q.pg, params or {})
        pipeline.sync()
        return int(cur.rowcount)
    cur = _cursor(conn)
    cur.execute(q.text_for(conn), params or {})
    return int(cur.rowcount)


def send(conn: Any, q: Q, params: dict[str, Any] | None = None) -> None:
    """Execute, without waiting for the outcome in a pipelined transaction (an error surfaces at the next
    result read, at the latest at the commit)."""
    if getattr(conn, "unguarded", None):
        send_guards(conn)
    held = getattr(conn, "held", None)
    if held is not None:
        if q.checks is not None:  # held, to go out within the next write statement
            held.check(q.checks, params or {})
            return
        held.emit()
    queue = getattr(conn, "queue", None)
    (queue or _cursor(conn)).execute(q.text_for(conn), params or {})


def run_many(conn: Any, q: Q, params: list[dict[str, Any]]) -> None:
    if getattr(conn, "unguarded", None):
        send_guards(conn)
    held = getattr(conn, "held", None)
    if held is not None:
        held.emit()
    cur = _cursor(conn)
    if len(params) == 1:
        cur.execute(q.text_for(conn), params[0])
    else:
        cur.executemany(q.text_for(conn), params)


def run_rows(conn: Any, q: Q, rows: Sequence[tuple[Any, ...]]) -> None:
    """Execute for each tuple, its values in the order ``q.positional`` declared."""
    if getattr(conn, "unguarded", None):
        send_guards(conn)
    held = getattr(conn, "held", None)
    if held is not None:
        held.emit()
    cur = _cursor(conn)
    if len(rows) == 1:
        (getattr(conn, "queue", None) or cur).execute(q.positional_text_for(conn), rows[0])
    elif q.pg_many is not None and conn.dialect.name == "postgresql":
        (getattr(conn, "queue", None) or cur).execute(q.pg_many, [rows_json(rows)])
    elif len(rows) >= _MULTI_ROW_SIZES[-1] and q.multi_row is not None and conn.dialect.name == "sqlite":
        _insert_multi_row(cur, q, rows)
    else:
        cur.executemany(q.positional_text_for(conn), rows)


# SQLite: a big insert goes as statements of this many rows each (``INSERT ... VALUES (...), (...)``), the rest
# by ``executemany``: one statement step per chunk instead of one per row saves about a quarter of the insert's
# CPU (a fan-out writes ~3 rows per child). Few sizes, so that each chunk's statement is prepared once and then
# found in the driver's statement cache; the largest keeps a chunk's parameters far below SQLite's limit.
_MULTI_ROW_SIZES = (256, 64, 16)


def _insert_multi_row(cur: Any, q: Q, rows: Sequence[tuple[Any, ...]]) -> None:
    start, count = 0, len(rows)
    for size in _MULTI_ROW_SIZES:
        text = None
        while count - start >= size:
            if text is None:
                text = q.multi_row_text(size)
            cur.execute(text, [value for row in rows[start:start + size] for value in row])
            start += size
    if start < count:
        cur.executemany(q._sqlite_pos, rows[start:])


class Writes:
    """The row writes of one flush (``run_rows``' statements). In a pipelined PostgreSQL transaction they go out
    as one statement, each write but the last a data-modifying ``WITH`` part of it (``send``): one execute for
    psycopg to prepare, send and read back instead of one per table (an ask cycle writes five tables), which
    is most of what a write costs this process. The parts write distinct rows (new and changed nodes, say),
    as one statement's parts must. Elsewhere each write runs at once (``run_rows``)."""

    __slots__ = ("conn", "params", "parts")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.parts: list[str] | None = [] if getattr(conn, "pipeline", None) is not None else None
        self.params: list[Any] = []

    def rows(self, q: Q, rows: Sequence[tuple[Any, ...]]) -> None:
        parts = self.parts
        if parts is None:
            run_rows(self.conn, q, rows)
        elif len(rows) == 1:
            parts.append(q._pg_pos)
            self.params.extend(rows[0])
        elif q.pg_many is not None:
            parts.append(q.pg_many)
            self.params.append(rows_json(rows))
        else:
            for row in rows:
                parts.append(q._pg_pos)
                self.params.extend(row)

    def send(self) -> None:
        parts = self.parts
        if not parts:
            return
        conn = self.conn
        if conn.unguarded:
            send_guards(conn)
        held: Held = conn.held
        if held.ctes or held.guards[0]:  # the guards and the rest held: one statement with them
            held.writes(parts, self.params)
        else:
            held.emit()
            last = len(parts) - 1
            text = parts[0] if not last else \
                "WITH " + ", ".join(f"w{i} AS ({part})" for i, part in enumerate(parts[:last])) + " " + parts[last]
            conn.queue.execute(text, self.params)
        self.parts = []
        self.params = []


class Held:
    """What a pipelined PostgreSQL transaction (``RawConnection.held``) has yet to send and may send as parts of
    one statement: the guards of the swarm rows it read without a lock (``send_guards``), the ends of claimed
    operations (``checked`` statements sent), the chained operation's insert whose id is read after the commit
    (``send_returning``), then the flush's writes (``Writes``). They go out as ``WITH g0 AS (guard), c0 AS (...
    RETURNING 1), r0 AS (INSERT ... RETURNING id), w0 AS (...), ... SELECT <guards' and checks' results>, <ids>``:
    one statement for psycopg to convert and send and for the server to parse and run, instead of four to six
    (the guard, an operation's end, the chained operation and the writes of a chain's group).

    Order and visibility are those of the statements one after the other: the select list runs first and left to
    right, the guards (each takes its row's lock, and fails the statement if the row changed), then the checks
    (each fails it unless its statement changed one row), then the inserts whose id is read; the writes (``w``
    parts, whose rows no other part touches) run after the select list (PostgreSQL runs data-modifying ``WITH``
    parts nobody reads once the main query is done). Everything held goes out before any other statement of the
    transaction (``emit``: every function here that executes on it calls it first) and before its commit."""

    __slots__ = ("conn", "ctes", "guards", "n", "params", "returning", "returns", "selects")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.n = 0  # parts named so far
        # the guards apart (``emit``): (their parts, their parameters, their results to select)
        self.guards: tuple[list[str], list[Any], list[str]] = ([], [], [])
        self.ctes: list[str] = []
        self.params: list[Any] = []
        self.selects: list[str] = []  # what the statement's select list checks, in order
        self.returns: list[str] = []  # the ids read after the commit (``send_returning``)
        self.returning: _Returned | None = None  # their row, once the statement is sent

    def clear(self) -> None:
        self.n = 0
        self.guards = ([], [], [])
        self.ctes = []
        self.params = []
        self.selects = []
        self.returns = []
        self.returning = None

    def _name(self, kind: str) -> str:
        self.n += 1
        return f"{kind}{self.n - 1}"

    def guard(self, swarm_id: str, seq: int) -> None:
        name = self._name("g")
        ctes, params, selects = self.guards
        ctes.append(f"{name} AS ({GUARD_SWARM._pg_pos})")
        params += (swarm_id, seq)
        selects.append(f"(SELECT ok FROM {name})")

    def check(self, q: Q, params: dict[str, Any]) -> None:
        """``checked(q)`` sent with ``params``: ``q`` must change one row."""
        name = self._name("c")
        self.ctes.append(f"{name} AS ({q._pg_pos} RETURNING 1)")
        self.params += [params[n] for n in q.names]
        self.selects.append(f"CASE WHEN (SELECT count(*) FROM {name}) = 1 THEN 1 ELSE ('{LOST_MARK}: ' || "
                            f"(SELECT count(*) FROM {name}))::int END")

    def insert_returning(self, q: Q, params: dict[str, Any]) -> tuple[_Returned, int]:
        """``q`` (``INSERT ... RETURNING id``) held; its id (or None) is read, after the commit, from what this
        returns (``returned``)."""
        name = self._name("r")
        self.ctes.append(f"{name} AS ({q._pg_pos})")
        self.params += [params[n] for n in q.names]
        self.returns.append(f"(SELECT id FROM {name})")
        if self.returning is None:
            self.returning = _Returned()
        return self.returning.column(len(self.returns) - 1)

    def writes(self, parts: list[str], params: list[Any]) -> None:
        """A flush's writes (``Writes``), with what is held, as one statement."""
        self.ctes += [f"{self._name('w')} AS ({part})" for part in parts]
        self.params += params
        self.emit(merge=True)

    def statement(self, *, guards: bool = True, rest: bool = True) -> str:
        """What is held as one statement (its parameters: the guards' then ``params``)."""
        ctes = (self.guards[0] if guards else []) + (self.ctes if rest else [])
        selects = (self.guards[2] if guards else []) + (self.selects + self.returns if rest else [])
        return "WITH " + ", ".join(ctes) + " SELECT " + ", ".join(selects or ["1"])

    def emit(self, *, merge: bool = False) -> None:
        """Send what is held (queued, as every write: ``pgqueue``). With ``merge`` (a flush's writes, which go out
        with the commit, after the commit sent ahead before it is confirmed: ``GroupCommit._group``) as one
        statement; else (a read or another statement comes first, and goes out at once) the guards as one
        statement and the rest as another, as they were sent before they were held: a guard may wait for the
        lock of a transaction committing meanwhile (this process's commit sent ahead), and the statements after
        it must see what that one committed, which a part of the guard's own statement would not (one statement,
        one snapshot, taken before the wait)."""
        guard_ctes, guard_params, _ = self.guards
        if not guard_ctes and not self.ctes:
            return
        conn = self.conn
        queue = conn.queue
        if guard_ctes and not merge and self.ctes:
            queue.execute(self.statement(rest=False), guard_params)
            guard_ctes, guard_params = [], []
        text = self.statement(guards=bool(guard_ctes))
        returning = self.returning
        if returning is not None:
            cur = returning.cursor = type(queue)(conn.dbapi)  # read after the commit
            returning.offset = len(self.guards[2]) * bool(guard_ctes) + len(self.selects)
        else:
            cur = queue
        cur.execute(text, guard_params + self.params)
        self.clear()


class _Returned:
    """The row of a held statement's ids (``Held.insert_returning``), read once, after the commit."""

    __slots__ = ("cursor", "offset", "row")

    def __init__(self) -> None:
        self.cursor: Any = None
        self.offset = 0
        self.row: Any = None

    def column(self, index: int) -> tuple[_Returned, int]:
        return (self, index)

    def value(self, index: int) -> Any:
        cur = self.cursor
        if cur is not None:
            self.cursor = None
            try:
                self.row = cur.fetchone()
            finally:
                cur.close()
        row = self.row
        return None if row is None else row[self.offset + index]


def fetch(conn: Any, q: Q, params: dict[str, Any] | None = None) -> list[Any]:
    """Rows as objects with attribute access by column name."""
    held = getattr(conn, "held", None)
    if held is not None:
        held.emit()
    cur = _cursor(conn)
    cur.execute(q.text_for(conn), params or {})
    found = cur.fetchall()  # first: in pipeline mode the description arrives with the rows
    names = [d[0] for d in cur.description]
    return [SimpleNamespace(**dict(zip(names, row, strict=True))) for row in found]


def fetch_one(conn: Any, q: Q, params: dict[str, Any] | None = None) -> Any:
    found = fetch(conn, q, params)
    return found[0] if found else None


def write_returning(conn: Any, q: Q, params: dict[str, Any]) -> Any:
    """``fetch_one`` for a statement that writes (``INSERT ... RETURNING``): the swarm rows read without a lock
    are guarded first, as for every write (``send_guards``)."""
    if getattr(conn, "unguarded", None):
        send_guards(conn)
    return fetch_one(conn, q, params)


def send_returning(conn: Any, q: Q, params: dict[str, Any]) -> Any:
    """A write with ``RETURNING`` in a pipelined transaction, on a cursor of its own, without waiting for its row:
    read it with ``returned`` once the transaction has committed (the commit's sync brings every result)."""
    if conn.unguarded:
        send_guards(conn)
    return conn.held.insert_returning(q, params)


def returned(cur: Any) -> Any:
    """The row a ``send_returning`` statement returned (None if none), with attribute access; closes its cursor."""
    if type(cur) is tuple:  # held (``Held.insert_returning``): its id
        found_id = cur[0].value(cur[1])
        return None if found_id is None else SimpleNamespace(id=found_id)
    try:
        found = cur.fetchone()
        if found is None:
            return None
        return SimpleNamespace(**dict(zip([d[0] for d in cur.description], found, strict=True)))
    finally:
        cur.close()


# ---- swarm rows read without a lock (PostgreSQL) ------------------------------------------------------------
STALE_MARK = "aga_swarm: the swarm row changed since it was read"
# Takes the swarm row's lock and checks that its last_seq is still the one read: else it fails with an error
# (a text that is no integer, cast to one: plain SQL has no RAISE), which aborts the transaction (in pipeline
# mode, every statement queued after it too). The failing branch reads the row, so the planner cannot fold it
# into a constant and fail every time.
GUARD_SWARM = Q("WITH s AS (SELECT last_seq FROM swarms WHERE id = :id FOR UPDATE) "
                "SELECT CASE WHEN (SELECT last_seq FROM s) = :seq THEN 1 ELSE ('" + STALE_MARK + ": last_seq ' "
                "|| coalesce((SELECT last_seq FROM s)::text, 'gone'))::int END AS ok")


def send_guards(conn: Any) -> None:
    """Before a transaction's first write (and at the latest before its commit): take the lock of each swarm row
    it read without one (``conn.unguarded``: swarm id and the last_seq read, in the order the rows were read,
    which ``GroupCommit`` keeps sorted by swarm id) and check nobody changed it since (``GUARD_SWARM``). A row
    that changed fails the transaction (``is_stale``), and the engine runs it again. The lock is then held only
    while the writes go out, not while the steps' Python runs (issue 14)."""
    pending = conn.unguarded
    held = getattr(conn, "held", None)
    if held is not None:  # to go out within the next write statement (``Held``)
        for swarm_id, seq in pending:
            held.guard(swarm_id, seq)
    else:
        cur = conn.queue
        text = GUARD_SWARM.pg
        for swarm_id, seq in pending:
            cur.execute(text, {"id": swarm_id, "seq": seq})
    pending.clear()


def _marked(exc: BaseException | None, mark: str) -> bool:
    seen = 0
    while exc is not None and seen < 8:
        if getattr(exc, "sqlstate", None) == "22P02" and mark in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def is_stale(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from or during) is a failed ``GUARD_SWARM``."""
    return _marked(exc, STALE_MARK)


def is_lost_claim(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or one it was raised from or during) is a failed ``checked`` statement."""
    return _marked(exc, LOST_MARK)

SWARM = Q("SELECT * FROM swarms WHERE id = :id")
SWARM_FOR_UPDATE = Q("SELECT * FROM swarms WHERE id = :id FOR UPDATE")
NODE = Q("SELECT data FROM nodes WHERE swarm_id = :sid AND id = :id")
CHILD_NODES = Q("SELECT id, data FROM nodes WHERE swarm_id = :sid AND parent_id = :pid")
# a node is live (its row's ``live`` = 1) in these lifecycles; the parent index is (swarm, parent, live)
# (migration 0014), so one index seek finds a live child: children ending one at a time (a chain of dependencies)
# cost O(1) each, and a lifecycle change between two live ones (running, waiting_user) leaves the index alone
LIVE_LIFECYCLES = ("spawned", "waiting_deps", "running", "waiting_llm", "waiting_user", "waiting_children")
ANY_LIVE_CHILD = Q("SELECT 1 AS live FROM nodes WHERE swarm_id = :sid AND parent_id = :pid AND live = 1 LIMIT 1")
LIVE_NODES = Q("SELECT id FROM nodes WHERE swarm_id = :sid AND live = 1")
NODE_FOR_LLM_CALL = Q("SELECT s.config_id, n.data FROM nodes n JOIN swarms s ON s.id = n.swarm_id "
                      "WHERE n.swarm_id = :sid AND n.id = :id")
CHAT = Q("SELECT data FROM chats WHERE swarm_id = :sid AND id = :id")

INSERT_EVENT = Q("INSERT INTO events (swarm_id, seq, ts, type, node_id, data) "
                 "VALUES (:swarm_id, :seq, :ts, :type, :node_id, :data)"
                 ).positional(EventRow).many_rows(t.events)
INSERT_NODE = Q("INSERT INTO nodes (swarm_id, id, parent_id, lifecycle, live, data) "
                "VALUES (:swarm_id, :id, :parent_id, :lifecycle, :live, :data)").positional(NodeRow).many_rows(t.nodes)
UPDATE_NODE = Q("UPDATE nodes SET lifecycle = :lifecycle, live = :live, data = :data "
                "WHERE swarm_id = :swarm_id AND id = :id").positional(NodeUpdateRow).many_rows(t.nodes)
# ``live`` not in the SET list: SQLite then leaves the parent index alone (it rewrites an index entry whenever the
# statement assigns one of the index's columns, changed or not)
UPDATE_NODE_DATA = Q("UPDATE nodes SET lifecycle = :lifecycle, data = :data WHERE swarm_id = :swarm_id AND id = :id"
                     ).positional(NodeDataRow).many_rows(t.nodes)
INSERT_CHAT = Q("INSERT INTO chats (swarm_id, id, node_id, status, data) "
                "VALUES (:swarm_id, :id, :node_id, :status, :data)").positional(ChatRow).many_rows(t.chats)
UPDATE_CHAT = Q("UPDATE chats SET status = :status, data = :data WHERE swarm_id = :swarm_id AND id = :id"
                ).positional(ChatUpdateRow).many_rows(t.chats)
INSERT_MESSAGE = Q("INSERT INTO messages (swarm_id, id, chat_id, idx, role, content, reply_to, attachments, "
                      "created_at) VALUES (:swarm_id, :id, :chat_id, :idx, :role, :content, :reply_to, "
                      ":attachments, :created_at)"
                   ).positional(MessageRow).many_rows(t.messages)
INSERT_JOURNAL = Q("INSERT INTO journal (swarm_id, node_id, step, text, created_at, seq) "
                   "VALUES (:swarm_id, :node_id, :step, :text, :created_at, :seq)"
                   ).positional(JournalRow).many_rows(t.journal)
INSERT_OPERATION = Q("INSERT INTO operations (swarm_id, node_id, kind, status, payload, attempts, idem_key, "
                     "not_before, claim, lease_until, created_at) VALUES (:swarm_id, :node_id, :kind, :status, "
                     ":payload, :attempts, :idem_key, :not_before, :claim, :lease_until, :created_at) "
                     "ON CONFLICT (swarm_id, idem_key) DO NOTHING")
INSERT_OPERATION_RETURNING = Q(INSERT_OPERATION.sqlite + " RETURNING id")
HOLD_QUEUED = Q("UPDATE operations SET status = 'held' WHERE swarm_id = :sid AND status = 'queued'")
RELEASE_HELD = Q("UPDATE operations SET status = 'queued' WHERE swarm_id = :sid AND status = 'held'")
ABSORB_TERMINATES = Q("DELETE FROM operations "
                     "WHERE swarm_id = :sid AND node_id = :nid AND kind = 'terminate' AND status = 'queued'")
DROP_PENDING = Q("UPDATE operations SET status = 'done', error = :why "
                 "WHERE swarm_id = :sid AND status IN ('queued', 'held')")
DROP_PENDING_OF_NODE = Q("UPDATE operations SET status = 'done', error = :why "
                         "WHERE swarm_id = :sid AND node_id = :nid AND status IN ('queued', 'held')")
NODE_HAS_QUEUED = Q("SELECT count(*) AS n FROM operations WHERE swarm_id = :sid AND node_id = :nid "
                    "AND status = 'queued'")
UPDATE_SWARM = Q("UPDATE swarms SET last_seq = :last_seq, status = :status, failure_reason = :failure_reason, "
                 "root_node_id = :root_node_id, updated_at = :updated_at, usage = :usage WHERE id = :id"
                 ).positional(SwarmUpdateRow)
UPDATE_SWARM_AUTO_APPROVE = Q("UPDATE swarms SET auto_approve = :tools WHERE id = :id")
UPDATE_SWARM_SEQ = Q("UPDATE swarms SET last_seq = :last_seq, status = :status, failure_reason = :failure_reason, "
                     "root_node_id = :root_node_id, updated_at = :updated_at WHERE id = :id"
                     ).positional(SwarmSeqRow)
# a done operation's row is deleted (its effects are in the history); a failed one stays, with its error
# a reserved operation (``Runner.claim``): taken from the queue by the transaction that runs it, or failed
TAKE_RESERVED_OPERATION = Q("DELETE FROM operations WHERE id = :id AND swarm_id = :sid AND idem_key = :key "
                            "AND status = 'queued'")
FAIL_RESERVED_OPERATION = Q("UPDATE operations SET status = :status, error = :error, attempts = attempts + 1 "
                            "WHERE id = :id AND swarm_id = :sid AND idem_key = :key AND status = 'queued'")
DELETE_DONE_OPERATION = Q("DELETE FROM operations WHERE id = :id AND claim = :claim AND status = 'running'")
DELETE_DONE_OPERATION_BY_KEY = Q("DELETE FROM operations WHERE swarm_id = :sid AND idem_key = :key AND claim = :claim "
                                 "AND status = 'running'")
FINISH_OPERATION = Q("UPDATE operations SET status = :status, error = :error, lease_until = NULL "
                        "WHERE id = :id AND claim = :claim AND status = 'running'")
INSERT_LLM_CALL = Q("INSERT INTO llm_calls (swarm_id, id, node_id, step, kind, model, body, blob_key, tokens_in, "
                       "tokens_out, latency_ms, cost_usd, attempts, error, created_at, seq, attempt, replan) VALUES "
                       "(:swarm_id, :id, :node_id, :step, :kind, :model, :body, :blob_key, :tokens_in, :tokens_out, "
                       ":latency_ms, :cost_usd, :attempts, :error, :created_at, :seq, :attempt, :replan)")
INSERT_LLM_REQUEST = Q("INSERT INTO llm_requests (swarm_id, key, body, blob_key) VALUES (:swarm_id, :key, "
                       ":body, :blob_key) ON CONFLICT (swarm_id, key) DO NOTHING"
                       ).positional(RequestRow).many_rows(t.llm_requests)
LLM_REQUEST = Q("SELECT body, blob_key FROM llm_requests WHERE swarm_id = :sid AND key = :key")
SWARM_OWNER = Q("SELECT owner_id FROM swarms WHERE id = :id")
INSERT_MEMORY_FILE = Q("INSERT INTO memory_files (swarm_id, path, seq, title, size, content_type, node_id, blob_key, "
                       "created_at) VALUES (:swarm_id, :path, :seq, :title, :size, :content_type, :node_id, "
                       ":blob_key, :created_at)")
_MEMORY_COLUMNS = "m.path, m.seq, m.title, m.size, m.content_type, m.node_id, m.blob_key"
MEMORY_LATEST = Q(f"SELECT {_MEMORY_COLUMNS} FROM memory_files m WHERE m.swarm_id = :sid AND m.seq = "
                  "(SELECT max(x.seq) FROM memory_files x WHERE x.swarm_id = m.swarm_id AND x.path = m.path "
                  "AND x.seq <= :at) ORDER BY m.path")
MEMORY_FILE_AT = Q(f"SELECT {_MEMORY_COLUMNS} FROM memory_files m WHERE m.swarm_id = :sid AND m.path = :path "
                   "AND m.seq <= :at ORDER BY m.seq DESC LIMIT 1")

QUEUED_CANDIDATES = Q("SELECT id, swarm_id, node_id, kind, payload, attempts, not_before, idem_key FROM operations "
                         "WHERE status = 'queued' ORDER BY id LIMIT :limit")
QUEUED_CANDIDATES_OF_SWARM = Q("SELECT id, swarm_id, node_id, kind, payload, attempts, not_before, idem_key "
                                  "FROM operations WHERE status = 'queued' AND swarm_id = :sid "
                                  "ORDER BY id LIMIT :limit")
PENDING_SOONEST = Q("SELECT not_before FROM operations WHERE status IN ('queued', 'running') "
                    "ORDER BY not_before LIMIT 1")
PENDING_SOONEST_OF_SWARM = Q("SELECT not_before FROM operations WHERE status IN ('queued', 'running') "
                             "AND swarm_id = :sid ORDER BY not_before LIMIT 1")
CLAIM_LOCK = Q("SELECT pg_advisory_xact_lock(727274)")  # PostgreSQL: claims never interleave (``engine/jobs.py``)
RUNNING_NODES = Q("SELECT swarm_id, node_id FROM operations WHERE status = 'running'")
CLAIM = Q("UPDATE operations SET status = 'running', claim = :claim, attempts = :attempts, "
             "lease_until = :lease_until WHERE id = :id AND status = 'queued'")


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def to_json(value: Any) -> str:
    return orjson.dumps(value, option=_JSON_OPTIONS).decode()


def from_json(value: Any) -> Any:
    """JSON columns come back as text (or packed, ``packing``) on SQLite and already decoded on PostgreSQL."""
    if isinstance(value, bytes) and value[:1] in PACKED_BYTES:
        return orjson.loads(packing.unpack(value))
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def swarm_row(conn: Any, swarm_id: str, *, for_update: bool = False) -> Any:
    stmt = SWARM_FOR_UPDATE if for_update and conn.dialect.name == "postgresql" else SWARM
    return fetch_one(conn, stmt, {"id": swarm_id})


# A claimed operation's end, checked where the transaction's results are read (at the latest by its commit)
# rather than by waiting for its row count: a claim another worker took over fails the transaction, as the
# guard does (``is_lost_claim``)
LOST_MARK = "aga_swarm: the claim on the operation was lost"  # no quote: it goes in a SQL literal
_CHECKED: dict[int, tuple[Q, Q]] = {}


def checked(q: Q) -> Q:
    """``q`` (an ``UPDATE`` or ``DELETE`` of one operation row) as a statement that fails unless it changed
    exactly one row (``is_lost_claim``). Built once per statement (by identity: tests swap statements)."""
    found = _CHECKED.get(id(q))
    if found is None or found[0] is not q:
        found = _CHECKED[id(q)] = (q, Q(f"WITH d AS ({q.sqlite} RETURNING 1) SELECT CASE WHEN (SELECT count(*) FROM d) "
                                       f"= 1 THEN 1 ELSE ('{LOST_MARK}: ' || (SELECT count(*) FROM d))::int END AS ok"))
        found[1].checks = q  # held as a part of the next write statement (``Held.check``)
    return found[1]
