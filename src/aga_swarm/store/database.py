"""Opening the SQL store: SQLite (WAL) by default, PostgreSQL by URL, same code."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DisconnectionError

from . import packing
from .checkpointer import WalCheckpointer
from .errors import SetupError
from .sql import Held, send_guards
from .tables import metadata

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HEAD_REVISION = "0014"  # newest Alembic revision; a test checks it matches the migrations directory
MIGRATION_LOCK_KEY = 0x4147415F4D494752  # PostgreSQL advisory lock id for migrations ("AGA_MIGR")


class SchemaBehind(SetupError):
    """The database's schema is older (or newer) than this code's, and this process may not migrate it."""


def known_revisions() -> list[str]:
    """Every revision in the migrations directory, oldest first."""
    return sorted(p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))


def check_known_revision(revision: str | None) -> None:
    if revision is not None and revision not in known_revisions():
        raise SchemaBehind(f"the database schema is at revision {revision}, which this code does not know "
                           f"(it needs {HEAD_REVISION}); was it migrated by a newer version of aga-swarm?")


def _revision_on(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


class _Dialect:
    def __init__(self, name: str) -> None:
        self.name = name


class RawConnection:
    """A DBAPI connection inside a transaction, as ``store/sql.py`` uses it: ``dialect.name`` and one cursor."""

    def __init__(self, dbapi: Any, dialect_name: str, pipeline: Any = None, pack: Any = None) -> None:
        self.dialect = _Dialect(dialect_name)
        self.pack = pack  # ``packing.Packer`` of the database, or None: JSON values are written as text
        self.dbapi = dbapi
        self.cursor = dbapi.cursor()  # one cursor for every statement of the transaction whose result is read
        # the statements whose result is not read until the commit (``sql.send``, the flush's writes): pipelined
        # PostgreSQL queues them to go out together (``pgqueue``); elsewhere the same cursor
        self.queue: Any = self.cursor
        # PostgreSQL: the transaction runs in psycopg's pipeline mode (``_PipelinedTx``): statements are sent
        # without waiting for their results, which arrive when a result is needed (``sql.fetch``, ``sql.run``'s
        # row count) or at the commit
        self.pipeline = pipeline
        # swarm rows read without a lock, as (swarm id, last_seq read): guarded before the first write
        # (``sql.send_guards``)
        self.unguarded: list[tuple[str, int]] = []
        # PostgreSQL: set inside the transaction to send its COMMIT without waiting for it (``PendingCommit``)
        self.defer_commit = False
        # PostgreSQL, pipelined: statements held to go out as parts of the next write statement (``sql.Held``)
        self.held: Held | None = Held(self) if pipeline is not None else None


DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 20
IDLE_PING_SECONDS = 30.0  # a pooled PostgreSQL connection idle this long is pinged before use
KEPT_PG_WRITERS = 4  # PostgreSQL connections ``raw_tx`` keeps out of the pool, in pipeline mode, between transactions


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SetupError(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SetupError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SetupError(f"{name} must be at least {minimum}, not {value}")
    return value


def dispatch_mode(url: str) -> str:
    """How operations reach workers: ``procrastinate`` (jobs deferred by a trigger, pushed by LISTEN/NOTIFY;
    ``engine/jobs.py``) on PostgreSQL unless ``AGA_SWARM_DISPATCH=poll``; ``poll`` (the claim loop) on SQLite."""
    if url.startswith("sqlite"):
        return "poll"
    mode = os.environ.get("AGA_SWARM_DISPATCH", "").strip().lower() or "procrastinate"
    if mode not in ("procrastinate", "poll"):
        raise ValueError(f"AGA_SWARM_DISPATCH must be 'procrastinate' or 'poll' (got {mode!r})")
    return mode


def default_data_dir() -> Path:
    return Path(os.environ.get("AGA_SWARM_DATA") or Path.home() / ".aga_swarm")


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'swarm.db'}"


def configured_url(data_dir: Path | None = None) -> str:
    """The database the CLI and the server open: ``$AGA_SWARM_DB_URL``, else SQLite in the data directory."""
    url = os.environ.get("AGA_SWARM_DB_URL")
    if url:
        return url
    data_dir = Path(data_dir or default_data_dir())
    data_dir.mkdir(parents=True, exist_ok=True)
    return sqlite_url(data_dir)


def _switch_to_wal(cur: Any, deadline_seconds: float = 30.0) -> None:
    """Put the file in WAL mode. SQLite can answer "database is locked" to the switch at once, without calling
    the busy handler, while another process switches or recovers the same fresh file: retry until the deadline."""
    give_up = time.monotonic() + deadline_seconds
    delay = 0.005
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > give_up:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # isolation_level=None lets us issue BEGIN IMMEDIATE ourselves, so writers queue on the lock
    # up front instead of failing on a read-to-write upgrade.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")  # first: switching a fresh file to WAL waits for its lock too
    _switch_to_wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA wal_autocheckpoint=8000")  # fewer checkpoint fsyncs on the hot path (WAL <= ~32 MB)
    cur.close()


def _mark_idle(_dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat in the pool for IDLE_PING_SECONDS (a busy one is known to be alive); a dead
    one is replaced by the pool, as SQLAlchemy's pessimistic disconnect handling recipe does."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
        return
    try:
        cur = dbapi_conn.cursor()
        cur.execute("SELECT 1")
        cur.close()
        dbapi_conn.rollback()
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


class Database:
    """A SQLAlchemy engine plus transaction helpers that work the same on SQLite and PostgreSQL."""

    def __init__(self, url: str, *, migrate: bool | None = None, check_schema: bool = True,
                 pool_size: int | None = None, max_overflow: int | None = None,
                 compress_bytes: int | None = None) -> None:
        """Open the store at ``url``. ``migrate`` (default ``$AGA_SWARM_DB_AUTO_MIGRATE``, true) brings the schema
        up to date under a lock; with ``migrate=False`` a schema behind the code is a :class:`SchemaBehind`
        error (unless ``check_schema=False``, for ``aga-swarm db``). ``pool_size`` and ``max_overflow`` size
        PostgreSQL's connection pool (default ``$AGA_SWARM_DB_POOL_SIZE``, 10, and
        ``$AGA_SWARM_DB_MAX_OVERFLOW``, 20). ``compress_bytes`` (default ``$AGA_SWARM_ROW_COMPRESS_BYTES``, else
        ``packing.DEFAULT_COMPRESS_BYTES``; 0: off): on SQLite, JSON values of at least this many characters are
        stored compressed (``packing``)."""
        if migrate is None:
            migrate = env_bool("AGA_SWARM_DB_AUTO_MIGRATE", True)
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.dispatch = dispatch_mode(url)
        # SQLite: what a transaction writes for a JSON value of this size or more is packed (``packing``; None:
        # nothing is). PostgreSQL's columns are json: never packed.
        min_bytes = compress_bytes
        if min_bytes is None:
            min_bytes = env_int(packing.COMPRESS_BYTES_ENV, packing.DEFAULT_COMPRESS_BYTES, 0)
        self.pack: packing.Packer | None = packing.Packer(min_bytes) if self.is_sqlite and min_bytes > 0 else None
        if self.is_sqlite:
            # a pool of reused connections: opening SQLite (and setting its pragmas) per transaction costs ms
            # no reset (a rollback) when a connection returns to the pool: every transaction here ends with its
            # own commit or rollback, and raw reads run in autocommit mode
            # JSON columns may hold packed values (``packing``): SQLAlchemy's reads open them too
            self.engine: Engine = create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=False,
                                                pool_reset_on_return=None, json_deserializer=packing.loads)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self.engine = self.engine.execution_options()
            self._sqlite_begin()
            pool_size, max_overflow = 8, 16
        else:
            if pool_size is None:
                pool_size = env_int("AGA_SWARM_DB_POOL_SIZE", DEFAULT_POOL_SIZE, 1)
            if max_overflow is None:
                max_overflow = env_int("AGA_SWARM_DB_MAX_OVERFLOW", DEFAULT_MAX_OVERFLOW, 0)
            # No pre-ping on every checkout: it is one more round trip per transaction (measured in
            # bench/bench_postgres.py). A connection idle in the pool for a while is pinged instead
            # (_ping_if_idle), and a dead one found in use invalidates the pool (SQLAlchemy's disconnect
            # handling), so a restarted server costs at most one failed transaction per process.
            # AGA_SWARM_DISPATCH=poll: this process's sessions defer no Procrastinate job (migration 0006)
            connect_args = {"options": "-c aga_swarm.dispatch=poll"} if dispatch_mode(url) == "poll" else {}
            self.engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=False,
                                        connect_args=connect_args)
            event.listen(self.engine, "checkin", _mark_idle)
            event.listen(self.engine, "checkout", _ping_if_idle)
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        # SQLite has one writer at a time, and a connection that finds the lock taken sleeps in its busy
        # handler (1 ms, then 2, 5, 10 ... up to 100 ms) before it looks again. Writers of this process queue
        # on this lock instead and start the moment the previous one commits; other processes still meet
        # the busy handler.
        self._write_lock: threading.RLock | None = threading.RLock() if self.is_sqlite else None
        # SQLite: the connection ``raw_tx`` writes on, kept out of the pool. Writers take turns on the lock
        # above anyway, so one connection serves them all and each transaction skips a pool checkout and
        # checkin (tens of µs, a tenth of an ask-reply cycle). A nested ``raw_tx`` uses the pool.
        self._writer_fairy: Any = None
        self._writer_raw: RawConnection | None = None
        self._writer_busy = False
        # PostgreSQL: connections kept in pipeline mode for ``raw_tx`` between transactions (``_take_pg_writer``)
        self._pg_writers: list[_PgWriter] = []
        self._disposed = False
        self._checkpointer: WalCheckpointer | None = None
        db_file = self.engine.url.database if self.is_sqlite else None
        if db_file and db_file != ":memory:" and not db_file.startswith("file:"):
            self._checkpointer = WalCheckpointer(db_file)
        if migrate:
            self.migrate()
        elif check_schema:
            self.require_current()

    def _sqlite_begin(self) -> None:
        @event.listens_for(self.engine, "begin")
        def _begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

    def current_revision(self) -> str | None:
        """The schema's Alembic revision (None for an empty database)."""
        with self.read() as conn:
            return _revision_on(conn)

    def migrate(self) -> str | None:
        """Bring the schema to the newest Alembic revision, under a lock that any number of processes can
        contend for at once (a quick check first, without the lock: starting up stays fast). Returns the
        revision the database was at before, or HEAD_REVISION when there was nothing to do."""
        before = self.current_revision()
        if before == HEAD_REVISION:
            return before
        check_known_revision(before)
        from alembic import command
        from alembic.config import Config

        with self.engine.connect() as conn:
            # PostgreSQL: a transaction-level advisory lock, released by the commit below. SQLite: the begin
            # listener opens the transaction with BEGIN IMMEDIATE, i.e. the database's write lock, which
            # every other writer waits for (busy_timeout). Then the revision is read again, inside the lock.
            if self.is_sqlite:
                conn.exec_driver_sql("SELECT 1")
            else:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            before = _revision_on(conn)
            if before != HEAD_REVISION:
                check_known_revision(before)
                cfg = Config()
                cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
                cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            conn.commit()
        return before

    def require_current(self) -> None:
        """Refuse to run on a schema this code does not match (``AGA_SWARM_DB_AUTO_MIGRATE=false``)."""
        current = self.current_revision()
        if current == HEAD_REVISION:
            return
        check_known_revision(current)
        raise SchemaBehind(f"the database schema is at revision {current or 'none (empty database)'} but this code "
                           f"needs {HEAD_REVISION}; run `aga-swarm db upgrade` first (or set "
                           "AGA_SWARM_DB_AUTO_MIGRATE=true to migrate on startup)")

    def raw_tx(self) -> AbstractContextManager[RawConnection]:
        """A write transaction on a DBAPI connection, without SQLAlchemy's per-statement machinery.

        The executor's hot path runs prebuilt statements (``store/sql.py``); this saves the
        Connection/Transaction objects and event dispatch around each of them. On SQLite it runs on the
        writer's own connection (``_WriterTx``)."""
        if self._write_lock is not None:
            return _WriterTx(self)
        return _PipelinedTx(self)

    def _take_pg_writer(self) -> _PgWriter:
        """PostgreSQL: a connection for ``raw_tx``, already in pipeline mode: one this process kept from an
        earlier transaction (taken out of the pool once, like SQLite's writer connection, so a transaction
        skips the pool's checkout and checkin and psycopg's entering and leaving pipeline mode: tens of µs
        each), else a new one from the pool. One kept idle past ``IDLE_PING_SECONDS`` goes back to the pool
        instead, whose checkout pings it (``_ping_if_idle``)."""
        kept = self._pg_writers
        while kept:
            try:
                writer = kept.pop()
            except IndexError:  # another thread took the last one
                break
            if time.monotonic() - writer.idle_since < IDLE_PING_SECONDS:
                return writer
            writer.release()
        return _PgWriter(self.engine.raw_connection())

    def _return_pg_writer(self, writer: _PgWriter) -> None:
        """Keep ``writer`` for the next ``raw_tx`` (up to ``KEPT_PG_WRITERS``), else give it back to the pool."""
        if len(self._pg_writers) < KEPT_PG_WRITERS and not self._disposed:
            writer.idle_since = time.monotonic()
            self._pg_writers.append(writer)
        else:
            writer.release()

    def _writer_connection(self) -> RawConnection:
        raw = self._writer_raw
        if raw is None:
            self._writer_fairy = self.engine.raw_connection()
            raw = self._writer_raw = RawConnection(self._writer_fairy.driver_connection, self.engine.dialect.name,
                                                   pack=self.pack)
        return raw

    @contextmanager
    def _pooled_tx(self) -> Iterator[RawConnection]:
        fairy = self.engine.raw_connection()
        dbapi: Any = fairy.driver_connection
        raw = RawConnection(dbapi, self.engine.dialect.name, pack=self.pack)
        try:
            if self.is_sqlite:
                dbapi.execute("BEGIN IMMEDIATE")
            yield raw
            dbapi.commit()
        except BaseException:
            dbapi.rollback()
            raise
        finally:
            raw.cursor.close()
            fairy.close()

    @contextmanager
    def peek(self) -> Iterator[RawConnection]:
        """A quick read of committed rows (the runner's look for queued work). SQLite: on the writer's connection,
        under the write lock and outside any transaction (each statement reads on its own), which skips a pool
        checkout and finds a page cache the last transactions warmed; else (or when this thread is inside a
        write transaction already) ``raw_read``."""
        lock = self._write_lock
        if lock is None:
            with self.raw_read() as conn:
                yield conn
            return
        with lock:
            if self._writer_busy:
                with self.raw_read() as conn:
                    yield conn
                return
            raw = self._writer_connection()
            if raw.dbapi.in_transaction:  # left open by a failed commit or rollback (as ``_WriterTx``)
                raw.dbapi.rollback()
            yield raw

    @contextmanager
    def raw_read(self) -> Iterator[RawConnection]:
        """Reads on a pooled DBAPI connection (SQLite: autocommit statements; PostgreSQL: rolled back)."""
        fairy = self.engine.raw_connection()
        dbapi: Any = fairy.driver_connection
        raw = RawConnection(dbapi, self.engine.dialect.name, pack=self.pack)
        try:
            yield raw
        finally:
            raw.cursor.close()
            if not self.is_sqlite:
                dbapi.rollback()
            fairy.close()

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite)."""
        with self._writer(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _writer(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            yield

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (BEGIN DEFERRED on SQLite, so readers never take the write lock)."""
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn, conn.begin():
            yield conn

    def reset(self) -> None:
        """Drop every table's rows (tests only)."""
        with self.tx() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())

    def dispose(self) -> None:
        self._disposed = True
        while self._pg_writers:
            self._pg_writers.pop().release()
        if self._checkpointer is not None:
            self._checkpointer.close()
        if self._write_lock is not None:
            with self._write_lock:
                if self._writer_raw is not None:
                    self._writer_raw.cursor.close()
                    self._writer_fairy.close()
                    self._writer_raw = self._writer_fairy = None
        self.engine.dispose()

    def ping(self) -> bool:
        with self.read() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1


