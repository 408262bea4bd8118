"""Platform-wide figures for the metrics scrape (observability/figures.py): small, indexed reads.

Every query here is across all accounts and returns no account's data: counts, ages, and the
connectors' published state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.tables import DUE_SQL, messages, webhook_outbox


@dataclass(frozen=True, slots=True)
class Backlogs:
    """What is waiting: messages due for the dispatcher and webhook calls, each with the oldest one's time."""
    due_messages: int  # messages waiting for the dispatcher, due now or earlier
    oldest_due: datetime | None  # the earliest due_at among them
    webhooks_pending: int  # outbox rows still to deliver (now or at a later retry)
    oldest_webhook: datetime | None  # the earliest created_at among them


async def backlogs(conn: AsyncConnection, now: datetime) -> Backlogs:
    """Both queues, through their partial indexes (ix_messages_due, ix_webhook_outbox_pending)."""
    due = (
        await conn.execute(
            select(func.count(), func.min(messages.c.due_at)).where(text(DUE_SQL), messages.c.due_at <= now)
        )
    ).one()
    hooks = (
        await conn.execute(
            select(func.count(), func.min(webhook_outbox.c.created_at)).where(webhook_outbox.c.status == "pending")
        )
    ).one()
    return Backlogs(int(due[0]), due[1], int(hooks[0]), hooks[1])
