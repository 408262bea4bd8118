"""Inbound (two-way) SMS: intake of mobile-originated messages, listing, and the operator's set-up.

Intake (`receive`), in one transaction per batch of connector reports (docs/inbound.md):

1. A part of a concatenated MO is kept until its set is complete (store/inbound.py `add_part`);
   then the set is one message, its text the parts' in part order.
2. A message identical to one stored within `inbound_dedupe_seconds` (domain/inbound.py
   `dedupe_key`: connector, addresses, network id, concatenation reference and size, text) is a
   redelivery: not stored again, no second webhook.
3. Routing: the account owning the two-way number it was sent to; else the account of the latest
   message sent to that subscriber from that sender (number or alphanumeric), any account; else
   no account (kept, counted, shown to no tenant).
4. A whole-message STOP keyword puts the subscriber on the account's SMS stop list (source
   `reply`), and the message is stored with `action: "stoplisted"`.
5. The account's inbound webhook, when set, gets one outbox row (signed and retried as status
   webhooks, engine/webhooks.py).

The connector acknowledges the reports (SMPP: deliver_sm_resp) only after this commits, so an MO
is never lost in a crash, and step 2 makes the SMSC's redelivery harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.connectors.base import Inbound
from relaybox.domain.inbound import (
    STOPLISTED,
    InboundMessage,
    address,
    dedupe_key,
    inbound_callback,
    is_stop_keyword,
    parse_keywords,
    two_way_number,
)
from relaybox.domain.models import Caller
from relaybox.errors import FieldError, NotFound, ValidationFailed
from relaybox.services.platform import Platform
from relaybox.services.queries import date_range
from relaybox.store import inbound as store
from relaybox.store import outbox
from relaybox.store.stoplist import set_stoplisted

MAX_TEXT = 10_000  # characters kept of one MO (255 parts of 160 septets fit; anything longer is hostile)


def _phone(sender: str) -> int | None:
    """The subscriber as E.164 digits (an int, as messages.phone), or None for a non-numeric sender."""
    if sender.isascii() and sender.isdigit() and 0 < len(sender) <= 15:
        return int(sender)
    return None


def _combined_encoding(encodings: Iterable[str]) -> str:
    seen = list(dict.fromkeys(encodings))
    return seen[0] if len(seen) == 1 else ("ucs2" if "ucs2" in seen else seen[0])


async def receive(
    platform: Platform, connector: str, reports: list[Inbound],
    *, in_transaction: Callable[[AsyncConnection], Awaitable[None]] | None = None,
) -> list[InboundMessage]:
    """Store a batch of MO reports (parts or whole messages) of one connector; the messages newly
    stored (redeliveries and incomplete sets give none).  Raises only on database failure.

    `in_transaction`: more work for the same transaction (a network kept in the database forgets
    the answers it handed over, connectors/shared_simulator.py), so both commit or neither."""
    keywords = parse_keywords(platform.settings.inbound_stop_keywords)
    window = timedelta(seconds=platform.settings.inbound_dedupe_seconds)
    now = platform.clock()

    async def intake(conn) -> list[InboundMessage]:
        stored: list[InboundMessage] = []
        seen: set[str] = set()
        for report in reports:
            try:
                sender, recipient = address(report.sender)[:21], address(report.recipient)[:40]
            except ValueError:
                sender, recipient = (report.sender.strip() or "?")[:21], (report.recipient.strip() or "?")[:40]
            text, encoding, parts = report.text, report.encoding, 1
            if report.total > 1 and report.reference is not None:
                key = store.PartKey(connector, sender, recipient, report.reference, report.total)
                complete = await store.add_part(conn, key, report.number, report.text[:MAX_TEXT], report.encoding, now)
                if complete is None:
                    continue
                text = "".join(t for t, _ in complete)
                encoding = _combined_encoding(e for _, e in complete)
                parts = report.total
            text = text[:MAX_TEXT]
            digest = dedupe_key(connector, sender, recipient, text, network_id=report.network_id,
                                reference=report.reference if parts > 1 else None, total=parts)
            if digest in seen or await store.seen_since(conn, digest, now - window):
                continue
            seen.add(digest)
            stored.append(await _store(conn, connector, sender, recipient, text, encoding, parts, digest,
                                       keywords, report.at, now))
        if in_transaction is not None:
            await in_transaction(conn)
        return stored

    return await platform.db.transact(intake)


async def _route(conn, sender: str, recipient: str) -> tuple[int | None, str, int | None]:
    """(account id, route, replied-to message id) of an MO."""
    if recipient.isdigit():
        owner = await store.account_of_number(conn, recipient)
        if owner is not None:
            return owner, "number", None
    phone = _phone(sender)
    if phone is not None:
        senders = [recipient, f"+{recipient}"] if recipient.isdigit() else [recipient]
        found = await store.last_message_to(conn, phone, senders)
        if found is not None:
            return found[0], "last_sender", found[1]
    return None, "none", None


async def _store(conn, connector, sender, recipient, text, encoding, parts, digest, keywords, at, now):
    account_id, route, reply_to = await _route(conn, sender, recipient)
    action = None
    phone = _phone(sender)
    if account_id is not None and phone is not None and is_stop_keyword(text, keywords):
        await set_stoplisted(conn, account_id, [phone], ["sms"], on=True, source="reply", now=now)
        action = STOPLISTED
    message = await store.store_message(conn, {
        "account_id": account_id, "sender": sender, "recipient": recipient, "text": text, "encoding": encoding,
        "parts": parts, "connector": connector[:40], "route": route, "reply_to": reply_to, "action": action,
        "dedupe_key": digest, "received_at": at or now,
    })
    if account_id is not None:
        url = await store.webhook_url(conn, account_id)
        if url:
            await outbox.enqueue(conn, [(account_id, None, url, inbound_callback(message))], now)
    return message


async def expire_parts(platform: Platform) -> int:
    """Drop the parts of concatenated MOs whose set stayed incomplete for `inbound_parts_ttl_seconds`."""
    cutoff = platform.clock() - timedelta(seconds=platform.settings.inbound_parts_ttl_seconds)
    return await platform.db.transact(lambda conn: store.expire_parts(conn, cutoff))


async def inject(platform: Platform, *, sender: object, recipient: object, text: str,
                 connector: str = "simulator") -> list[InboundMessage]:
    """An MO as if the simulated network had delivered it (`relaybox inbound inject`).
    Raises ValidationFailed for an empty text or a sender that is not a phone number."""
    errors = []
    try:
        sender_digits = two_way_number(sender)
    except ValueError:
        sender_digits = None
        errors.append(("from", "The from must be a phone number (digits, optional +)."))
    if not isinstance(recipient, str) or not recipient.strip() or len(recipient.strip()) > 40:
        errors.append(("to", "The to must be a number or sender name of at most 40 characters."))
    if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
        errors.append(("text", f"The text must have 1 to {MAX_TEXT} characters."))
    if errors:
        raise ValidationFailed([FieldError(path, message) for path, message in errors])
    report = Inbound(sender_digits, recipient, text, "ucs2" if not text.isascii() else "gsm7", platform.clock(),
                     network_id=f"inject-{uuid.uuid4().hex}")
    return await receive(platform, connector, [report])


def _filter_address(value: str | None) -> str | None:
    """A listing filter's address in the stored form; a blank one matches nothing (it is kept)."""
    if value is None:
        return None
    try:
        return address(value)
    except ValueError:
        return value


