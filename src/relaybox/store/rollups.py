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
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.delivery_times import bucket_of
from relaybox.domain.models import Message
from relaybox.domain.status import FINAL, MessageStatus
from relaybox.store.bulk import to_driver
from relaybox.store.db import driver
from relaybox.store.tables import delivery_times, traffic_minutes, traffic_rollups

#: As plain strs (keys of `Deltas.moved`, which compares `_value_`s: a StrEnum hashes slowly).
_DELIVERED = frozenset({MessageStatus.DELIVERED.value, MessageStatus.READ.value})
_FINAL = frozenset(s.value for s in FINAL)

#: `campaign_id` of the rows that hold the whole account (every message, in a campaign or not) in
#: each roll-up, so that an account's breakdown or series reads one row per hour (or minute) and
#: key, however many campaigns ran in it.  Campaign ids are positive; 0 is "no campaign".
ACCOUNT = -1
#: `traffic_minutes.campaign_id` of the whole account's rows per hour (`minute` is the hour's start).
ACCOUNT_HOURS = -2


def _hour_no(moment: datetime) -> int:
    """Whole hours since the Unix epoch (UTC) of an aware datetime (a naive one is read as UTC).

    The deltas are keyed by these numbers, not by datetimes: an aware datetime is slow to hash and
    to truncate, and every message inserted or moved adds to four to six keys (docs/benchmarks.md).
    """
    return int(_seconds(moment)) // 3600


def _minute_no(moment: datetime) -> int:
    """Whole minutes since the Unix epoch (UTC), as `_hour_no`."""
    return int(_seconds(moment)) // 60


def _seconds(moment: datetime) -> float:
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


def _hour(number: int) -> datetime:
    """The start of hour `number` (`_hour_no`), as the roll-up tables store it."""
    return datetime.fromtimestamp(number * 3600, UTC)


def _minute(number: int) -> datetime:
    return datetime.fromtimestamp(number * 60, UTC)


def _plain(status) -> str:
    """A status as a plain str (a MessageStatus is a StrEnum, whose hash is not a str's)."""
    return getattr(status, "_value_", status)


class Deltas:
    """Roll-up deltas of one transaction, summed per key.

    Keys: statuses (account, campaign or ACCOUNT, hour number, country, brand or "", status);
    minutes (account, campaign or ACCOUNT or ACCOUNT_HOURS, minute number); times (account,
    campaign or ACCOUNT, hour number, bucket).  Hour and minute numbers count from the Unix epoch.
    """

    def __init__(self) -> None:
        self.statuses: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])  # key → [n, cost]
        self.minutes: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])  # key → [sent, delivered, failed]
        self.times: dict[tuple, int] = defaultdict(int)

    def inserted(self, row: dict) -> None:
        """A new message (a row as inserted)."""
        account_id, hour = row["account_id"], _hour_no(row["created_at"])
        rest = (row["country"], row.get("brand") or "", _plain(row["status"]))
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
        gained = 0 if refunded else charged
        account_id, hour, country, brand = msg.account_id, _hour_no(msg.created_at), msg.country, msg.brand or ""
        old_status, new_status = old._value_, new._value_
        statuses = self.statuses
        scopes = (msg.campaign_id or 0, ACCOUNT)
        for scope in scopes:
            before = statuses[(account_id, scope, hour, country, brand, old_status)]
            before[0] -= 1
            before[1] -= charged
            after = statuses[(account_id, scope, hour, country, brand, new_status)]
            after[0] += 1
            after[1] += gained
        if sent_before is None and msg.sent_at is not None:
            self._event(msg, _minute_no(msg.sent_at), 0)
        if new_status in _DELIVERED and old_status not in _DELIVERED and msg.delivered_at is not None:
            self._event(msg, _minute_no(msg.delivered_at), 1)
            if msg.sent_at is not None:
                bucket = bucket_of(msg.sent_at, msg.delivered_at)
                for scope in scopes:
                    self.times[(account_id, scope, hour, bucket)] += 1
        elif new_status in _FINAL and new_status not in _DELIVERED and old_status not in _FINAL:
            self._event(msg, _minute_no(msg.delivered_at or at), 2)

    def _event(self, msg: Message, minute: int, column: int) -> None:
        minutes = self.minutes
        minutes[(msg.account_id, ACCOUNT, minute)][column] += 1
        minutes[(msg.account_id, ACCOUNT_HOURS, minute - minute % 60)][column] += 1
        if msg.campaign_id:
            minutes[(msg.account_id, msg.campaign_id, minute)][column] += 1

    async def write(self, conn: AsyncConnection) -> None:
        """Add the deltas to the roll-ups, in the caller's transaction (rows in key order)."""
        statuses = [((a, c, _hour(h), *rest), v) for (a, c, h, *rest), v in sorted(self.statuses.items()) if v[0] or v[1]]
        minutes = [((a, c, _minute(m)), v) for (a, c, m), v in sorted(self.minutes.items()) if any(v)]
        times = [((a, c, _hour(h), b), v) for (a, c, h, b), v in sorted(self.times.items()) if v]
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
