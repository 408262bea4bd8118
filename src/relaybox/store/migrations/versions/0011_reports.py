"""reports: operator brand of messages, traffic roll-ups for breakdowns, statistics jobs

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 05:00:00

`traffic_rollups` is filled from the messages already stored, so that breakdowns' counts and
costs of earlier traffic are exact too (their brand is unknown: '' — it was not recorded); the
event series (`traffic_minutes`) and delivery times (`delivery_times`) start with the upgrade.
"""
from alembic import op
import sqlalchemy as sa
import relaybox.store.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = relaybox.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column('messages', sa.Column('brand', sa.String(length=64), nullable=True))
    op.create_table(
        'traffic_rollups',
        sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('campaign_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hour', _TIME, nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('brand', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('cost', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'campaign_id', 'hour', 'country', 'brand', 'status',
                                name=op.f('pk_traffic_rollups')),
    )
    op.create_index('ix_traffic_rollups_account_id_hour', 'traffic_rollups', ['account_id', 'hour'])
    op.create_table(
        'traffic_minutes',
        sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('campaign_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('minute', _TIME, nullable=False),
        sa.Column('sent', sa.BigInteger(), nullable=False),
        sa.Column('delivered', sa.BigInteger(), nullable=False),
        sa.Column('failed', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'campaign_id', 'minute', name=op.f('pk_traffic_minutes')),
    )
    op.create_index('ix_traffic_minutes_account_id_minute', 'traffic_minutes', ['account_id', 'minute'])
    op.create_table(
        'delivery_times',
        sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('campaign_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hour', _TIME, nullable=False),
        sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'campaign_id', 'hour', 'bucket', name=op.f('pk_delivery_times')),
    )
    op.create_index('ix_delivery_times_account_id_hour', 'delivery_times', ['account_id', 'hour'])
    op.create_table(
        'stat_jobs',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('request', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        sa.Column('started_at', _TIME, nullable=True),
        sa.Column('finished_at', _TIME, nullable=True),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('heartbeat_at', _TIME, nullable=True),
        sa.Column('rows', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_stat_jobs_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_jobs')),
        sa.UniqueConstraint('key', name=op.f('uq_stat_jobs_key')),
    )
    op.create_index('ix_stat_jobs_account_id_id', 'stat_jobs', ['account_id', 'id'])
    op.create_index('ix_stat_jobs_open', 'stat_jobs', ['created_at'],
                    sqlite_where=sa.text("status IN ('pending', 'processing')"),
                    postgresql_where=sa.text("status IN ('pending', 'processing')"))
    op.create_table(
        'stat_job_chunks',
        sa.Column('job_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('first_row', sa.BigInteger(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['stat_jobs.id'], name=op.f('fk_stat_job_chunks_job_id_stat_jobs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('job_id', 'seq', name=op.f('pk_stat_job_chunks')),
    )
    # Earlier traffic into the status roll-up (brand unknown), charged as the refund rules say
    # (domain/status.py: refundable): an SMS failed before an operator took it, an RCS message
    # not delivered, and test traffic cost nothing.
    hour = ("date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
            if op.get_bind().dialect.name == 'postgresql' else "strftime('%Y-%m-%d %H:00:00.000000', created_at)")
    op.execute(
        "INSERT INTO traffic_rollups (account_id, campaign_id, hour, country, brand, status, n, cost) "
        f"SELECT account_id, coalesce(campaign_id, 0), {hour}, country, '', status, count(*), "
        "sum(CASE WHEN is_test THEN 0 "
        "WHEN type = 'sms' AND status = 'failed' AND sent_at IS NULL THEN 0 "
        "WHEN type = 'rcs' AND status IN ('failed', 'undelivered', 'expired', 'unknown', 'not_service_user') THEN 0 "
        "ELSE price END) FROM messages "
        f"GROUP BY account_id, coalesce(campaign_id, 0), {hour}, country, status"
    )
    # and the whole account's rows (campaign_id -1: store/rollups.py ACCOUNT)
    op.execute(
        "INSERT INTO traffic_rollups (account_id, campaign_id, hour, country, brand, status, n, cost) "
        "SELECT account_id, -1, hour, country, brand, status, sum(n), sum(cost) FROM traffic_rollups "
        "GROUP BY account_id, hour, country, brand, status"
    )


def downgrade() -> None:
    op.drop_table('stat_job_chunks')
    op.drop_index('ix_stat_jobs_open', table_name='stat_jobs')
    op.drop_index('ix_stat_jobs_account_id_id', table_name='stat_jobs')
    op.drop_table('stat_jobs')
    op.drop_index('ix_delivery_times_account_id_hour', table_name='delivery_times')
    op.drop_table('delivery_times')
    op.drop_index('ix_traffic_minutes_account_id_minute', table_name='traffic_minutes')
    op.drop_table('traffic_minutes')
    op.drop_index('ix_traffic_rollups_account_id_hour', table_name='traffic_rollups')
    op.drop_table('traffic_rollups')
    op.drop_column('messages', 'brand')
