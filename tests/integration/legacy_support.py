"""Helpers shared by the legacy REST API tests."""

from __future__ import annotations

from sqlalchemy import func, select

from relaybox.services.platform import Platform
from relaybox.store.tables import campaigns, messages

GREENLAND = "299123456"  # a possible number; `forbid_direction(platform, "GL")` takes its price away


def forbid_direction(platform: Platform, country: str) -> None:
    """Remove every SMS price for `country` from the running platform's price book."""
    for key in [k for k in platform.prices.base_rates if k[1] == country and k[2] == "sms"]:
        del platform.prices.base_rates[key]
    platform.prices._converted.clear()


async def stored(platform: Platform, account_id: int | None = None) -> tuple[int, int]:
    """(messages, campaigns) in the store: of one account, or of all."""
    count_messages = select(func.count()).select_from(messages)
    count_campaigns = select(func.count()).select_from(campaigns)
    if account_id is not None:
        count_messages = count_messages.where(messages.c.account_id == account_id)
        count_campaigns = count_campaigns.where(campaigns.c.account_id == account_id)
    async with platform.db.read() as conn:
        n_messages = (await conn.execute(count_messages)).scalar_one()
        n_campaigns = (await conn.execute(count_campaigns)).scalar_one()
    return n_messages, n_campaigns


def phone_body(**overrides) -> dict:
    body = {"destination": "phone", "msisdn": "380971230011", "originator": "relaybox", "body": "Hello", "reference": "ref1"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def phones_body(phones: list[dict], **overrides) -> dict:
    body = {"destination": "phones", "originator": "relaybox", "body": "Hello", "phones": phones}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def individual_body(phones: list[dict], **overrides) -> dict:
    body = {"destination": "individual", "phones": phones}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}
