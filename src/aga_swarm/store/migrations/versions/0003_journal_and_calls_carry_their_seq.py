"""journal lines and model calls carry the seq of their event

So a node's journal and developer log can be shown as they were at any point of the history (the history
slider), exactly: the rows written by one transaction share its timestamp, but not its events' order. Rows
written before this revision have no seq; they are placed by their timestamp.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('journal', sa.Column('seq', sa.Integer(), nullable=True))
    op.add_column('llm_calls', sa.Column('seq', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('llm_calls') as batch_op:
        batch_op.drop_column('seq')
    with op.batch_alter_table('journal') as batch_op:
        batch_op.drop_column('seq')
