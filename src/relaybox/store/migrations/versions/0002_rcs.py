"""rcs: RCS content and SMS fallback columns on messages, fallback counters on campaigns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Spelled out rather than imported: a migration must keep building the schema of
# its time even after the statuses in the code change.
STATUSES = (
    'scheduled', 'moderation', 'accepted', 'sending', 'sent', 'delivered', 'read',
    'expired', 'failed', 'undelivered', 'unknown', 'not_service_user',
)


def _json() -> sa.types.TypeEngine:
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        for status in STATUSES:
            batch_op.add_column(sa.Column(f'n_alt_{status}', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rcs_options', _json(), nullable=True))
        batch_op.add_column(sa.Column('alternative_sms', _json(), nullable=True))
        batch_op.add_column(sa.Column('alternative_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('parent_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('parent_id')
        batch_op.drop_column('alternative_id')
        batch_op.drop_column('alternative_sms')
        batch_op.drop_column('rcs_options')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        for status in reversed(STATUSES):
            batch_op.drop_column(f'n_alt_{status}')
