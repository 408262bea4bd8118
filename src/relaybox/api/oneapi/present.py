"""One API response shapes, exactly as the spec (and so the official client) types them."""

from __future__ import annotations

from relaybox.domain.models import Account, Campaign, Message, Tariff
from relaybox.domain.money import format_amount, from_units
from relaybox.domain.status import detail_statistics, short_statistics
from relaybox.domain.timefmt import format_time


def campaign(c: Campaign, *, with_price: bool = False) -> dict:
    """A campaign as the One API lists it; `calculated_price` (a JSON number) with `with_price`."""
    body = {
        "id": c.id,
        "name": c.name,
        "sender": c.sender,
        "status": c.status,
        "message_type": c.type,
        "start_at": format_time(c.start_at),
        "real_start_at": format_time(c.real_start_at),
        "finished_at": format_time(c.finished_at),
        "created_at": format_time(c.created_at),
        "statistics": short_statistics(c.counts),
        "currency": c.currency,
    }
    if with_price:
        # A JSON number, as the spec types `calculated_price`.
        body["calculated_price"] = float(from_units(c.total_price))
    return body


def send_answer(outcome) -> dict:
    """The answer of a campaign send: `{"data": <campaign>}` as the spec has it, and, when
    stop-listed recipients were left out, `skipped`: `{<phone's path>: [<why>]}`, the shape of
    the 422 envelope's `errors` (docs/sending-to-lists.md).  Clients that read only `data` (the
    official one) are unaffected."""
    body: dict = {"data": campaign(outcome.campaign, with_price=True)}
    if outcome.skipped:
        skipped: dict[str, list[str]] = {}
        for e in outcome.skipped:
            skipped.setdefault(e.path, []).append(e.message)
        body["skipped"] = skipped
    return body


def campaign_detail(c: Campaign) -> dict:
    """A campaign as `GET /api/campaigns/{id}/detail` shows it: statistics by status and the price with seven decimals."""
    return {
        "id": c.id,
        "name": c.name,
        "sender": c.sender,
        "status": c.status,
        "type": c.type,
        "started_at": format_time(c.start_at),
        "actual_start_at": format_time(c.real_start_at),
        "finished_at": format_time(c.finished_at),
        "created_at": format_time(c.created_at),
        "statistics": detail_statistics(c.counts),
        "alternative_channels": alternative_statistics(c),
        "total_messages": c.total_messages,
        "total_phones": c.total_phones,
        "total_price": format_amount(c.total_price),
        "currency": c.currency,
    }


def alternative_statistics(c: Campaign) -> dict | None:
    """RCS campaigns: the per-status statistics of their SMS fallbacks; SMS campaigns have none."""
    if c.type != "rcs":
        return None
    return {"sms": {"statistics": detail_statistics(c.alt_counts)}}


def alternative_channels(m: Message) -> dict | None:
    """The SMS sent instead of an RCS message (spec: MessageApiSchema.alternative_channels)."""
    if m.alternative_id is None:
        return None
    return {"sms": {"parts": m.alternative_sms["parts"], "id": [m.alternative_id]}}


def amount(m: Message) -> dict:
    """A message's `amount`: value with seven decimals as a string, and the currency."""
    return {"value": format_amount(m.price), "currency": m.currency}


def message(m: Message) -> dict:
    """A message as `GET /api/messages` shows it; RCS adds its content and its SMS fallback."""
    body = {
        "id": m.id,
        "campaign_id": m.campaign_id,
        "reference_id": m.reference_id,
        "type": m.type,
        "source": m.source,
        "text": m.text,
        "phone": m.phone,
        "validity": m.validity,
        "status": m.status,
        "amount": amount(m),
        "sender": m.sender,
        "created_at": format_time(m.created_at),
        "sent_at": format_time(m.sent_at),
        "delivered_at": format_time(m.delivered_at),
        "country": m.country,
        "parts": m.parts,
    }
    if m.type == "rcs":
        body["rcs_options"] = m.rcs_options
        body["alternative_channels"] = alternative_channels(m)
    return body


def message_info(m: Message) -> dict:
    """A message as the single sends answer it (`POST /api/messages/send`, `POST /api/messages/rcs/send`)."""
    return {
        "id": m.id,
        "reference_id": m.reference_id,
        "source": m.source,
        "type": m.type,
        "phone": m.phone,
        "status": m.status,
        "validity": m.validity,
        "amount": amount(m),
        "sender": m.sender,
        "created_at": format_time(m.created_at),
        "sent_at": format_time(m.sent_at),
        "delivered_at": format_time(m.delivered_at),
    }


def page(data: list, total: int, offset: int, limit: int) -> dict:
    """A One API list body: `data` and `meta.page` (total, offset, limit)."""
    return {"data": data, "meta": {"page": {"total": total, "offset": offset, "limit": limit}}}


def balance(a: Account) -> dict:
    """The One API balance body: balance and credit as JSON numbers, and the currency."""
    return {"data": {"balance": float(from_units(a.balance)), "currency": a.currency, "credit": float(from_units(a.credit))}}


def tariff(t: Tariff) -> dict:
    """A tariff as `GET /api/accounts/tariff` lists it."""
    return {"id": t.code, "name": t.name, "code": t.code, "is_active": t.is_active, "is_default": t.is_default}
