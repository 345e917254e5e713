"""developer-log records carry the attempt and re-plan they belong to

A node's developer log lists its model (and tool) calls, but not which attempt of the node made each one: a node a
person retried (``Node.attempt``) or a plan that re-planned (``Node.replans``) shows its earlier calls and its
later ones as one list. Each record now carries the node's attempt and its re-plan count when the call was made.
Rows written before this revision have neither (NULL): they are shown without one.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('llm_calls', sa.Column('attempt', sa.Integer(), nullable=True))
    op.add_column('llm_calls', sa.Column('replan', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('llm_calls') as batch_op:
        batch_op.drop_column('replan')
        batch_op.drop_column('attempt')
