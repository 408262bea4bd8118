"""keys and accounts: key labels and last characters, the operators' balance ledger, no JWT secret in the store

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 01:00:00
"""
from alembic import op
import sqlalchemy as sa
import relaybox.store.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('last4', sa.String(length=4), nullable=True))

    op.create_table(
        'account_ledger',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('balance_after', sa.BigInteger(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.Column('created_at', relaybox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_ledger_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_ledger')),
    )
    op.create_index('ix_account_ledger_account_id_id', 'account_ledger', ['account_id', 'id'], unique=False)

    # The JWT secret no longer lives in the store (services/jwt_keys.py).  The stored one is dropped,
    # not carried over: every token signed with it lacks the key id that tokens now need, so it can
    # verify nothing any more, and it has sat in clear in the database and in its backups.
    op.execute("DELETE FROM settings WHERE key = 'jwt_secret'")


def downgrade() -> None:
    op.drop_index('ix_account_ledger_account_id_id', table_name='account_ledger')
    op.drop_table('account_ledger')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('last4')
        batch_op.drop_column('label')
