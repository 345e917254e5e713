"""PostgreSQL: operations dispatched as Procrastinate jobs, deferred in the transaction that queues them

Installs Procrastinate's schema (its tables, functions and NOTIFY triggers, from the pinned package) and a
trigger on ``operations``: a row that becomes ``queued`` (inserted queued, released from ``held``, re-queued
after a lease expired or for a backoff) defers a job through ``procrastinate_defer_jobs_v1`` in the same
transaction, with lock ``<swarm>:<node>`` (one job of a node runs at a time) and ``scheduled_at`` from
``not_before``. A session with ``aga_swarm.dispatch = 'poll'`` (``AGA_SWARM_DISPATCH=poll``) defers none.
SQLite: nothing (the embedded runner claims from the table).

Revision ID: 0006
Revises: 0005
"""
from typing import Any

from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

DEFER_FUNCTION = """
CREATE OR REPLACE FUNCTION aga_swarm_defer_operation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM procrastinate_defer_jobs_v1(ARRAY[ROW(
        'aga_swarm', 'aga_swarm.operation', 0, NEW.swarm_id || ':' || NEW.node_id, NULL,
        jsonb_build_object('swarm', NEW.swarm_id, 'node', NEW.node_id, 'op', NEW.id),
        CASE WHEN NEW.not_before > extract(epoch FROM clock_timestamp()) THEN to_timestamp(NEW.not_before) END
    )::procrastinate_job_to_defer_v1]);
    RETURN NULL;
END;
$$;
"""

TRIGGERS = """
CREATE TRIGGER aga_swarm_operation_inserted AFTER INSERT ON operations FOR EACH ROW
    WHEN (NEW.status = 'queued' AND current_setting('aga_swarm.dispatch', true) IS DISTINCT FROM 'poll')
    EXECUTE FUNCTION aga_swarm_defer_operation();
CREATE TRIGGER aga_swarm_operation_requeued AFTER UPDATE OF status ON operations FOR EACH ROW
    WHEN (NEW.status = 'queued' AND OLD.status <> 'queued'
          AND current_setting('aga_swarm.dispatch', true) IS DISTINCT FROM 'poll')
    EXECUTE FUNCTION aga_swarm_defer_operation();
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    installed = bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").scalar()
    if not installed:
        from procrastinate.schema import SchemaManager

        raw: Any = bind.connection.dbapi_connection
        with raw.cursor() as cur:  # no parameters: a '%' in it is not a placeholder
            cur.execute(SchemaManager.get_schema())
    bind.exec_driver_sql(DEFER_FUNCTION)
    bind.exec_driver_sql(TRIGGERS)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    bind.exec_driver_sql("DROP TRIGGER IF EXISTS aga_swarm_operation_inserted ON operations; "
                         "DROP TRIGGER IF EXISTS aga_swarm_operation_requeued ON operations; "
                         "DROP FUNCTION IF EXISTS aga_swarm_defer_operation()")
