"""What a campaign's messages cost, summed from the messages table (the console's campaign page).

One pass over the campaign's messages through `ix_messages_campaign_id_id`: fine for the console's
page sizes of campaigns (up to 10,000 phones a request); the breakdown services of the statistics
work, where present, answer the same from their own aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.tables import messages


@dataclass(frozen=True, slots=True)
class PriceGroup:
    """A campaign's messages of one channel and status, split by whether an operator took them; `price` summed in
    units of 1e-7 of the currency.
    """
    channel: str  # sms | rcs
    status: str
    reached_operator: bool  # sent_at is set: an operator took it
    messages: int
    price: int  # units, summed


async def price_groups(conn: AsyncConnection, account_id: int, campaign_id: int) -> list[PriceGroup]:
    """The campaign's messages (SMS fallbacks included) grouped by channel, status and whether an
    operator took them, with their summed prices.  Scoped by account: another's campaign is empty."""
    reached = messages.c.sent_at.is_not(None)
    rows = await conn.execute(
        select(messages.c.type, messages.c.status, reached.label("reached"), func.count(), func.sum(messages.c.price))
        .where(messages.c.campaign_id == campaign_id, messages.c.account_id == account_id)
        .group_by(messages.c.type, messages.c.status, reached)
    )
    return [PriceGroup(r[0], r[1], bool(r[2]), int(r[3]), int(r[4] or 0)) for r in rows]