class _WriterTx:
    """SQLite: a write transaction under the process's write lock, on the writer's own connection (a
    transaction nested in another on the same thread takes a pooled one). A class rather than a generator
    context manager: it runs once per group of operations, and every microsecond there counts."""

    __slots__ = ("db", "nested", "raw")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.nested: AbstractContextManager[RawConnection] | None = None
        self.raw: RawConnection | None = None

    def __enter__(self) -> RawConnection:
        db = self.db
        assert db._write_lock is not None
        db._write_lock.acquire()
        try:
            if db._writer_busy:
                self.nested = db._pooled_tx()
                return self.nested.__enter__()
            raw = self.raw = db._writer_connection()
            if raw.dbapi.in_transaction:  # left open by a failed commit or rollback: start clean
                raw.dbapi.rollback()
            raw.dbapi.execute("BEGIN IMMEDIATE")
            db._writer_busy = True
            return raw
        except BaseException:
            db._write_lock.release()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        db = self.db
        assert db._write_lock is not None
        try:
            if self.nested is not None:
                self.nested.__exit__(exc_type, exc, tb)
                return
            assert self.raw is not None
            dbapi = self.raw.dbapi
            try:
                if exc_type is None:
                    try:
                        dbapi.commit()
                    except BaseException:
                        dbapi.rollback()
                        raise
                    if db._checkpointer is not None:
                        db._checkpointer.committed()
                else:
                    dbapi.rollback()
            finally:
                db._writer_busy = False
        finally:
            db._write_lock.release()



