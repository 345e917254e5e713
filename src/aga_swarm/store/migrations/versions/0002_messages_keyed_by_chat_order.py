"""messages keyed by (swarm, chat, order)

A message's id is derived from its chat and index (``<chat id>.m<index>``) and nothing looks a message up
by id, so the table keeps one key, its order in the chat, instead of two unique indexes: every message
posted writes one b-tree fewer (an ask-reply cycle posts two).

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_COLUMNS = "swarm_id, id, chat_id, idx, role, content, reply_to, attachments, created_at"


def _rebuild(primary_key: list[str], unique_order: bool) -> None:
    op.create_table('messages_new',
    sa.Column('swarm_id', sa.String(length=200), nullable=False),
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('chat_id', sa.String(length=200), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('reply_to', sa.String(length=200), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['swarm_id'], ['swarms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint(*primary_key),
    *([sa.UniqueConstraint('swarm_id', 'chat_id', 'idx', name='uq_message_order')] if unique_order else []),
    )
    op.execute(f"INSERT INTO messages_new ({_COLUMNS}) SELECT {_COLUMNS} FROM messages")
    op.drop_table('messages')
    op.rename_table('messages_new', 'messages')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':  # SQLite cannot change a primary key in place
        _rebuild(['swarm_id', 'chat_id', 'idx'], unique_order=False)
        return
    op.drop_constraint('uq_message_order', 'messages', type_='unique')
    op.drop_constraint('messages_pkey', 'messages', type_='primary')
    op.create_primary_key('messages_pkey', 'messages', ['swarm_id', 'chat_id', 'idx'])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild(['swarm_id', 'id'], unique_order=True)
        return
    op.drop_constraint('messages_pkey', 'messages', type_='primary')
    op.create_primary_key('messages_pkey', 'messages', ['swarm_id', 'id'])
    op.create_unique_constraint('uq_message_order', 'messages', ['swarm_id', 'chat_id', 'idx'])
