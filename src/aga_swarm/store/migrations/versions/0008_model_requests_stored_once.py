"""model requests stored once, by their content; finished operations pruned

A model call's request (prompt messages, output schema) was stored twice: in the node's ``llm`` continuation
(so in a ``node_updated`` event and the node row) and again in the developer log's ``llm_calls`` body. It is now
a row of ``llm_requests`` keyed by the SHA-256 of its canonical JSON (or, above the operator's inline size, a blob
that row points at); the continuation and the developer log refer to it by that key. Operations are deleted once
done (their effects are in the history), so the rows of finished ones are deleted here too. On SQLite the events
table becomes a WITHOUT ROWID table: its key (swarm, seq) is where a row lives, so the second b-tree that held
that key beside the rowid (about a tenth of the file) goes.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'llm_requests',
        sa.Column('swarm_id', sa.String(length=200), sa.ForeignKey('swarms.id', ondelete='CASCADE'), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('body', sa.JSON(), nullable=True),
        sa.Column('blob_key', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('swarm_id', 'key'),
        sqlite_with_rowid=False,
    )
    op.execute("DELETE FROM operations WHERE status = 'done'")
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_events(with_rowid=False)


def _rebuild_events(*, with_rowid: bool) -> None:
    op.create_table(
        'events_rebuilt',
        sa.Column('swarm_id', sa.String(length=200), sa.ForeignKey('swarms.id', ondelete='CASCADE'), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('ts', sa.Float(), nullable=False),
        sa.Column('type', sa.String(length=30), nullable=False),
        sa.Column('node_id', sa.String(length=200), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('swarm_id', 'seq'),
        sqlite_with_rowid=with_rowid,
    )
    op.execute("INSERT INTO events_rebuilt (swarm_id, seq, ts, type, node_id, data) "
               "SELECT swarm_id, seq, ts, type, node_id, data FROM events ORDER BY swarm_id, seq")
    op.drop_table('events')
    op.rename_table('events_rebuilt', 'events')


def downgrade() -> None:
    # continuations and developer-log bodies written since 0006 refer to their request by key: under the older
    # code those calls show no prompt, and a model call still waiting to run fails its node (pruned operations
    # are not restored). Downgrade only a store that has not run swarms since the upgrade.
    op.drop_table('llm_requests')
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_events(with_rowid=True)
