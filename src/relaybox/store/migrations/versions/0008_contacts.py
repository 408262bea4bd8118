"""contacts: the contact book, custom fields, contact lists, and the per-channel stop-list flags

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:35:00
"""
from alembic import op
import sqlalchemy as sa
import relaybox.store.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = relaybox.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'contacts',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('phone', sa.BigInteger(), nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        sa.Column('updated_at', _TIME, nullable=False),
        sa.Column('hlr_status', sa.String(length=16), server_default='unknown', nullable=False),
        sa.Column('sms_stoplist', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('viber_stoplist', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('rcs_stoplist', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('whatsapp_stoplist', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('stoplisted_at', _TIME, nullable=True),
        sa.Column('stoplist_source', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_contacts_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    )
    op.create_index('uq_contacts_account_id_phone', 'contacts', ['account_id', 'phone'], unique=True)
    op.create_index('ix_contacts_account_id_id', 'contacts', ['account_id', 'id'], unique=False)

    op.create_table(
        'contact_fields',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('is_visible', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_contact_fields_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_fields')),
    )
    op.create_index('uq_contact_fields_account_id_name', 'contact_fields', ['account_id', 'name'], unique=True)

    op.create_table(
        'contact_field_values',
        sa.Column('contact_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('field_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE',
                                name=op.f('fk_contact_field_values_contact_id_contacts')),
        sa.ForeignKeyConstraint(['field_id'], ['contact_fields.id'], ondelete='CASCADE',
                                name=op.f('fk_contact_field_values_field_id_contact_fields')),
        sa.PrimaryKeyConstraint('contact_id', 'field_id', name=op.f('pk_contact_field_values')),
    )
    op.create_index('ix_contact_field_values_field_id', 'contact_field_values', ['field_id'], unique=False)

    op.create_table(
        'contact_groups',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('is_default', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_contact_groups_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_groups')),
    )
    op.create_index('ix_contact_groups_account_id_id', 'contact_groups', ['account_id', 'id'], unique=False)

    op.create_table(
        'contact_group_members',
        sa.Column('group_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('contact_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['contact_groups.id'], ondelete='CASCADE',
                                name=op.f('fk_contact_group_members_group_id_contact_groups')),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE',
                                name=op.f('fk_contact_group_members_contact_id_contacts')),
        sa.PrimaryKeyConstraint('group_id', 'contact_id', name=op.f('pk_contact_group_members')),
    )
    op.create_index('ix_contact_group_members_contact_id', 'contact_group_members', ['contact_id'], unique=False)


def downgrade() -> None:
    op.drop_table('contact_group_members')
    op.drop_table('contact_groups')
    op.drop_table('contact_field_values')
    op.drop_table('contact_fields')
    op.drop_table('contacts')
