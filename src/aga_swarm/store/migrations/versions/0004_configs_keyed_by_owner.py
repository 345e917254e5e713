"""configs are keyed by (owner, id)

Two owners may each have a config called ``mine``, and saving one never replaces the other. ``owner_id`` is
no longer nullable: ``''`` marks a config the operator shares with every user (saved through the Python API
without an owner). Before this revision every config without an owner had been saved by the command line
(``--config-file``, ``--script``), whose swarms belong to the user ``local``: those become ``local``'s, so they
stop showing in every web user's list.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _configs(name: str, *, owner_nullable: bool, key: list[str]) -> sa.Table:
    return sa.Table(
        name, sa.MetaData(),
        sa.Column('id', sa.String(length=200), nullable=False),
        sa.Column('owner_id', sa.String(length=200), nullable=owner_nullable),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name=f'pk_{name}'),
    )


def _copy_into(new: sa.Table, select_sql: str) -> None:
    new.create(op.get_bind())
    op.execute(f"INSERT INTO {new.name} (id, owner_id, name, data, created_at) {select_sql}")
    with op.batch_alter_table('configs') as batch_op:
        batch_op.drop_index('ix_configs_owner_id')
    op.drop_table('configs')
    op.rename_table(new.name, 'configs')


def upgrade() -> None:
    _copy_into(_configs('configs_by_owner', owner_nullable=False, key=['owner_id', 'id']),
               "SELECT id, COALESCE(owner_id, 'local'), name, data, created_at FROM configs")
    with op.batch_alter_table('configs') as batch_op:
        batch_op.create_index('ix_configs_owner_id', ['owner_id'], unique=False)


def downgrade() -> None:
    # one row per id again: where owners share an id, the oldest config keeps it
    _copy_into(_configs('configs_by_id', owner_nullable=True, key=['id']),
               "SELECT c.id, NULLIF(c.owner_id, ''), c.name, c.data, c.created_at FROM configs c "
               "WHERE NOT EXISTS (SELECT 1 FROM configs o WHERE o.id = c.id AND (o.created_at < c.created_at "
               "OR (o.created_at = c.created_at AND o.owner_id < c.owner_id)))")
    with op.batch_alter_table('configs') as batch_op:
        batch_op.create_index('ix_configs_owner_id', ['owner_id'], unique=False)
