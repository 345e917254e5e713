"""the developer log's rows lose what their events already hold, and two b-trees

A journal line was stored twice: as a ``journal`` event and as a ``journal`` row with the same step, text and time.
New rows keep their id, node and seq but no step, text or time (NULL): the node detail reads them from the event
at ``seq`` (the journal's events are never dropped without them: compaction writes them back into the rows
first). Rows written before keep theirs.

``llm_calls`` rows were found by node through a second index beside the primary key's: the key becomes
(swarm, node, id), which serves both, and on SQLite the table is WITHOUT ROWID, so the row lives in that key's
b-tree (two b-trees fewer). On SQLite ``chats`` is WITHOUT ROWID too (its key's second b-tree goes).

Revision ID: 0012
Revises: 0011
"""
from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_LLM_CALL_COLUMNS = ("swarm_id, id, node_id, step, model, body, blob_key, tokens_in, tokens_out, latency_ms, "
                     "cost_usd, attempts, error, created_at, seq, attempt, replan, kind")


def _llm_calls_table(name: str, *, with_rowid: bool) -> None:
    key = ('swarm_id', 'id') if with_rowid else ('swarm_id', 'node_id', 'id')
    op.create_table(
        name,
        sa.Column('swarm_id', sa.String(length=200), sa.ForeignKey('swarms.id', ondelete='CASCADE'), nullable=False),
        sa.Column('id', sa.String(length=200), nullable=False),
        sa.Column('node_id', sa.String(length=200), nullable=False),
        sa.Column('step', sa.String(length=200), nullable=False),
        sa.Column('model', sa.String(length=200), nullable=False),
        sa.Column('body', sa.JSON(), nullable=True),
        sa.Column('blob_key', sa.String(length=500), nullable=True),
        sa.Column('tokens_in', sa.Integer(), nullable=False),
        sa.Column('tokens_out', sa.Integer(), nullable=False),
        sa.Column('latency_ms', sa.Float(), nullable=False),
        sa.Column('cost_usd', sa.Float(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=True),
        sa.Column('attempt', sa.Integer(), nullable=True),
        sa.Column('replan', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False, server_default='model_call'),
        sa.PrimaryKeyConstraint(*key),
        sqlite_with_rowid=with_rowid,
    )


def _chats_table(name: str, *, with_rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column('swarm_id', sa.String(length=200), sa.ForeignKey('swarms.id', ondelete='CASCADE'), nullable=False),
        sa.Column('id', sa.String(length=200), nullable=False),
        sa.Column('node_id', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('swarm_id', 'id'),
        sqlite_with_rowid=with_rowid,
    )


def _rebuild_sqlite(*, with_rowid: bool) -> None:
    _llm_calls_table('llm_calls_rebuilt', with_rowid=with_rowid)
    op.execute(f"INSERT INTO llm_calls_rebuilt ({_LLM_CALL_COLUMNS}) SELECT {_LLM_CALL_COLUMNS} FROM llm_calls")
    op.drop_table('llm_calls')
    op.rename_table('llm_calls_rebuilt', 'llm_calls')
    if with_rowid:
        op.create_index('ix_llm_calls_node', 'llm_calls', ['swarm_id', 'node_id'])
    _chats_table('chats_rebuilt', with_rowid=with_rowid)
    op.execute("INSERT INTO chats_rebuilt (swarm_id, id, node_id, status, data) "
               "SELECT swarm_id, id, node_id, status, data FROM chats ORDER BY swarm_id, id")
    op.drop_table('chats')
    op.rename_table('chats_rebuilt', 'chats')


def upgrade() -> None:
    with op.batch_alter_table('journal') as batch_op:
        batch_op.alter_column('step', existing_type=sa.String(length=200), nullable=True)
        batch_op.alter_column('text', existing_type=sa.Text(), nullable=True)
        batch_op.alter_column('created_at', existing_type=sa.Float(), nullable=True)
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_sqlite(with_rowid=False)
    else:
        op.drop_index('ix_llm_calls_node', table_name='llm_calls')
        op.drop_constraint('llm_calls_pkey', 'llm_calls', type_='primary')
        op.create_primary_key('llm_calls_pkey', 'llm_calls', ['swarm_id', 'node_id', 'id'])


def _event_text(data: Any) -> dict[str, Any]:
    from aga_swarm.store import packing

    if isinstance(data, (str, bytes)):
        return dict(packing.loads(data))
    return dict(data)


def downgrade() -> None:
    # the journal's rows get their step and text back from their events
    conn = op.get_bind()
    found = conn.execute(sa.text(
        "SELECT j.id, e.data, e.ts FROM journal j JOIN events e ON e.swarm_id = j.swarm_id AND e.seq = j.seq "
        "WHERE j.text IS NULL")).all()
    for row_id, data, ts in found:
        event = _event_text(data)
        conn.execute(sa.text("UPDATE journal SET step = :step, text = :text, created_at = :ts WHERE id = :id"),
                     {"step": str(event.get("step", "")), "text": str(event.get("text", "")), "ts": ts, "id": row_id})
    op.execute("UPDATE journal SET step = '', text = '(lost)', created_at = 0 WHERE text IS NULL")
    with op.batch_alter_table('journal') as batch_op:
        batch_op.alter_column('step', existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column('text', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('created_at', existing_type=sa.Float(), nullable=False)
    if conn.dialect.name == 'sqlite':
        _rebuild_sqlite(with_rowid=True)
    else:
        op.drop_constraint('llm_calls_pkey', 'llm_calls', type_='primary')
        op.create_primary_key('llm_calls_pkey', 'llm_calls', ['swarm_id', 'id'])
        op.create_index('ix_llm_calls_node', 'llm_calls', ['swarm_id', 'node_id'])