class _PgWriter:
    """PostgreSQL: a pooled connection taken out of the pool and put in psycopg's pipeline mode for ``raw_tx``
    (``Database._take_pg_writer``), with its one cursor."""

    __slots__ = ("fairy", "idle_since", "pipelined", "raw")

    def __init__(self, fairy: Any) -> None:
        self.fairy = fairy
        dbapi: Any = fairy.driver_connection
        # autocommit: the transactions send their own BEGIN and COMMIT (``_PipelinedTx``). psycopg's implicit BEGIN
        # is followed, in pipeline mode, by a sync that waits for its answer: a round trip more per transaction
        try:
            dbapi.autocommit = True
            self.pipelined = dbapi.pipeline()  # a context manager around the Pipeline object
            pipeline = self.pipelined.__enter__()
        except BaseException:
            fairy.invalidate()
            fairy.close()
            raise
        global pgqueue
        from . import pgqueue as module

        pgqueue = module
        raw = self.raw = RawConnection(dbapi, "postgresql", pipeline)
        raw.queue = module.QueuingCursor(dbapi)
        raw.cursor.close()
        raw.cursor = module.EmittingCursor(dbapi)  # what the transaction holds goes out before a statement on it
        raw.cursor.held = raw.held
        self.idle_since = 0.0

    def release(self) -> None:
        """Leave pipeline mode and give the connection back to the pool (invalidated if it is in doubt)."""
        dbapi = self.raw.dbapi
        try:
            self.raw.cursor.close()
            self.raw.queue.close()
            self.pipelined.__exit__(None, None, None)
            if dbapi.info.transaction_status != 0:
                self.fairy.invalidate()
            else:
                dbapi.autocommit = False
        except Exception:
            self.fairy.invalidate()
        finally:
            self.fairy.close()

    def discard(self) -> None:
        """Drop a connection left in doubt by a failed transaction (a dead server, a failed rollback)."""
        for close in (self.raw.cursor.close, self.raw.queue.close, lambda: self.pipelined.__exit__(None, None, None)):
            try:
                close()
            except Exception:  # a dead connection: closing it fails (psycopg logs nothing then)
                pass
        self.fairy.invalidate()
        self.fairy.close()


