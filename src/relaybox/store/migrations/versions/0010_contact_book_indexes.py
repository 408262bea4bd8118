"""contact book: one default list per account, list names unique per account, stop-listed contacts indexed

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 04:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

#: A contact on any channel's stop list (store/tables.py STOPLISTED_SQL).
_STOPLISTED = "sms_stoplist OR viber_stoplist OR rcs_stoplist OR whatsapp_stoplist"


def upgrade() -> None:
    op.create_index('uq_contact_groups_account_id_name', 'contact_groups', ['account_id', 'name'], unique=True)
    op.create_index('uq_contact_groups_default', 'contact_groups', ['account_id'], unique=True,
                    sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))
    op.create_index('ix_contacts_stoplisted', 'contacts', ['account_id', 'id'],
                    sqlite_where=sa.text(_STOPLISTED), postgresql_where=sa.text(_STOPLISTED))


def downgrade() -> None:
    op.drop_index('ix_contacts_stoplisted', table_name='contacts')
    op.drop_index('uq_contact_groups_default', table_name='contact_groups')
    op.drop_index('uq_contact_groups_account_id_name', table_name='contact_groups')
