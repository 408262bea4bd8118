"""Message rows: bulk insert, lookups and the filtered list behind GET /api/messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import Message
from relaybox.store.rows import message_from_row
from relaybox.store.tables import messages

_CHUNK = 500  # ids per IN (...) list: well under every backend's parameter limit


def chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def insert_messages(conn: AsyncConnection, rows: list[dict]) -> None:
    """One multi-row insert (executemany) in the caller's transaction."""
    if rows:
        await conn.execute(insert(messages), rows)


async def insert_message_returning_id(conn: AsyncConnection, row: dict) -> int:
    result = await conn.execute(insert(messages).values(**row))
    return result.inserted_primary_key[0]


async def insert_messages_returning_ids(conn: AsyncConnection, rows: list[dict]) -> list[int]:
    """Insert rows (all with the same keys) and return their ids in the rows' order."""
    if not rows:
        return []
    result = await conn.execute(
        insert(messages).returning(messages.c.id, sort_by_parameter_order=True), rows
    )
    return [r.id for r in result]


def message_from_values(message_id: int, row: dict) -> Message:
    """The record of a message just inserted from `row`."""
    values = {c.name: None for c in messages.columns}
    values.update(row)
    values["id"] = message_id
    return message_from_row(_Mapped(values))


class _Mapped:
    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict):
        self._mapping = mapping


async def existing_references(conn: AsyncConnection, account_id: int, references: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(list(references)):
        rows = await conn.execute(
            select(messages.c.reference_id).where(
                messages.c.account_id == account_id, messages.c.reference_id.in_(part)
            )
        )
        found.update(r[0] for r in rows)
    return found


async def get_message(conn: AsyncConnection, account_id: int, message_id: int) -> Message | None:
    row = (
        await conn.execute(select(messages).where(messages.c.id == message_id, messages.c.account_id == account_id))
    ).first()
    return message_from_row(row) if row else None


async def get_message_by_reference(conn: AsyncConnection, account_id: int, reference: str) -> Message | None:
    row = (
        await conn.execute(
            select(messages).where(messages.c.account_id == account_id, messages.c.reference_id == reference)
        )
    ).first()
    return message_from_row(row) if row else None


async def campaign_message_ids(conn: AsyncConnection, campaign_id: int, statuses: Sequence[str]) -> list[int]:
    rows = await conn.execute(
        select(messages.c.id).where(messages.c.campaign_id == campaign_id, messages.c.status.in_(statuses))
    )
    return [r[0] for r in rows]


@dataclass(frozen=True, slots=True)
class MessageQuery:
    account_id: int
    created_from: datetime
    created_to: datetime
    message_id: int | None = None
    campaign_id: int | None = None
    reference_id: str | None = None
    sort: str = "id"  # id | phone | delivered
    descending: bool = False
    offset: int = 0
    limit: int = 50


_SORT_COLUMNS = {"id": messages.c.id, "phone": messages.c.phone, "delivered": messages.c.delivered_at}


async def list_messages(conn: AsyncConnection, q: MessageQuery) -> tuple[int, list[Message]]:
    """The page of messages and the total number matching the filters."""
    where = [
        messages.c.account_id == q.account_id,
        messages.c.created_at >= q.created_from,
        messages.c.created_at <= q.created_to,
    ]
    if q.message_id is not None:
        where.append(messages.c.id == q.message_id)
    if q.campaign_id is not None:
        where.append(messages.c.campaign_id == q.campaign_id)
    if q.reference_id is not None:
        where.append(messages.c.reference_id == q.reference_id)

    total = (await conn.execute(select(func.count()).select_from(messages).where(*where))).scalar_one()
    if total == 0 or q.offset >= total:
        return total, []

    column = _SORT_COLUMNS[q.sort]
    order = [column.desc() if q.descending else column.asc()]
    if q.sort == "delivered":
        # Not-yet-delivered messages last, whichever way, on both backends.
        order = [column.is_(None), order[0]]
    if q.sort != "id":
        order.append(messages.c.id.desc() if q.descending else messages.c.id.asc())
    rows = await conn.execute(select(messages).where(*where).order_by(*order).offset(q.offset).limit(q.limit))
    return total, [message_from_row(r) for r in rows]