# -- the tenant's listing ---------------------------------------------------------------------------


async def list_inbound(
    platform: Platform, caller: Caller, *, raw_from: str | None, raw_to: str | None, sender: str | None,
    recipient: str | None, keyword: str | None, action: str | None, sort: str, descending: bool, offset: int,
    limit: int,
) -> tuple[int, list[InboundMessage]]:
    """One page of the caller's MOs (see store/inbound.py InboundQuery); the date range follows the
    One API lists' rules (services/queries.py `date_range`: at most 3 months, `to` not in the future)."""
    start, end = date_range(raw_from, raw_to, platform.clock(), future=timedelta(0))
    sender, recipient = _filter_address(sender), _filter_address(recipient)
    query = store.InboundQuery(
        account_id=caller.account_id, received_from=start, received_to=end, sender=sender, recipient=recipient,
        keyword=keyword, action=action, sort=sort, descending=descending, offset=offset, limit=limit,
    )
    async with platform.db.read() as conn:
        return await store.list_messages(conn, query)


# -- operators: two-way numbers and the inbound webhook --------------------------------------------


async def two_way_numbers(platform: Platform, account_id: int) -> set[str]:
    """The account's two-way (MO) numbers."""
    async with platform.db.read() as conn:
        return {number for number, _, _ in await store.numbers(conn, account_id)}


async def add_number(platform: Platform, account_id: int, raw: object) -> str:
    """Give a two-way number to an account.  ValidationFailed for a malformed number or one that
    another account has; NotFound for an unknown account."""
    from relaybox.store.accounts import get_account

    try:
        number = two_way_number(raw)
    except ValueError as exc:
        raise ValidationFailed.one("number", str(exc)) from exc

    async def add(conn) -> int | None:
        if await get_account(conn, account_id) is None:
            raise NotFound("account")
        return await store.add_number(conn, number, account_id, platform.clock())

    owner = await platform.db.transact(add)
    if owner is not None:
        raise ValidationFailed.one("number", f"The number {number} is account {owner}'s two-way number.")
    return number


async def remove_number(platform: Platform, account_id: int, raw: object) -> bool:
    """Take a two-way number from an account; False if the account did not have it."""
    try:
        number = two_way_number(raw)
    except ValueError as exc:
        raise ValidationFailed.one("number", str(exc)) from exc
    return await platform.db.transact(lambda conn: store.remove_number(conn, number, account_id))


async def set_webhook(platform: Platform, account_id: int, url: str | None) -> None:
    """Set (or, with None, clear) the account's inbound webhook URL, checked as status webhook URLs
    are (services/accounts.py).  ValidationFailed at `webhook_url`; NotFound for an unknown account."""
    from relaybox.services.accounts import check_account_webhook_url
    from relaybox.store.accounts import get_account

    checked = check_account_webhook_url(platform, url) if url is not None else None

    async def save(conn) -> None:
        if await get_account(conn, account_id) is None:
            raise NotFound("account")
        await store.set_webhook_url(conn, account_id, checked, platform.clock())

    await platform.db.transact(save)


async def webhook(platform: Platform, account_id: int) -> str | None:
    """The account's inbound (MO) webhook URL, or None."""
    async with platform.db.read() as conn:
        return await store.webhook_url(conn, account_id)
