"""developer-log entries say what they record: a model call, a tool call or a step's error

A step's error (its traceback) was recorded as a model call whose model is "-", and a tool call as one whose
model is "tool:<id>". Each entry now has a ``kind`` (``model_call``, ``tool_call``, ``step_error``); the rows
written before are given theirs by those model names.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('llm_calls', sa.Column('kind', sa.String(length=20), nullable=False, server_default='model_call'))
    op.execute("UPDATE llm_calls SET kind = 'step_error' WHERE model = '-'")
    op.execute("UPDATE llm_calls SET kind = 'tool_call' WHERE model LIKE 'tool:%'")


def downgrade() -> None:
    op.execute("UPDATE llm_calls SET model = '-' WHERE kind = 'step_error'")
    with op.batch_alter_table('llm_calls') as batch_op:
        batch_op.drop_column('kind')
