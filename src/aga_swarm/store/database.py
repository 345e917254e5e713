"""Opening the SQL store: SQLite (WAL) by default, PostgreSQL by URL, same code."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text

from .checkpointer import WalCheckpointer
from .tables import metadata

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HEAD_REVISION = "0004"  # newest Alembic revision; a test checks it matches the migrations directory


class _Dialect:
    def __init__(self, name: str) -> None:
        self.name = name


class RawConnection:
    """A DBAPI connection inside a transaction, as ``store/sql.py`` uses it: ``dialect.name`` and one cursor."""

    def __init__(self, dbapi: Any, dialect_name: str) -> None:
        self.dialect = _Dialect(dialect_name)
        self.dbapi = dbapi
        self.cursor = dbapi.cursor()  # one cursor for every statement of the transaction


def default_data_dir() -> Path:
    return Path(os.environ.get("AGA_SWARM_DATA") or Path.home() / ".aga_swarm")


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'swarm.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # isolation_level=None lets us issue BEGIN IMMEDIATE ourselves, so writers queue on the lock
    # up front instead of failing on a read-to-write upgrade.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA wal_autocheckpoint=8000")  # fewer checkpoint fsyncs on the hot path (WAL <= ~32 MB)
    cur.close()


class Database:
    """A SQLAlchemy engine plus transaction helpers that work the same on SQLite and PostgreSQL."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            # a pool of reused connections: opening SQLite (and setting its pragmas) per transaction costs ms
            # no reset (a rollback) when a connection returns to the pool: every transaction here ends with its
            # own commit or rollback, and raw reads run in autocommit mode
            self.engine: Engine = create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=False,
                                                pool_reset_on_return=None)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self.engine = self.engine.execution_options()
            self._sqlite_begin()
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
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
        self._checkpointer: WalCheckpointer | None = None
        db_file = self.engine.url.database if self.is_sqlite else None
        if db_file and db_file != ":memory:" and not db_file.startswith("file:"):
            self._checkpointer = WalCheckpointer(db_file)
        if migrate:
            self.migrate()

    def _sqlite_begin(self) -> None:
        @event.listens_for(self.engine, "begin")
        def _begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

    def current_revision(self) -> str | None:
        try:
            with self.read() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (a quick check first: starting up stays fast)."""
        if self.current_revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        cfg.attributes["connection_engine"] = self.engine
        command.upgrade(cfg, "head")

    def raw_tx(self) -> AbstractContextManager[RawConnection]:
        """A write transaction on a DBAPI connection, without SQLAlchemy's per-statement machinery.

        The executor's hot path runs prebuilt statements (``store/sql.py``); this saves the
        Connection/Transaction objects and event dispatch around each of them. On SQLite it runs on the
        writer's own connection (``_WriterTx``)."""
        if self._write_lock is not None:
            return _WriterTx(self)
        return self._pooled_tx()

    def _writer_connection(self) -> RawConnection:
        raw = self._writer_raw
        if raw is None:
            self._writer_fairy = self.engine.raw_connection()
            raw = self._writer_raw = RawConnection(self._writer_fairy.driver_connection, self.engine.dialect.name)
        return raw

    @contextmanager
    def _pooled_tx(self) -> Iterator[RawConnection]:
        fairy = self.engine.raw_connection()
        dbapi: Any = fairy.driver_connection
        raw = RawConnection(dbapi, self.engine.dialect.name)
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
    def raw_read(self) -> Iterator[RawConnection]:
        """Reads on a pooled DBAPI connection (SQLite: autocommit statements; PostgreSQL: rolled back)."""
        fairy = self.engine.raw_connection()
        dbapi: Any = fairy.driver_connection
        raw = RawConnection(dbapi, self.engine.dialect.name)
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

