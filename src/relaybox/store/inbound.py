"""Inbound (mobile-originated) messages: parts, reassembly, redelivery checks, routing, listing.

Tables in store/tables.py: `inbound_numbers`, `inbound_settings`, `inbound_messages`,
`inbound_parts`.  The rules (keywords, keys, addresses) are in domain/inbound.py; the orchestration
of one intake transaction is services/inbound.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.inbound import InboundMessage
from relaybox.store.tables import inbound_messages, inbound_numbers, inbound_parts, inbound_settings, messages

MAX_PHONE = 10**15  # E.164: at most 15 digits


def _insert(conn: AsyncConnection):
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def _message(r) -> InboundMessage:
    return InboundMessage(
        id=r.id, account_id=r.account_id, sender=r.sender, recipient=r.recipient, text=r.text,
        encoding=r.encoding, parts=r.parts, connector=r.connector, route=r.route, reply_to=r.reply_to,
        action=r.action, received_at=r.received_at,
    )


async def serialize(conn: AsyncConnection, *key: object) -> None:
    """PostgreSQL: hold a transaction-scoped advisory lock on `key` (a part set, a redelivery key),
    so that two workers taking parts of one set, or two deliveries of one MO, at the same moment
    see each other's rows instead of each missing the other's uncommitted one.  SQLite has one
    writer at a time: nothing to do."""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.sha256("\x1f".join(map(str, key)).encode("utf-8", "surrogatepass")).digest()
    await conn.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True))))


# -- concatenated parts ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartKey:
    """What identifies the parts of one concatenated MO: connector, sender, recipient and the UDH reference and part
    count (3GPP TS 23.040 §9.2.3.24.1).
    """
    connector: str
    sender: str
    recipient: str
    reference: int
    total: int


async def add_part(conn: AsyncConnection, key: PartKey, number: int, text: str, encoding: str,
                   now: datetime) -> list[tuple[str, str]] | None:
    """Keep one part of a concatenated MO.  Returns the set's (text, encoding) in part order once
    all `total` parts are here (and deletes them), else None.  A part already kept (a redelivery)
    is ignored."""
    t = inbound_parts
    await serialize(conn, "inbound-set", key.connector, key.sender, key.recipient, key.reference, key.total)
    stmt = _insert(conn)(t).values(
        connector=key.connector, sender=key.sender, recipient=key.recipient, reference=key.reference,
        total=key.total, number=number, text=text, encoding=encoding, received_at=now,
    ).on_conflict_do_nothing()
    await conn.execute(stmt)
    where = (
        t.c.connector == key.connector, t.c.sender == key.sender, t.c.recipient == key.recipient,
        t.c.reference == key.reference, t.c.total == key.total,
    )
    query = select(t.c.number, t.c.text, t.c.encoding).where(*where).order_by(t.c.number)
    rows = (await conn.execute(query)).all()
    numbers = {r.number for r in rows}
    if numbers != set(range(1, key.total + 1)):
        return None
    await conn.execute(delete(t).where(*where))
    return [(r.text, r.encoding) for r in rows]


async def expire_parts(conn: AsyncConnection, older_than: datetime) -> int:
    """Drop the parts of sets still incomplete since `older_than`; how many parts were dropped."""
    result = await conn.execute(delete(inbound_parts).where(inbound_parts.c.received_at < older_than))
    return result.rowcount or 0


# -- redeliveries and routing ----------------------------------------------------------------


async def seen_since(conn: AsyncConnection, dedupe_key: str, since: datetime) -> bool:
    """Whether an MO with this key was stored at or after `since` (index on dedupe_key, received_at).
    On PostgreSQL the key stays locked until the caller's transaction ends (`serialize`)."""
    await serialize(conn, "inbound-key", dedupe_key)
    found = await conn.execute(
        select(inbound_messages.c.id)
        .where(inbound_messages.c.dedupe_key == dedupe_key, inbound_messages.c.received_at >= since)
        .limit(1)
    )
    return found.first() is not None


async def account_of_number(conn: AsyncConnection, number: str) -> int | None:
    """The account that holds this two-way number, or None."""
    row = (await conn.execute(select(inbound_numbers.c.account_id).where(inbound_numbers.c.number == number))).first()
    return row.account_id if row else None


async def last_message_to(conn: AsyncConnection, phone: int, senders: list[str]) -> tuple[int, int] | None:
    """(account id, message id) of the latest message to `phone` from one of `senders`, any
    account; None if there is none.  One probe of ix_messages_phone_sender_id per sender."""
    best: tuple[int, int] | None = None
    for sender in senders:
        row = (
            await conn.execute(
                select(messages.c.account_id, messages.c.id)
                .where(messages.c.phone == phone, messages.c.sender == sender)
                .order_by(messages.c.id.desc())
                .limit(1)
            )
        ).first()
        if row is not None and (best is None or row.id > best[1]):
            best = (row.account_id, row.id)
    return best


