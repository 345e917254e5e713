"""Alembic environment: runs against the engine the Database handed over (or the configured URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from aga_swarm.store.tables import metadata

config = context.config
engine = config.attributes.get("connection_engine") or create_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()
