"""Shared fixtures: a SwarmService on SQLite (a temp dir) or on the PostgreSQL server at 127.0.0.1:5432.

Every PostgreSQL test gets a database of its own, dropped afterwards. Migrating an empty database costs
seconds, so the session migrates one *template* database once and each test's database is a copy of it
(``CREATE DATABASE ... TEMPLATE``, about 0.1 s)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine as SAEngine
from sqlalchemy import create_engine, text

from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine

PG_ADMIN_URL = os.environ.get("AGA_SWARM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class PgDatabases:
    """Creates test databases on the PostgreSQL server and drops them. Fails, never skips, if the server is
    missing: CI must run the PostgreSQL suite."""

    def __init__(self, admin_url: str = PG_ADMIN_URL) -> None:
        self._base = admin_url.rsplit("/", 1)[0]
        self._admin: SAEngine | None = None
        self._template: str | None = None
        self._names: list[str] = []

    def _exec(self, sql: str) -> None:
        if self._admin is None:
            self._admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=1)
        with self._admin.connect() as conn:
            conn.execute(text(sql))

    def url_of(self, name: str) -> str:
        return f"{self._base}/{name}"

    def _migrated_template(self) -> str:
        if self._template is None:
            from aga_swarm.store.database import Database

            name = f"aga_tpl_{uuid.uuid4().hex[:10]}"
            self._exec(f'CREATE DATABASE "{name}"')
            self._template = name
            Database(self.url_of(name), migrate=True).dispose()  # no connection may stay: it is copied
        return self._template

    def create(self, *, migrated: bool = True) -> str:
        """A new database: a copy of the migrated template, or (``migrated=False``) one with no schema."""
        name = f"aga_test_{uuid.uuid4().hex[:10]}"
        template = f' TEMPLATE "{self._migrated_template()}"' if migrated else ""
        self._exec(f'CREATE DATABASE "{name}"{template}')
        self._names.append(name)
        return self.url_of(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._drop(name)
        self._names.remove(name)

    def _drop(self, name: str) -> None:
        self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name in [*self._names, *([self._template] if self._template else [])]:
            self._drop(name)
        self._names.clear()
        self._template = None
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    databases = PgDatabases()
    yield databases
    databases.close()


@pytest.fixture
def pg_url(pg_databases: PgDatabases) -> Iterator[str]:
    """A PostgreSQL database of this test's own, migrated (a copy of the session's template)."""
    url = pg_databases.create()
    yield url
    pg_databases.drop(url)


@pytest.fixture
def empty_pg_url(pg_databases: PgDatabases) -> Iterator[str]:
    """A PostgreSQL database of this test's own, with no schema yet (for migration tests)."""
    url = pg_databases.create(migrated=False)
    yield url
    pg_databases.drop(url)


PG_FIXTURES = {"pg_url", "empty_pg_url", "pg_databases"}
BACKEND_PARAMS = ("backend", "api_backend")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches PostgreSQL ``postgres``, at collection, so ``pytest -m postgres
    --collect-only -q`` lists exactly which tests run there (and ``-m 'not postgres'`` runs without it)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if PG_FIXTURES & set(getattr(item, "fixturenames", ())) or \
                any(params.get(name) == "postgres" for name in BACKEND_PARAMS):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_service(backend: str, tmp_path: Path, request: pytest.FixtureRequest, **engine_kwargs: object) -> SwarmService:
    """A service on this test's store: SQLite in ``tmp_path``, or this test's own PostgreSQL database (the same
    one for every call in a test, as every call with the same ``tmp_path`` opens the same SQLite file)."""
    if backend == "postgres":
        url = request.getfixturevalue("pg_url")
        engine = open_engine(db_url=url, blob_url=str(tmp_path / "blobs"), **engine_kwargs)  # type: ignore[arg-type]
    else:
        engine = open_engine(data_dir=tmp_path, **engine_kwargs)  # type: ignore[arg-type]
    return SwarmService(engine)


MakeService = Callable[..., SwarmService]


@pytest.fixture
def new_service(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> MakeService:
    """``make_service`` for this test's backend and store: ``new_service(registry=...)``."""
    return lambda **engine_kwargs: make_service(backend, tmp_path, request, **engine_kwargs)


@pytest.fixture
def svc(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SwarmService]:
    service = make_service(backend, tmp_path, request)
    yield service
    service.close()
