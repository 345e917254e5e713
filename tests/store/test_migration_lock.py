"""Migrations under a lock: any number of processes can start at once on a fresh database (issue 10, item 20:
two workers on a fresh PostgreSQL database crashed with ``UniqueViolation ... alembic_version``)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from aga_swarm.store.database import HEAD_REVISION, Database

PROCESSES = 4
# imports first, then every process waits for the same instant before it opens the store
OPEN_AT_ONCE = """
import sys, time
from aga_swarm.store.database import Database
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
db = Database(sys.argv[1])
print(db.current_revision())
db.dispose()
"""


def _open_at_once(url: str, rounds: int = 2) -> None:
    for _ in range(rounds):
        start = time.time() + 3.0
        procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, url, str(start)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err[-2000:]
            assert out.strip() == HEAD_REVISION
        db = Database(url, migrate=False)
        assert db.current_revision() == HEAD_REVISION
        db.dispose()
        _drop_schema(url)


def _drop_schema(url: str) -> None:
    from sqlalchemy import create_engine, text

    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.mark.postgres
def test_processes_starting_at_once_on_a_fresh_postgres_database(empty_pg_url: str) -> None:
    _open_at_once(empty_pg_url)


def test_processes_starting_at_once_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    _open_at_once(f"sqlite:///{tmp_path / 'fresh.db'}")
