"""The SMS alternative channel: the fallback SMS of an RCS message that could not be delivered.

Called by `transitions.apply_changes` in the transaction that records the RCS
message's final status, so the fallback is created exactly once: a crash
before the commit loses neither the status nor the fallback, and a repeated
report cannot move the RCS message into a final status twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import Message
from relaybox.domain.status import Channel, MessageStatus
from relaybox.store import accounts as accounts_store
from relaybox.store import messages as messages_store
from relaybox.store import stoplist
from relaybox.store.tables import campaigns, messages


def fallback_row(parent: Message, now: datetime) -> dict:
    """The SMS that replaces `parent`, as checked and priced when the RCS message was accepted."""
    sms = parent.alternative_sms
    return {
        "account_id": parent.account_id,
        "campaign_id": parent.campaign_id,
        "type": Channel.SMS.value,
        "source": parent.source,
        "reference_id": None,  # references are unique per account: the RCS message keeps it
        "phone": parent.phone,
        "country": parent.country,
        "brand": parent.brand,
        "sender": sms["sender"],
        "text": sms["text"],
        "encoding": sms["encoding"],
        "parts": sms["parts"],
        "validity": sms["validity"],
        "tariff_code": sms["tariff_code"],
        "price": sms["price"],
        "currency": parent.currency,
        "status": MessageStatus.ACCEPTED.value,
        "is_test": parent.is_test,
        "created_at": now,
        "due_at": now,
        "expires_at": now + timedelta(hours=sms["validity"]),
        "callback_url": parent.callback_url,
        "rcs_options": None,
        "alternative_sms": None,
        "parent_id": parent.id,
    }


async def send_fallbacks(conn: AsyncConnection, parents: list[Message], now: datetime) -> list[Message]:
    """Create, charge and link the SMS fallback of each of `parents`; return the fallbacks.

    Each is charged like any accepted message: its price is taken from
    balance + credit now (the RCS message's own price was refunded just
    before, in this transaction).  A fallback the balance cannot cover is
    recorded `failed` and costs nothing; test keys are never charged.
    A stopped campaign sends nothing new: its messages get no fallback.  Nor does a phone on
    the account's SMS stop list (unless the request said `check_stop_list: false` for the SMS):
    the stop list is read here, when the SMS would be sent, not when the RCS was accepted.
    """
    campaign_ids = sorted({p.campaign_id for p in parents if p.campaign_id is not None})
    if campaign_ids:
        stopped = set(
            (
                await conn.execute(
                    select(campaigns.c.id).where(campaigns.c.id.in_(campaign_ids), campaigns.c.status == "stopped")
                )
            ).scalars()
        )
        parents = [p for p in parents if p.campaign_id not in stopped]
    parents = await _without_stop_listed(conn, parents)
    if not parents:
        return []
    rows = [fallback_row(p, now) for p in parents]
    live = sorted({p.account_id for p in parents if not p.is_test})
    available = await accounts_store.spendable(conn, live) if live else {}
    charged: dict[int, int] = defaultdict(int)
    for parent, row in zip(parents, rows):
        if parent.is_test:
            continue
        if available.get(parent.account_id, 0) - charged[parent.account_id] >= row["price"]:
            charged[parent.account_id] += row["price"]
        else:
            row["status"] = MessageStatus.FAILED.value
    await accounts_store.charge(conn, dict(charged))
    ids = await messages_store.insert_messages(conn, rows)
    await conn.execute(
        update(messages).where(messages.c.id == bindparam("b_id")).values(alternative_id=bindparam("b_alt")),
        [{"b_id": p.id, "b_alt": i} for p, i in zip(parents, ids)],
    )
    for parent, i in zip(parents, ids):
        parent.alternative_id = i
    return [messages_store.message_from_values(i, row) for i, row in zip(ids, rows)]


async def _without_stop_listed(conn: AsyncConnection, parents: list[Message]) -> list[Message]:
    """`parents` but those whose fallback would go to a phone on the account's SMS stop list."""
    checked: dict[int, list[int]] = defaultdict(list)
    for p in parents:
        if p.alternative_sms.get("check_stop_list", True):
            checked[p.account_id].append(p.phone)
    if not checked:
        return parents
    listed = {
        (account_id, phone)
        for account_id, phones in checked.items()
        for phone in await stoplist.stoplisted_phones(conn, account_id, "sms", phones)
    }
    if not listed:
        return parents
    return [
        p for p in parents
        if not (p.alternative_sms.get("check_stop_list", True) and (p.account_id, p.phone) in listed)
    ]
