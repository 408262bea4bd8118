"""smpp and webhooks: per-account webhook signing secret, connector status published by the engines

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import relaybox.store.types


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_secret', sa.String(length=64), nullable=True))

    op.create_table(
        'connector_status',
        sa.Column('connector', sa.String(length=40), nullable=False),
        sa.Column('worker', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('bound', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=200), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('updated_at', relaybox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('connector', 'worker', name=op.f('pk_connector_status')),
    )


def downgrade() -> None:
    op.drop_table('connector_status')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret')
