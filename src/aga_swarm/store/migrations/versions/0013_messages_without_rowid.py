"""on SQLite, the messages table is WITHOUT ROWID: one b-tree instead of two

A message was stored in the table's rowid b-tree and found through its key's (swarm, chat, index) second b-tree:
every posted message wrote a page of each. WITHOUT ROWID, the row lives in its key's b-tree (as chats, events and
llm_calls already do), one page fewer a commit that posts a message. PostgreSQL is unchanged (a heap and its key's
index there either way).

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_COLUMNS = "swarm_id, id, chat_id, idx, role, content, reply_to, attachments, created_at"


def _messages_table(name: str, *, with_rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column('swarm_id', sa.String(length=200), sa.ForeignKey('swarms.id', ondelete='CASCADE'), nullable=False),
        sa.Column('id', sa.String(length=200), nullable=False),
        sa.Column('chat_id', sa.String(length=200), nullable=False),
        sa.Column('idx', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('reply_to', sa.String(length=200), nullable=True),
        sa.Column('attachments', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('swarm_id', 'chat_id', 'idx'),
        sqlite_with_rowid=with_rowid,
    )


def _rebuild(*, with_rowid: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    _messages_table('messages_rebuilt', with_rowid=with_rowid)
    op.execute(f"INSERT INTO messages_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM messages "
               "ORDER BY swarm_id, chat_id, idx")
    op.drop_table('messages')
    op.rename_table('messages_rebuilt', 'messages')


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
