"""Shared fixtures: a SwarmService on SQLite (a temp dir) or on the PostgreSQL server at 127.0.0.1:5432."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine

PG_ADMIN_URL = os.environ.get("AGA_SWARM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards). Fails, never skips, if the server is missing:
    CI must run the PostgreSQL suite."""
    name = f"aga_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The PostgreSQL database this test session shares (migrated by the first test that opens it)."""
    yield from _fresh_pg_database()


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, with no schema yet (for migration tests)."""
    yield from _fresh_pg_database()


PG_FIXTURES = {"pg_url", "empty_pg_url", "pg_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches PostgreSQL ``postgres``, at collection, so ``pytest -m postgres
    --collect-only -q`` lists exactly which tests run there (and ``-m 'not postgres'`` runs without it)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if PG_FIXTURES & set(getattr(item, "fixturenames", ())) or params.get("backend") == "postgres":
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_service(backend: str, tmp_path: Path, request: pytest.FixtureRequest, **engine_kwargs: object) -> SwarmService:
    if backend == "postgres":
        url = request.getfixturevalue("pg_url")
        engine = open_engine(db_url=url, blob_url=str(tmp_path / "blobs"), **engine_kwargs)  # type: ignore[arg-type]
        engine.db.reset()
    else:
        engine = open_engine(data_dir=tmp_path, **engine_kwargs)  # type: ignore[arg-type]
    return SwarmService(engine)


@pytest.fixture
def svc(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SwarmService]:
    service = make_service(backend, tmp_path, request)
    yield service
    service.close()


@pytest.fixture
def sqlite_svc(tmp_path: Path) -> Iterator[SwarmService]:
    service = SwarmService(open_engine(data_dir=tmp_path))
    yield service
    service.close()
