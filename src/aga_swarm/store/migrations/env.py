"""Alembic environment: runs on the connection the Database hands over (inside its migration lock), on the
engine it hands over, or on the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from aga_swarm.store.tables import metadata

config = context.config
given = config.attributes.get("connection")

if given is not None:
    # the caller holds the lock and owns the transaction: every migration runs in it, and the caller commits
    context.configure(connection=given, target_metadata=metadata, render_as_batch=True, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = config.attributes.get("connection_engine") or create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()
