"""the memory space: a row per version of each file

Each write of a file of a swarm's memory space adds a row (path, seq) pointing at its bytes in the blob store;
the file as of any seq is its row with the greatest seq at or before it.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'memory_files',
        sa.Column('swarm_id', sa.String(length=200), sa.ForeignKey('swarms.id', ondelete='CASCADE'), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('node_id', sa.String(length=200), nullable=True),
        sa.Column('blob_key', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('swarm_id', 'path', 'seq'),
    )


def downgrade() -> None:
    op.drop_table('memory_files')
