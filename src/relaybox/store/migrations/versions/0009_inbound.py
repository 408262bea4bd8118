"""inbound: two-way numbers, inbound webhook settings, mobile-originated messages and their parts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 04:45:00
"""
from alembic import op
import sqlalchemy as sa
import relaybox.store.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = relaybox.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'inbound_numbers',
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_inbound_numbers_account_id_accounts')),
        sa.PrimaryKeyConstraint('number', name=op.f('pk_inbound_numbers')),
    )
    op.create_index('ix_inbound_numbers_account_id', 'inbound_numbers', ['account_id'], unique=False)

    op.create_table(
        'inbound_settings',
        sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('webhook_url', sa.String(length=500), nullable=True),
        sa.Column('updated_at', _TIME, nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_inbound_settings_account_id_accounts')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_inbound_settings')),
    )

    op.create_table(
        'inbound_messages',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=True),
        sa.Column('sender', sa.String(length=21), nullable=False),
        sa.Column('recipient', sa.String(length=40), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('encoding', sa.String(length=8), nullable=False),
        sa.Column('parts', sa.Integer(), nullable=False),
        sa.Column('connector', sa.String(length=40), nullable=False),
        sa.Column('route', sa.String(length=16), nullable=False),
        sa.Column('reply_to', sa.BigInteger(), nullable=True),
        sa.Column('action', sa.String(length=16), nullable=True),
        sa.Column('dedupe_key', sa.String(length=64), nullable=False),
        sa.Column('received_at', _TIME, nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_inbound_messages_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    )
    op.create_index('ix_inbound_messages_account_id_id', 'inbound_messages', ['account_id', 'id'], unique=False)
    op.create_index('ix_inbound_messages_account_id_received_at', 'inbound_messages', ['account_id', 'received_at'],
                    unique=False)
    op.create_index('ix_inbound_messages_dedupe_key_received_at', 'inbound_messages', ['dedupe_key', 'received_at'],
                    unique=False)

    op.create_table(
        'inbound_parts',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('connector', sa.String(length=40), nullable=False),
        sa.Column('sender', sa.String(length=21), nullable=False),
        sa.Column('recipient', sa.String(length=40), nullable=False),
        sa.Column('reference', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('encoding', sa.String(length=8), nullable=False),
        sa.Column('received_at', _TIME, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_parts')),
    )
    op.create_index('uq_inbound_parts_set_number', 'inbound_parts',
                    ['connector', 'sender', 'recipient', 'reference', 'total', 'number'], unique=True)
    op.create_index('ix_inbound_parts_received_at', 'inbound_parts', ['received_at'], unique=False)

    # Inbound routing: the latest message to a phone from a sender, across accounts.
    op.create_index('ix_messages_phone_sender_id', 'messages', ['phone', 'sender', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_messages_phone_sender_id', table_name='messages')
    op.drop_table('inbound_parts')
    op.drop_table('inbound_messages')
    op.drop_table('inbound_settings')
    op.drop_table('inbound_numbers')
