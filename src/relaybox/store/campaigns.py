"""Campaign rows and the queries behind the campaign endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import Campaign
from relaybox.store.rows import campaign_from_row
from relaybox.store.tables import campaigns


async def insert_campaign(conn: AsyncConnection, row: dict) -> int:
    """Insert a `campaigns` row (a dict of its columns); returns its id."""
    result = await conn.execute(insert(campaigns).values(**row))
    return result.inserted_primary_key[0]


async def get_campaign(conn: AsyncConnection, account_id: int, campaign_id: int, *, for_update: bool = False) -> Campaign | None:
    """The account's campaign, or None; `for_update` locks its row on PostgreSQL (SQLite has one writer anyway)."""
    query = select(campaigns).where(campaigns.c.id == campaign_id, campaigns.c.account_id == account_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return campaign_from_row(row) if row else None


async def set_status(conn: AsyncConnection, campaign_id: int, status: str, *, finished_at: datetime | None = None) -> None:
    """Set a campaign's status, and `finished_at` when given."""
    values: dict = {"status": status}
    if finished_at is not None:
        values["finished_at"] = finished_at
    await conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(**values))


@dataclass(frozen=True, slots=True)
class CampaignQuery:
    """A page of an account's campaigns created in [created_from, created_to] (One API `GET /api/campaigns`)."""
    account_id: int
    created_from: datetime
    created_to: datetime
    type: str | None = None
    search_field: str | None = None  # sender | taskname
    search_value: str | None = None
    sort: str = "id"  # id | sender | type | date | status
    descending: bool = False
    offset: int = 0
    limit: int = 50


_SORT = {
    "id": campaigns.c.id,
    "sender": campaigns.c.sender,
    "type": campaigns.c.type,
    "date": campaigns.c.created_at,
    "status": campaigns.c.status,
}


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


async def list_campaigns(conn: AsyncConnection, q: CampaignQuery) -> tuple[int, list[Campaign]]:
    """Returns (total matching, the page); the search is a case-insensitive substring of the sender or name (taskname)."""
    where = [
        campaigns.c.account_id == q.account_id,
        campaigns.c.created_at >= q.created_from,
        campaigns.c.created_at <= q.created_to,
    ]
    if q.type:
        where.append(campaigns.c.type == q.type)
    if q.search_field and q.search_value:
        column = campaigns.c.sender if q.search_field == "sender" else campaigns.c.name
        where.append(func.lower(column).like(_like_pattern(q.search_value), escape="\\"))
    total = (await conn.execute(select(func.count()).select_from(campaigns).where(*where))).scalar_one()
    if total == 0 or q.offset >= total:
        return total, []
    column = _SORT[q.sort]
    order = [column.desc() if q.descending else column.asc()]
    if q.sort != "id":
        order.append(campaigns.c.id.desc() if q.descending else campaigns.c.id.asc())
    rows = await conn.execute(select(campaigns).where(*where).order_by(*order).offset(q.offset).limit(q.limit))
    return total, [campaign_from_row(r) for r in rows]