async def webhook_url(conn: AsyncConnection, account_id: int) -> str | None:
    """The account's inbound (MO) webhook URL, or None."""
    row = (
        await conn.execute(select(inbound_settings.c.webhook_url).where(inbound_settings.c.account_id == account_id))
    ).first()
    return row.webhook_url if row else None


async def store_message(conn: AsyncConnection, values: dict) -> InboundMessage:
    """Insert one MO row (`values`: the columns but id) and return it."""
    result = await conn.execute(insert(inbound_messages).values(**values).returning(*inbound_messages.c))
    return _message(result.one())


# -- listing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboundQuery:
    """A page of an account's inbound messages received in [received_from, received_to]."""
    account_id: int
    received_from: datetime
    received_to: datetime
    sender: str | None = None
    recipient: str | None = None
    keyword: str | None = None  # a substring of the text, case-insensitive
    action: str | None = None
    sort: str = "id"  # id | date
    descending: bool = False
    offset: int = 0
    limit: int = 50


async def list_messages(conn: AsyncConnection, q: InboundQuery) -> tuple[int, list[InboundMessage]]:
    """(total matching, the page) of one account's MOs; never another account's rows."""
    t = inbound_messages
    where = [t.c.account_id == q.account_id, t.c.received_at >= q.received_from, t.c.received_at <= q.received_to]
    if q.sender is not None:
        where.append(t.c.sender == q.sender)
    if q.recipient is not None:
        where.append(t.c.recipient == q.recipient)
    if q.keyword is not None:
        where.append(func.lower(t.c.text).contains(q.keyword.lower(), autoescape=True))
    if q.action is not None:
        where.append(t.c.action == q.action)
    total = (await conn.execute(select(func.count()).select_from(t).where(*where))).scalar_one()
    column = t.c.received_at if q.sort == "date" else t.c.id
    order = [column.desc(), t.c.id.desc()] if q.descending else [column.asc(), t.c.id.asc()]
    rows = await conn.execute(select(*t.c).where(*where).order_by(*order).offset(q.offset).limit(q.limit))
    return total, [_message(r) for r in rows]


async def stats(conn: AsyncConnection) -> dict:
    """Counts for operators: MOs routed to an account, unroutable, and parts waiting for their set."""
    t = inbound_messages
    routed = (await conn.execute(select(func.count()).select_from(t).where(t.c.account_id.is_not(None)))).scalar_one()
    unroutable = (await conn.execute(select(func.count()).select_from(t).where(t.c.account_id.is_(None)))).scalar_one()
    stoplisted = (await conn.execute(select(func.count()).select_from(t).where(t.c.action == "stoplisted"))).scalar_one()
    parts = (await conn.execute(select(func.count()).select_from(inbound_parts))).scalar_one()
    return {"routed": routed, "unroutable": unroutable, "stoplisted": stoplisted, "parts_waiting": parts}


async def unroutable(conn: AsyncConnection, limit: int) -> list[InboundMessage]:
    """The latest `limit` inbound messages no account's number matched, newest first."""
    t = inbound_messages
    rows = await conn.execute(select(*t.c).where(t.c.account_id.is_(None)).order_by(t.c.id.desc()).limit(limit))
    return [_message(r) for r in rows]


# -- configuration -------------------------------------------------------------------------------


async def add_number(conn: AsyncConnection, number: str, account_id: int, now: datetime) -> int | None:
    """Give `number` to the account.  Returns the account that already has it (nothing changed),
    or None when it was added (or was already this account's)."""
    owner = await account_of_number(conn, number)
    if owner is not None:
        return owner if owner != account_id else None
    await conn.execute(insert(inbound_numbers).values(number=number, account_id=account_id, created_at=now))
    return None


async def remove_number(conn: AsyncConnection, number: str, account_id: int) -> bool:
    """Take a two-way number from the account; False when the account did not hold it."""
    result = await conn.execute(
        delete(inbound_numbers).where(inbound_numbers.c.number == number, inbound_numbers.c.account_id == account_id)
    )
    return bool(result.rowcount)


async def numbers(conn: AsyncConnection, account_id: int | None = None) -> list[tuple[str, int, datetime]]:
    """(number, account id, since), by number; one account's or all."""
    query = select(inbound_numbers).order_by(inbound_numbers.c.number)
    if account_id is not None:
        query = query.where(inbound_numbers.c.account_id == account_id)
    return [(r.number, r.account_id, r.created_at) for r in await conn.execute(query)]


async def set_webhook_url(conn: AsyncConnection, account_id: int, url: str | None, now: datetime) -> None:
    """Set (upsert) the account's inbound webhook URL; None clears it."""
    stmt = _insert(conn)(inbound_settings).values(account_id=account_id, webhook_url=url, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[inbound_settings.c.account_id], set_={"webhook_url": url, "updated_at": now}
    )
    await conn.execute(stmt)
