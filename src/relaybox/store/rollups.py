"""The traffic roll-ups behind breakdowns: deltas gathered while messages are inserted or
change status, written with one upsert per table in the same transaction.

Tables (store/tables.py): `traffic_rollups` (messages now in each status and what they are
charged, per account, campaign, hour of creation, country and brand), `traffic_minutes` (sent,
delivered and failed events per minute of when they happened) and `delivery_times` (a
histogram of delivered_at − sent_at per hour of creation).  Rows are written in key order,
after the messages, accounts and campaigns a transaction locks, so concurrent writers queue
rather than deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.delivery_times import bucket_of
from relaybox.domain.models import Message
from relaybox.domain.status import FINAL, MessageStatus
from relaybox.store.bulk import to_driver
from relaybox.store.db import driver
from relaybox.store.tables import delivery_times, traffic_minutes, traffic_rollups

_DELIVERED = frozenset({MessageStatus.DELIVERED, MessageStatus.READ})

#: `campaign_id` of the rows that hold the whole account (every message, in a campaign or not) in
#: each roll-up, so that an account's breakdown or series reads one row per hour (or minute) and
#: key, however many campaigns ran in it.  Campaign ids are positive; 0 is "no campaign".
ACCOUNT = -1
#: `traffic_minutes.campaign_id` of the whole account's rows per hour (`minute` is the hour's start).
ACCOUNT_HOURS = -2


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class Deltas:
    """Roll-up deltas of one transaction, summed per key."""

    def __init__(self) -> None:
        self.statuses: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])  # key → [n, cost]
        self.minutes: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])  # key → [sent, delivered, failed]
        self.times: dict[tuple, int] = defaultdict(int)

    def _status_key(self, account_id, campaign_id, created_at, country, brand, status) -> tuple:
        return (account_id, campaign_id or 0, _hour(created_at), country, brand or "", status)

    def inserted(self, row: dict) -> None:
        """A new message (a row as inserted)."""
        # the keys of `_status_key`, built here once per row: this runs for every message inserted
        account_id, hour = row["account_id"], _hour(row["created_at"])
        rest = (row["country"], row.get("brand") or "", row["status"])
        cost = 0 if row["is_test"] else row["price"]
        for campaign in (row.get("campaign_id") or 0, ACCOUNT):
            slot = self.statuses[(account_id, campaign, hour, *rest)]
            slot[0] += 1
            slot[1] += cost

    def moved(self, msg: Message, old: MessageStatus, new: MessageStatus, *, refunded: bool,
              sent_before: datetime | None, at: datetime) -> None:
        """`msg` (as it is after the change) moved old → new; `refunded`: its price was given back;
        `sent_before`: its sent_at before the change; `at`: when the change happened."""
        charged = 0 if msg.is_test else msg.price
        for scope in (msg.campaign_id or 0, ACCOUNT):
            base = (msg.account_id, scope, msg.created_at, msg.country, msg.brand)
            before = self.statuses[self._status_key(*base, old.value)]
            before[0] -= 1
            before[1] -= charged
            after = self.statuses[self._status_key(*base, new.value)]
            after[0] += 1
            after[1] += 0 if refunded else charged
        if sent_before is None and msg.sent_at is not None:
            self._event(msg, _minute(msg.sent_at), 0)
        if new in _DELIVERED and old not in _DELIVERED and msg.delivered_at is not None:
            self._event(msg, _minute(msg.delivered_at), 1)
            if msg.sent_at is not None:
                bucket = bucket_of(msg.sent_at, msg.delivered_at)
                for scope in (msg.campaign_id or 0, ACCOUNT):
                    self.times[(msg.account_id, scope, _hour(msg.created_at), bucket)] += 1
        elif new in FINAL and new not in _DELIVERED and old not in FINAL:
            self._event(msg, _minute(msg.delivered_at or at), 2)

    def _event(self, msg: Message, minute: datetime, column: int) -> None:
        self.minutes[(msg.account_id, ACCOUNT, minute)][column] += 1
        self.minutes[(msg.account_id, ACCOUNT_HOURS, minute.replace(minute=0))][column] += 1
        if msg.campaign_id:
            self.minutes[(msg.account_id, msg.campaign_id, minute)][column] += 1

    async def write(self, conn: AsyncConnection) -> None:
        """Add the deltas to the roll-ups, in the caller's transaction."""
        statuses = sorted((k, v) for k, v in self.statuses.items() if v[0] or v[1])
        minutes = sorted((k, v) for k, v in self.minutes.items() if any(v))
        times = sorted((k, v) for k, v in self.times.items() if v)
        if conn.dialect.name == "postgresql":
            await _write_postgresql(conn, statuses, minutes, times)
        else:
            await _write_sqlite(conn, statuses, minutes, times)


