"""delivered_at never before created_at: the messages list by delivery time relies on it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 05:30:00
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # From now on store/transitions.py keeps it so; rows written before are made to agree.
    op.execute("UPDATE messages SET delivered_at = created_at WHERE delivered_at < created_at")


def downgrade() -> None:
    pass  # the earlier times are not kept