# ``store/pgqueue.py``, imported with the first PostgreSQL writer connection (psycopg is an optional dependency)
pgqueue: Any = None
BEGIN = b"BEGIN"
COMMIT = b"COMMIT"


def _rollback(raw: RawConnection) -> None:
    """Roll back a pipelined transaction: first read what is still pending (the results of statements queued
    after the one that failed only say the pipeline aborted, and the error that matters is already raised),
    then ``ROLLBACK`` if a transaction is still open (psycopg's ``rollback`` checks, autocommit or not)."""
    try:
        pgqueue.sync(raw.dbapi, raw.pipeline)
    except Exception:
        if raw.dbapi.closed:
            raise
    raw.dbapi.rollback()


class _PipelinedTx:
    """PostgreSQL: a write transaction in psycopg's pipeline mode, on a connection ``Database`` keeps in that
    mode (``_take_pg_writer``), in autocommit: ``BEGIN`` is queued and goes out with the first statement, writes
    whose result nobody reads are queued, and ``COMMIT`` goes out with them: an ask cycle is one round trip to
    the server instead of about ten (``bench/bench_postgres.py``). An error of a queued statement is raised where
    the next result is read, at the latest by the commit, and rolls the transaction back like any other. A class
    rather than a generator context manager, as ``_WriterTx``."""

    __slots__ = ("db", "pending", "writer")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.writer: _PgWriter | None = None
        self.pending: PendingCommit | None = None  # set by a commit sent with ``defer_commit``

    def __enter__(self) -> RawConnection:
        writer = self.writer = self.db._take_pg_writer()
        raw = writer.raw
        raw.unguarded.clear()
        raw.defer_commit = False
        held = raw.held
        assert held is not None
        held.clear()  # what a failed transaction left
        try:
            pgqueue.queue_plain(raw.pipeline, BEGIN)  # it goes out with the first statement that needs an answer
        except BaseException:
            self._discard(writer)
            raise
        return raw

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        writer = self.writer
        assert writer is not None
        raw = writer.raw
        dbapi = raw.dbapi
        try:
            if exc_type is None:
                try:
                    if raw.unguarded:  # rows read without a lock by a transaction that wrote nothing
                        send_guards(raw)
                    held = raw.held
                    assert held is not None
                    held.emit()
                    pgqueue.queue_plain(raw.pipeline, COMMIT)
                    if raw.defer_commit:
                        # on its way with its sync: ``PendingCommit.wait`` reads the outcome, by then in this
                        # process's socket (no round trip) unless the server is still at it
                        pgqueue.send_queued(dbapi, raw.pipeline, sync=True)
                        self.pending = PendingCommit(self)
                        return
                    pgqueue.sync(dbapi, raw.pipeline)  # reads every pending result: any statement's error is raised
                except BaseException:
                    _rollback(raw)
                    raise
            else:
                _rollback(raw)
        except BaseException:
            self._discard(writer)  # a connection in doubt is never kept nor pooled
            raise
        self._settled(writer)

    def _settled(self, writer: _PgWriter) -> None:
        dbapi = writer.raw.dbapi
        if dbapi.closed or dbapi.info.transaction_status != 0:  # not IDLE
            self._discard(writer)
        else:
            self.db._return_pg_writer(writer)

    def _discard(self, writer: _PgWriter) -> None:
        writer.discard()
        if writer.raw.dbapi.closed:  # the server went away: the other kept connections are dead too
            kept = self.db._pg_writers
            while kept:
                try:
                    kept.pop().discard()
                except IndexError:
                    break


