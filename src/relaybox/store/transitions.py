"""The one way a message changes status.

`apply_changes` checks each requested change against the domain rules, updates
the messages, adds the summed counter deltas to each campaign (one UPDATE per
campaign per batch, so workers do not queue on a hot row), refunds what the
rules say to refund, sends the SMS fallback of RCS messages that could not be
delivered, queues webhook calls, and finishes campaigns whose last message
became final — all in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.callbacks import status_callback
from relaybox.domain.models import Message
from relaybox.domain.rcs import fallback_due
from relaybox.domain.status import FINAL, Channel, MessageStatus, can_transition, refundable
from relaybox.store import accounts as accounts_store
from relaybox.store.bulk import select_rows, to_driver
from relaybox.store.db import driver
from relaybox.store.fallbacks import send_fallbacks
from relaybox.store.messages import chunks
from relaybox.store.outbox import enqueue
from relaybox.store.rollups import Deltas
from relaybox.store.rows import ALT_COUNTER_COLUMNS, COUNTER_COLUMNS, Mapped, message_from_row
from relaybox.store.tables import campaigns, messages

#: Final statuses that come from the network: their time is the delivery-report time.
_REPORTED = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.UNDELIVERED,
        MessageStatus.EXPIRED,
        MessageStatus.UNKNOWN,
        MessageStatus.NOT_SERVICE_USER,
    }
)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A message moving to `status` at `at`, with the connector and the SMSC's message id when known."""
    message_id: int
    status: MessageStatus
    at: datetime
    connector: str | None = None
    operator_id: str | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """A change that took effect: the message as it is after it, and its previous status."""
    message: Message  # as it is after the change
    previous: MessageStatus


async def load_for_update(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Message]:
    """The messages, locked on PostgreSQL in id order (the lock order every writer follows)."""
    found: dict[int, Message] = {}
    if conn.dialect.name == "postgresql":
        # one array parameter, no IN list of hundreds; asyncpg records (see db.driver)
        records = await (await driver(conn)).fetch(_LOCK_MESSAGES, sorted(set(ids)))
        for record in records:
            found[record["id"]] = message_from_row(Mapped(record))
        return found
    for part in chunks(sorted(set(ids))):
        for values in await select_rows(conn, messages, f"id IN ({', '.join('?' for _ in part)})", part):
            found[values["id"]] = message_from_row(Mapped(values))
    return found


_LOCK_MESSAGES = "SELECT * FROM messages WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE"

#: PostgreSQL: every changed message in one statement, its values as arrays.
_BULK_UPDATE = """
    UPDATE messages AS m
    SET status = v.status, sent_at = v.sent_at, delivered_at = v.delivered_at,
        operator_id = v.operator_id, connector = v.connector
    FROM unnest($1::bigint[], $2::varchar[], $3::timestamptz[], $4::timestamptz[], $5::varchar[], $6::varchar[])
         AS v(id, status, sent_at, delivered_at, operator_id, connector)
    WHERE m.id = v.id
"""


#: The columns a status change may set besides `status`, in `_update_messages`' row order.
_MUTABLE = ("sent_at", "delivered_at", "operator_id", "connector")


async def _update_messages(conn: AsyncConnection, rows: list[dict], before: dict[int, tuple]) -> None:
    """Write the changed messages; `before[id]`: their `_MUTABLE` values as loaded."""
    if conn.dialect.name == "sqlite":
        await _update_messages_sqlite(conn, rows, before)
        return
    # PostgreSQL: one statement instead of an executemany of one per message: a batch of
    # 1,000 costs one round trip and one plan, not 1,000 Bind/Execute pairs.
    await (await driver(conn)).execute(
        _BULK_UPDATE,
        [r["b_id"] for r in rows],
        [r["b_status"] for r in rows],
        [r["b_sent_at"] for r in rows],
        [r["b_delivered_at"] for r in rows],
        [r["b_operator_id"] for r in rows],
        [r["b_connector"] for r in rows],
    )


async def _update_messages_sqlite(conn: AsyncConnection, rows: list[dict], before: dict[int, tuple]) -> None:
    """SQLite rewrites the entries of every index on a column an UPDATE sets, changed or not
    (three times the work for a status change that sets five columns, measured): so each
    message sets `status` and only those of `_MUTABLE` that changed, one executemany per shape.
    """
    shapes: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
    for row in rows:
        changed = tuple(col for col, was in zip(_MUTABLE, before[row["b_id"]]) if row[f"b_{col}"] != was)
        values = [to_driver(messages.c[col], conn.dialect, row[f"b_{col}"]) for col in changed]
        shapes[changed].append((row["b_status"], *values, row["b_id"]))
    for changed, params in shapes.items():
        sets = ", ".join(f"{col} = ?" for col in ("status", *changed))
        await conn.exec_driver_sql(f"UPDATE messages SET {sets} WHERE id = ?", params)


