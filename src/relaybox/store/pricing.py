"""Tariffs, rates and currency rates: seeded from the shipped price list, read into a PriceBook."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import Tariff
from relaybox.domain.money import to_units
from relaybox.domain.pricing import PriceBook
from relaybox.store.tables import countries, currency_rates, rates, tariffs

BASE_CURRENCY = "EUR"


def shipped_price_list() -> dict:
    """The price list packaged with relaybox (relaybox/data/pricelist.json), as parsed JSON."""
    return json.loads((resources.files("relaybox") / "data" / "pricelist.json").read_text())


async def seed_price_list(conn: AsyncConnection, data: dict | None = None) -> bool:
    """Load the shipped price list into an empty store.  Returns False if one is there already."""
    if (await conn.execute(select(func.count()).select_from(tariffs))).scalar():
        return False
    data = data or shipped_price_list()
    await conn.execute(
        insert(tariffs),
        [
            {"code": t["code"], "name": t["name"], "is_active": t["is_active"], "is_default": t["is_default"]}
            for t in data["tariffs"]
        ],
    )
    await conn.execute(
        insert(countries),
        [
            {"code": code, "name": c["name"], "calling_code": c["calling_code"], "mcc": c.get("mcc", "")}
            for code, c in data["countries"].items()
        ],
    )
    rows = []
    for t in data["tariffs"]:
        factor = Decimal(t["factor"])
        for code, c in data["countries"].items():
            for channel in ("sms", "rcs"):
                if channel in c:
                    rows.append(
                        {
                            "tariff_code": t["code"],
                            "country": code,
                            "channel": channel,
                            "price": to_units(Decimal(c[channel]) * factor),
                        }
                    )
    await conn.execute(insert(rates), rows)
    await conn.execute(
        insert(currency_rates),
        [{"currency": cur, "rate": to_units(Decimal(r))} for cur, r in data["currency_rates"].items()],
    )
    return True


async def load_price_book(conn: AsyncConnection) -> PriceBook:
    """The tariffs, rates (units of 1e-7 of the base currency) and currency rates from the database, as a PriceBook."""
    tariff_rows = (await conn.execute(select(tariffs).order_by(tariffs.c.code))).all()
    rate_rows = (await conn.execute(select(rates.c.tariff_code, rates.c.country, rates.c.channel, rates.c.price))).all()
    cur_rows = (await conn.execute(select(currency_rates.c.currency, currency_rates.c.rate))).all()
    return PriceBook(
        base_currency=BASE_CURRENCY,
        tariffs={r.code: Tariff(r.code, r.name, r.is_active, r.is_default) for r in tariff_rows},
        base_rates={(r.tariff_code, r.country, r.channel): r.price for r in rate_rows},
        currency_rates={r.currency: r.rate for r in cur_rows},
    )


async def country_table(conn: AsyncConnection) -> dict[str, tuple[str, str]]:
    """country code -> (name, mcc), for the legacy price list."""
    rows = (await conn.execute(select(countries.c.code, countries.c.name, countries.c.mcc))).all()
    return {r.code: (r.name, r.mcc) for r in rows}