_PG_STATUSES = """
    INSERT INTO traffic_rollups (account_id, campaign_id, hour, country, brand, status, n, cost)
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::varchar[], $5::varchar[],
                         $6::varchar[], $7::bigint[], $8::bigint[])
    ON CONFLICT (account_id, campaign_id, hour, country, brand, status)
    DO UPDATE SET n = traffic_rollups.n + excluded.n, cost = traffic_rollups.cost + excluded.cost
"""
_PG_MINUTES = """
    INSERT INTO traffic_minutes (account_id, campaign_id, minute, sent, delivered, failed)
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[])
    ON CONFLICT (account_id, campaign_id, minute)
    DO UPDATE SET sent = traffic_minutes.sent + excluded.sent,
                  delivered = traffic_minutes.delivered + excluded.delivered,
                  failed = traffic_minutes.failed + excluded.failed
"""
_PG_TIMES = """
    INSERT INTO delivery_times (account_id, campaign_id, hour, bucket, n)
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::int[], $5::bigint[])
    ON CONFLICT (account_id, campaign_id, hour, bucket) DO UPDATE SET n = delivery_times.n + excluded.n
"""


def _columns(entries: list[tuple[tuple, list | int]]) -> list[list]:
    rows = [(*key, *(value if isinstance(value, list) else [value])) for key, value in entries]
    return [list(column) for column in zip(*rows)]


async def _write_postgresql(conn, statuses, minutes, times) -> None:
    raw = None
    for sql, entries in ((_PG_STATUSES, statuses), (_PG_MINUTES, minutes), (_PG_TIMES, times)):
        if entries:
            raw = raw or await driver(conn)
            await raw.execute(sql, *_columns(entries))


_SQLITE_STATUSES = (
    "INSERT INTO traffic_rollups (account_id, campaign_id, hour, country, brand, status, n, cost) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, campaign_id, hour, country, brand, status) "
    "DO UPDATE SET n = n + excluded.n, cost = cost + excluded.cost"
)
_SQLITE_MINUTES = (
    "INSERT INTO traffic_minutes (account_id, campaign_id, minute, sent, delivered, failed) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, campaign_id, minute) DO UPDATE SET "
    "sent = sent + excluded.sent, delivered = delivered + excluded.delivered, failed = failed + excluded.failed"
)
_SQLITE_TIMES = (
    "INSERT INTO delivery_times (account_id, campaign_id, hour, bucket, n) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (account_id, campaign_id, hour, bucket) DO UPDATE SET n = n + excluded.n"
)


async def _write_sqlite(conn, statuses, minutes, times) -> None:
    d = conn.dialect
    if statuses:
        col = traffic_rollups.c.hour
        await conn.exec_driver_sql(_SQLITE_STATUSES, [
            (a, c, to_driver(col, d, h), country, brand, status, n, cost)
            for (a, c, h, country, brand, status), (n, cost) in statuses
        ])
    if minutes:
        col = traffic_minutes.c.minute
        await conn.exec_driver_sql(_SQLITE_MINUTES, [
            (a, c, to_driver(col, d, m), *values) for (a, c, m), values in minutes
        ])
    if times:
        col = delivery_times.c.hour
        await conn.exec_driver_sql(_SQLITE_TIMES, [
            (a, c, to_driver(col, d, h), bucket, n) for (a, c, h, bucket), n in times
        ])
