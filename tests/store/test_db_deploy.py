"""PostgreSQL in production: `aga-swarm db upgrade` at deploy time, processes that refuse a schema behind their
code (AGA_SWARM_DB_AUTO_MIGRATE=false), the pool size the operator sets, and connections that die in the pool."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from aga_swarm.server.settings import Settings, SettingsError
from aga_swarm.store import database as dbmod
from aga_swarm.store.database import HEAD_REVISION, Database, SchemaBehind
from aga_swarm.store.errors import SetupError
from tests.migrations import alembic_on

BIN = Path(sys.executable).parent / "aga-swarm"


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, **env})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _migrate_to(url: str, revision: str) -> None:
    engine, cfg = alembic_on(url)
    command.upgrade(cfg, revision)
    engine.dispose()


@pytest.mark.postgres
def test_deploy_upgrade_then_processes_that_refuse_an_old_schema(empty_pg_url: str, tmp_path: Path) -> None:
    _migrate_to(empty_pg_url, "0002")  # the database an older release left behind
    env = {"AGA_SWARM_DB_URL": empty_pg_url, "AGA_SWARM_DB_AUTO_MIGRATE": "false",
           "AGA_SWARM_DATA": str(tmp_path / "data"), "AGA_SWARM_BLOB_URL": "memory://"}
    res = cli(["db", "current"], env, tmp_path)
    assert res.returncode == 3 and f"at revision 0002; this code needs {HEAD_REVISION}" in res.stdout
    for argv in (["worker", "--until-idle"], ["serve", "--port", str(_free_port())], ["swarms"]):
        res = cli(argv, env, tmp_path)
        assert res.returncode == 1, (argv, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, res.stderr
        assert "schema is at revision 0002" in lines[0] and "aga-swarm db upgrade" in lines[0]
    assert Database(empty_pg_url, migrate=False, check_schema=False).current_revision() == "0002"  # untouched
    res = cli(["db", "upgrade"], env, tmp_path)
    assert res.returncode == 0 and f"upgraded from 0002 to revision {HEAD_REVISION}" in res.stdout, res.stderr
    res = cli(["db", "upgrade"], env, tmp_path)
    assert res.returncode == 0 and "already at revision" in res.stdout
    res = cli(["worker", "--until-idle"], env, tmp_path)
    assert res.returncode == 0, res.stderr


def test_the_embedded_default_still_migrates_itself(tmp_path: Path) -> None:
    res = cli(["swarms", "--json"], {"AGA_SWARM_DATA": str(tmp_path / "d")}, tmp_path)
    assert res.returncode == 0, res.stderr
    assert Database(f"sqlite:///{tmp_path / 'd' / 'swarm.db'}", migrate=False).current_revision() == HEAD_REVISION


def test_a_schema_newer_than_the_code_is_refused_even_with_auto_migrate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    Database(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for migrate in (True, False):
        with pytest.raises(SchemaBehind, match="revision 0099, which this code does not know"):
            Database(url, migrate=migrate)


@pytest.mark.postgres
def test_pool_size_is_the_operators(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(pg_url, pool_size=3, max_overflow=0)
    assert db.engine.pool.size() == 3  # type: ignore[attr-defined]
    assert db.engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    db.dispose()
    monkeypatch.setenv("AGA_SWARM_DB_POOL_SIZE", "4")
    monkeypatch.setenv("AGA_SWARM_DB_MAX_OVERFLOW", "1")
    db = Database(pg_url)
    assert db.engine.pool.size() == 4 and db.engine.pool._max_overflow == 1  # type: ignore[attr-defined]
    assert db.engine.pool._pre_ping is False  # type: ignore[attr-defined]
    db.dispose()
    monkeypatch.setenv("AGA_SWARM_DB_POOL_SIZE", "many")
    with pytest.raises(SetupError, match="AGA_SWARM_DB_POOL_SIZE must be a whole number"):
        Database(pg_url)
    with pytest.raises(SettingsError, match="AGA_SWARM_DB_POOL_SIZE"):
        Settings.from_env({"AGA_SWARM_DB_POOL_SIZE": "0"})
    assert Settings.from_env({"AGA_SWARM_DB_POOL_SIZE": "7"}).db_pool_size == 7


def _kill_backends(url: str) -> int:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        n = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :d "
                              "AND pid <> pg_backend_pid()"), {"d": name}).scalar()
    admin.dispose()
    return int(n or 0)


@pytest.mark.postgres
def test_a_connection_killed_while_idle_in_the_pool_is_replaced(empty_pg_url: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(empty_pg_url, pool_size=2, max_overflow=0)
    assert db.ping()
    assert _kill_backends(empty_pg_url) >= 1  # the server restarts, say, while the pool holds the connection
    monkeypatch.setattr(dbmod, "IDLE_PING_SECONDS", 0.0)  # it has been idle long enough to be pinged
    assert db.ping()  # the ping found it dead; the pool opened a new one, and the transaction never saw it
    with db.raw_tx() as raw:
        raw.cursor.execute("SELECT 1")
    db.dispose()


@pytest.mark.postgres
def test_a_connection_killed_while_busy_costs_one_transaction(empty_pg_url: str) -> None:
    db = Database(empty_pg_url, pool_size=2, max_overflow=0)
    assert db.ping()
    _kill_backends(empty_pg_url)
    with pytest.raises(Exception, match=r"terminat|closed|connection"):  # no ping: this one meets the dead socket
        db.ping()
    assert db.ping()  # the pool was invalidated: the next transaction gets a fresh connection
    db.dispose()
