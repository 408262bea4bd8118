"""The price list: what one SMS part costs in each country, in the account's currency."""

from __future__ import annotations

from dataclasses import dataclass

from relaybox.domain.models import Caller
from relaybox.errors import LegacyCode, ValidationFailed
from relaybox.services.platform import Platform
from relaybox.services.sending import load_account
from relaybox.store import pricing as pricing_store


@dataclass(frozen=True, slots=True)
class PriceLine:
    """One country of a tariff: ISO 3166 code, name, MCC and the price per SMS part in units of 1e-7 of the
    account currency (domain/money.py).
    """
    country: str  # ISO 3166 alpha-2
    country_name: str
    mcc: str
    price: int  # units of the account currency per SMS part


async def sms_price_list(platform: Platform, caller: Caller, tariff: int | None = None) -> tuple[str, list[PriceLine]]:
    """(currency, one line per country with a price) for `tariff`, or the account's own tariff.

    A country without a price in the tariff is left out: sending there is
    "direction not allowed".
    """
    account = await load_account(platform, caller)
    code = account.tariff_code if tariff is None else tariff
    if not platform.prices.has_tariff(code):
        raise ValidationFailed.one("tariff", "The tariff is invalid.", LegacyCode.INVALID_TARIFF)
    async with platform.db.read() as conn:
        countries = await pricing_store.country_table(conn)
    lines = []
    for country in sorted(countries):
        rate = platform.prices.rate(code, country, "sms", account.currency)
        if rate is not None:
            name, mcc = countries[country]
            lines.append(PriceLine(country, name, mcc, rate))
    return account.currency, lines
