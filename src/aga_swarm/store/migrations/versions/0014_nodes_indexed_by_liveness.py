"""the nodes' parent index holds whether a node is live, not its lifecycle

``ix_nodes_parent`` was (swarm, parent, lifecycle): every lifecycle change moved the node's entry, and an ask or
tool cycle changes it twice (running, waiting_user, running), so each of its commits wrote a page of that index.
What reads the index only asks whether a node is live (a live child of a parent; a swarm's live nodes), so the
index becomes (swarm, parent, live), with ``live`` 1 until the node has ended (done, failed, cancelled): it moves
once in a node's life. The ``lifecycle`` column stays (the idle-swarm scan counts lifecycles).

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('nodes', sa.Column('live', sa.SmallInteger(), nullable=False, server_default='1'))
    op.execute("UPDATE nodes SET live = 0 WHERE lifecycle IN ('done', 'failed', 'cancelled')")
    op.drop_index('ix_nodes_parent', table_name='nodes')
    op.create_index('ix_nodes_parent', 'nodes', ['swarm_id', 'parent_id', 'live'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_nodes_parent', table_name='nodes')
    op.create_index('ix_nodes_parent', 'nodes', ['swarm_id', 'parent_id', 'lifecycle'], unique=False)
    with op.batch_alter_table('nodes') as batch_op:
        batch_op.drop_column('live')
