"""Fixtures: real uvicorn servers on 127.0.0.1 (separate processes) with temporary data directories, on SQLite
and on PostgreSQL: every test that takes ``server`` or ``api_backend`` runs once per backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import PgDatabases
from .helpers import Server


@dataclass
class ApiBackend:
    """Starts servers on one backend. On SQLite a server's store is its data directory; on PostgreSQL each new
    store is a database of its own (a copy of the migrated template), dropped when its server stops."""

    name: str
    tmp_root: Path
    databases: PgDatabases | None

    def new_store(self) -> dict[str, str]:
        """The settings of a new, empty store for one or more servers (nothing on SQLite: give them one
        ``data_dir``)."""
        return {} if self.databases is None else {"AGA_SWARM_DB_URL": self.databases.create()}

    def drop_store(self, store: dict[str, str]) -> None:
        if self.databases is not None and "AGA_SWARM_DB_URL" in store:
            self.databases.drop(store["AGA_SWARM_DB_URL"])

    def start(self, name: str, env: dict[str, str] | None = None, *, store: dict[str, str] | None = None,
              data_dir: Path | None = None, port: int | None = None) -> Server:
        """A server on a store of its own (dropped when it stops), or on ``store`` from :meth:`new_store`."""
        own = store is None
        store = self.new_store() if store is None else store
        try:
            srv = Server.start(self.tmp_root, f"{name}-{self.name}", {**store, **(env or {})}, data_dir=data_dir,
                               port=port)
        except BaseException:
            if own:
                self.drop_store(store)
            raise
        if own:
            srv.on_stop.append(lambda: self.drop_store(store))
        return srv


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def api_backend(request: pytest.FixtureRequest, tmp_root: Path) -> ApiBackend:
    """The backend of this run of the API tests (PostgreSQL fails, never skips, when its server is missing)."""
    databases = request.getfixturevalue("pg_databases") if request.param == "postgres" else None
    return ApiBackend(str(request.param), tmp_root, databases)


@pytest.fixture(scope="session")
def server(api_backend: ApiBackend) -> Iterator[Server]:
    """The main server of each backend: idle after 1 s, cheap bcrypt. Tests share it (each signs up users of
    its own)."""
    srv = api_backend.start("main")
    yield srv
    srv.stop()


@pytest.fixture
def store(api_backend: ApiBackend) -> Iterator[dict[str, str]]:
    """The settings of a new store of this test's own on its backend (give SQLite a data directory), for the
    processes a test starts itself; dropped afterwards."""
    settings = api_backend.new_store()
    yield settings
    api_backend.drop_store(settings)