async def apply_changes(
    conn: AsyncConnection, changes: Sequence[StatusChange], now: datetime, *, loaded: dict[int, Message] | None = None
) -> list[Applied]:
    """Apply status changes to messages (loaded and locked here unless `loaded`) on `conn`; returns those that
    took effect.

    A change the message's status may not make (domain/status.py `can_transition`) or for an unknown message is
    skipped. With each change: sent/delivered times, the campaign counters, refunds of failed messages
    (`refundable`), the SMS fallback of an undelivered RCS, rollups and status callbacks (webhook outbox).
    """
    if not changes:
        return []
    current = loaded if loaded is not None else await load_for_update(conn, [c.message_id for c in changes])
    applied: list[Applied] = []
    updates: dict[int, dict] = {}
    before: dict[int, tuple] = {}  # each changed message's _MUTABLE values as loaded
    deltas: dict[int, Counter] = defaultdict(Counter)
    refunds: Counter = Counter()
    callbacks: list[tuple[int, int, str, dict]] = []
    undelivered_rcs: list[Message] = []
    rollup = Deltas()

    for change in changes:
        msg = current.get(change.message_id)
        if msg is None:
            continue
        old = MessageStatus(msg.status)
        new = change.status
        channel = Channel(msg.type)
        if not can_transition(old, new, channel):
            continue
        if msg.id not in before:
            before[msg.id] = tuple(getattr(msg, col) for col in _MUTABLE)
        sent_before = msg.sent_at
        msg.status = new.value
        if new is MessageStatus.SENT or (new in _REPORTED and msg.sent_at is None and old is MessageStatus.SENDING):
            msg.sent_at = msg.sent_at or change.at
        # a read receipt that overtook its delivery report still means it was delivered
        if (new in _REPORTED or new is MessageStatus.READ) and msg.delivered_at is None:
            # Never before the message existed (a network's clock may be behind ours): the
            # messages list by delivery time relies on it (store/messages.py: _by_delivery).
            msg.delivered_at = max(change.at, msg.created_at)
        if change.operator_id is not None:
            msg.operator_id = change.operator_id
        if change.connector is not None:
            msg.connector = change.connector
        updates[msg.id] = {
            "b_id": msg.id,
            "b_status": msg.status,
            "b_sent_at": msg.sent_at,
            "b_delivered_at": msg.delivered_at,
            "b_operator_id": msg.operator_id,
            "b_connector": msg.connector,
        }
        if msg.campaign_id is not None:
            count_move(deltas, msg.campaign_id, msg.parent_id, old, new)
        refunded = refundable(old, new, channel)
        if refunded and not msg.is_test and msg.price:
            refunds[msg.account_id] += msg.price
        rollup.moved(msg, old, new, refunded=refunded, sent_before=sent_before, at=change.at)
        if channel is Channel.RCS and msg.alternative_sms and msg.alternative_id is None and fallback_due(new):
            undelivered_rcs.append(msg)
        if msg.callback_url:
            # built now: a later change to the same message in this batch must not rewrite this one
            callbacks.append((msg.account_id, msg.id, msg.callback_url, status_callback(msg)))
        applied.append(Applied(message=msg, previous=old))

    if not applied:
        return []

    await _update_messages(conn, sorted(updates.values(), key=lambda r: r["b_id"]), before)
    await accounts_store.refund(conn, dict(refunds))
    # after the refunds: the fallback is paid from a balance that has the RCS price back
    for fallback in await send_fallbacks(conn, undelivered_rcs, now):
        if fallback.campaign_id is not None:
            deltas[fallback.campaign_id][ALT_COUNTER_COLUMNS[fallback.status]] += 1
            if MessageStatus(fallback.status) not in FINAL:
                deltas[fallback.campaign_id]["n_pending"] += 1
    await add_to_counters(conn, deltas)
    await rollup.write(conn)  # after the campaigns: the lock order every writer follows

    await enqueue(conn, callbacks, now)

    touched = list(deltas)
    if touched:
        # single messages (no campaign) can share a batch with campaign messages
        started = [
            a.message.campaign_id
            for a in applied
            if a.message.status == MessageStatus.SENDING and a.message.campaign_id is not None
        ]
        if started:
            await _mark_started(conn, sorted(set(started)), now)
        await finish_campaigns(conn, touched, now)
    return applied


def count_move(
    deltas: dict[int, Counter], campaign_id: int, parent_id: int | None, old: MessageStatus, new: MessageStatus
) -> None:
    """Add to `deltas` a campaign message's move from status `old` to `new`: its SMS fallbacks
    (`parent_id` set) have counters of their own; `n_pending` drops when it becomes final."""
    delta = deltas[campaign_id]
    columns = ALT_COUNTER_COLUMNS if parent_id is not None else COUNTER_COLUMNS
    delta[columns[old.value]] -= 1
    delta[columns[new.value]] += 1
    if old not in FINAL and new in FINAL:
        delta["n_pending"] -= 1


async def add_to_counters(conn: AsyncConnection, deltas: dict[int, Counter]) -> None:
    """Add each campaign's summed counter deltas ({column: n}): one UPDATE per campaign.

    Row locks in one order (messages by id, then accounts by id in a refund,
    then campaigns by id here), so that several workers applying overlapping
    batches queue instead of deadlocking.
    """
    for campaign_id, delta in sorted(deltas.items()):
        values = {col: campaigns.c[col] + n for col, n in delta.items() if n}
        if values:
            await conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(**values))


async def _mark_started(conn: AsyncConnection, campaign_ids: list[int], now: datetime) -> None:
    await conn.execute(
        update(campaigns)
        .where(campaigns.c.id.in_(campaign_ids), campaigns.c.real_start_at.is_(None))
        .values(real_start_at=now)
    )
    await conn.execute(
        update(campaigns)
        .where(campaigns.c.id.in_(campaign_ids), campaigns.c.status == "scheduled")
        .values(status="sending")
    )


async def finish_campaigns(conn: AsyncConnection, campaign_ids: list[int], now: datetime) -> None:
    """A sending (or scheduled) campaign whose every message is final is done."""
    for part in chunks(campaign_ids):
        await conn.execute(
            update(campaigns)
            .where(
                campaigns.c.id.in_(part),
                campaigns.c.n_pending == 0,
                campaigns.c.status.in_(("sending", "scheduled")),
            )
            .values(status="done", finished_at=now)
        )
