"""the per-swarm auto-approve switch gets its own column

The tools a person approved automatically in a swarm (``aga-swarm approve-tools``, ``PUT
/api/swarms/{id}/auto_approve``) were kept inside the swarm row's ``usage`` JSON, beside the counters they have
nothing to do with. They move to a column of their own, ``swarms.auto_approve`` (a JSON list of tool ids, ``*``
for every tool); existing values move with them.

Revision ID: 0011
Revises: 0010
"""
import json
from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_swarms = sa.table('swarms', sa.column('id', sa.String), sa.column('usage', sa.JSON),
                   sa.column('auto_approve', sa.JSON))


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def upgrade() -> None:
    op.add_column('swarms', sa.Column('auto_approve', sa.JSON(), nullable=False, server_default='[]'))
    conn = op.get_bind()
    for row in conn.execute(sa.select(_swarms.c.id, _swarms.c.usage)).all():
        usage = _loaded(row.usage) or {}
        if 'auto_approve' not in usage:
            continue
        tools = usage.pop('auto_approve') or []
        conn.execute(_swarms.update().where(_swarms.c.id == row.id).values(usage=usage, auto_approve=tools))


def downgrade() -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(_swarms.c.id, _swarms.c.usage, _swarms.c.auto_approve)).all():
        tools = _loaded(row.auto_approve) or []
        if tools:
            usage = _loaded(row.usage) or {}
            usage['auto_approve'] = tools
            conn.execute(_swarms.update().where(_swarms.c.id == row.id).values(usage=usage))
    with op.batch_alter_table('swarms') as batch:
        batch.drop_column('auto_approve')
