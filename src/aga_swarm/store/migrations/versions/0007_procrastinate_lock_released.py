"""PostgreSQL: a job whose node lock frees is announced, and todo jobs are indexed by lock

Procrastinate announces a job when it is inserted; a job inserted while another job of its lock (its node)
runs is skipped by the workers then, and was fetched only by their fallback poll (5 s). A trigger now
NOTIFYs the queue's channel when a job of the ``aga_swarm`` queue leaves ``doing`` (finished, deleted on
success, failed, or retried as stalled) while a ``todo`` job of the same lock waits, so the workers fetch it
at once. The index serves that check and the drain's deletion of a node's spent wake-ups (engine/jobs.py).

Revision ID: 0007
Revises: 0006
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

UP = """
CREATE INDEX aga_swarm_jobs_todo_lock ON procrastinate_jobs (lock) WHERE status = 'todo';
CREATE OR REPLACE FUNCTION aga_swarm_lock_released() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM procrastinate_jobs WHERE lock = OLD.lock AND status = 'todo') THEN
        PERFORM pg_notify('procrastinate_queue_v1#' || OLD.queue_name,
                          json_build_object('type', 'job_inserted', 'job_id', OLD.id)::text);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER aga_swarm_job_deleted AFTER DELETE ON procrastinate_jobs FOR EACH ROW
    WHEN (OLD.status = 'doing' AND OLD.queue_name = 'aga_swarm' AND OLD.lock IS NOT NULL)
    EXECUTE FUNCTION aga_swarm_lock_released();
CREATE TRIGGER aga_swarm_job_left_doing AFTER UPDATE OF status ON procrastinate_jobs FOR EACH ROW
    WHEN (OLD.status = 'doing' AND NEW.status <> 'doing' AND OLD.queue_name = 'aga_swarm' AND OLD.lock IS NOT NULL)
    EXECUTE FUNCTION aga_swarm_lock_released();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.get_bind().exec_driver_sql(UP)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.get_bind().exec_driver_sql(
            "DROP TRIGGER IF EXISTS aga_swarm_job_deleted ON procrastinate_jobs; "
            "DROP TRIGGER IF EXISTS aga_swarm_job_left_doing ON procrastinate_jobs; "
            "DROP FUNCTION IF EXISTS aga_swarm_lock_released(); DROP INDEX IF EXISTS aga_swarm_jobs_todo_lock")
