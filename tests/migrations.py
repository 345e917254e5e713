"""Stores at an older schema revision, for the tests that upgrade or downgrade one (Alembic on a given URL)."""
from __future__ import annotations

from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, text

from aga_swarm.store.database import MIGRATIONS_DIR


def alembic_on(url: str) -> tuple[Engine, Config]:
    """An engine on ``url`` and an Alembic config that migrates through it (``command.upgrade(cfg, "0004")``)."""
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection_engine"] = engine
    return engine, cfg


def insert_swarm(conn: Connection, swarm_id: str = "s1", usage: str = "{}", status: str = "draft") -> None:
    """A swarm row as every schema revision has it."""
    conn.execute(text("INSERT INTO swarms (id, owner_id, name, goal, config_id, status, last_seq, first_seq, usage, "
                      "created_at, updated_at) VALUES (:id, 'u1', 'n', 'g', 'local', :status, 0, 1, :usage, 0, 0)"),
                 {"id": swarm_id, "usage": usage, "status": status})
