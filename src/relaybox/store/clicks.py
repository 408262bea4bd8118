"""Suggestion clicks on RCS messages: each one queues a click callback in the webhook outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.callbacks import click_callback
from relaybox.store.messages import chunks
from relaybox.store.outbox import enqueue
from relaybox.store.rows import message_from_row
from relaybox.store.tables import messages


async def record_clicks(
    conn: AsyncConnection, clicks: Sequence[tuple[int, str, str | None, datetime]], now: datetime
) -> int:
    """Queue a callback for each (message id, button text, postback data, time of the click).

    A click changes no status; it is reported to the message's callback URL
    only (none: nothing is kept).  Returns the number of callbacks queued.
    """
    ids = sorted({c[0] for c in clicks})
    found = {}
    for part in chunks(ids):
        rows = await conn.execute(select(messages).where(messages.c.id.in_(part), messages.c.callback_url.is_not(None)))
        found.update({r.id: message_from_row(r) for r in rows})
    items = [
        (m.account_id, m.id, m.callback_url, click_callback(m, text, postback, at))
        for message_id, text, postback, at in clicks
        if (m := found.get(message_id)) is not None
    ]
    await enqueue(conn, items, now)
    return len(items)
