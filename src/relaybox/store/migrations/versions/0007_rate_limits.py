"""rate limits: per-account limits on accounts, and the shared token buckets of the API processes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 01:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_requests_per_second', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rate_requests_burst', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rate_messages_per_second', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rate_messages_burst', sa.Integer(), nullable=True))

    op.create_table(
        'rate_buckets',
        sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('rate', sa.Float(), nullable=False),
        sa.Column('burst', sa.Float(), nullable=False),
        sa.Column('tokens', sa.Float(), nullable=False),
        sa.Column('consumed', sa.BigInteger(), nullable=False),
        sa.Column('refilled_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'kind', name=op.f('pk_rate_buckets')),
    )


def downgrade() -> None:
    op.drop_table('rate_buckets')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('rate_messages_burst')
        batch_op.drop_column('rate_messages_per_second')
        batch_op.drop_column('rate_requests_burst')
        batch_op.drop_column('rate_requests_per_second')
