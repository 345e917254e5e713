"""Fixtures: real uvicorn servers on 127.0.0.1 (separate processes) with temporary data directories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import Server

# the same admin URL as tests/conftest.py (the driver prefix is dropped for psycopg)
PG_ADMIN_SA = os.environ.get("AGA_SWARM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_ADMIN = PG_ADMIN_SA.replace("+psycopg", "")


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api")


@pytest.fixture(scope="session")
def server(tmp_root: Path) -> Iterator[Server]:
    """The main server: SQLite, idle after 1 s, cheap bcrypt."""
    srv = Server.start(tmp_root, "main")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def pg_server(tmp_root: Path) -> Iterator[Server]:
    """A server on a fresh PostgreSQL database of its own (created here, dropped afterwards). Like the rest of
    the PostgreSQL suite it fails, never skips, when the server is missing."""
    import psycopg

    name = f"aga_api_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    srv = Server.start(tmp_root, "pg", {"AGA_SWARM_DB_URL": PG_ADMIN_SA.rsplit("/", 1)[0] + f"/{name}"})
    try:
        yield srv
    finally:
        srv.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