class PendingCommit:
    """A pipelined transaction whose ``COMMIT`` was sent without waiting (``RawConnection.defer_commit``): the
    caller goes on with work that acknowledges nothing (the next group of a chain, ``GroupCommit``) and calls
    ``wait`` before anything the transaction did is reported. ``wait`` reads the outcome: it returns once the
    commit is durable, or raises the transaction's error (rolled back, the connection dropped), as a commit
    that waited would have. Its connection stays out of use until then. ``payload``: the caller's, kept with it
    (what to report once it is confirmed)."""

    __slots__ = ("_error", "_tx", "done", "payload")

    def __init__(self, tx: _PipelinedTx) -> None:
        self._tx: _PipelinedTx | None = tx
        self._error: BaseException | None = None
        self.done = False
        self.payload: Any = None

    def wait(self) -> None:
        """Until the commit is confirmed (once; later calls return or raise the same)."""
        tx = self._tx
        if tx is None:
            if self._error is not None:
                raise self._error
            return
        self._tx = None
        writer = tx.writer
        assert writer is not None
        try:
            try:
                pgqueue.read_sent(writer.raw.dbapi, writer.raw.pipeline)
            except BaseException:
                _rollback(writer.raw)
                raise
        except BaseException as exc:
            self._error = exc
            tx._discard(writer)
            raise
        finally:
            self.done = True
        tx._settled(writer)
