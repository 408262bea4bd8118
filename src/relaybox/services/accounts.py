"""Accounts: creation (CLI, demo, tests) and balance."""

from __future__ import annotations

from decimal import Decimal

from relaybox.domain.models import Account, Caller
from relaybox.domain.money import to_units
from relaybox.domain.rules import RuleViolation
from relaybox.domain.webhook_urls import check_webhook_url, parse_networks
from relaybox.errors import AccountBlocked, ValidationFailed
from relaybox.services.auth import KEY_PATTERN, new_api_key
from relaybox.services.platform import Platform, read_account
from relaybox.store import accounts as accounts_store


async def create_account(
    platform: Platform,
    *,
    name: str,
    currency: str = "EUR",
    balance: Decimal = Decimal("100"),
    credit: Decimal = Decimal("0"),
    api_key: str | None = None,
    tariff_code: int | None = None,
    webhook_url: str | None = None,
) -> tuple[int, str]:
    """Create an account with one API key; returns (account id, key).

    `webhook_url` receives the status (and RCS click) callbacks of messages whose
    request gave no `callback_url` (BSG: the personal area's "Callback URL").
    """
    currency = currency.upper()
    if not platform.prices.supports_currency(currency):
        raise ValidationFailed.one("currency", f"Unknown currency {currency}.")
    key = api_key or new_api_key("live")
    if webhook_url is not None:
        check_account_webhook_url(platform, webhook_url)
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationFailed.one("api_key", "API keys are live_ or test_ followed by 20 or more letters and digits.")
    async with platform.db.write() as conn:
        account_id = await accounts_store.create_account(
            conn,
            name=name,
            currency=currency,
            balance=to_units(balance),
            credit=to_units(credit),
            tariff_code=platform.prices.default_tariff if tariff_code is None else tariff_code,
            webhook_url=webhook_url,
        )
        await accounts_store.add_api_key(conn, account_id, key, key.split("_", 1)[0])
    return account_id, key


def check_account_webhook_url(platform: Platform, url: str) -> str:
    """An account's default webhook URL, checked as a request's callback_url is
    (domain/webhook_urls.py); ValidationFailed at `webhook_url` otherwise."""
    try:
        return check_webhook_url(url, parse_networks(platform.settings.webhook_allow_networks))
    except RuleViolation as exc:
        raise ValidationFailed.one("webhook_url", str(exc).replace("callback URL", "webhook URL")) from None


async def add_key(platform: Platform, account_id: int, mode: str = "test") -> str:
    """Create and store a new API key (`live_…` or `test_…` by `mode`) for the account; returns the key."""
    key = new_api_key(mode)
    async with platform.db.write() as conn:
        await accounts_store.add_api_key(conn, account_id, key, mode)
    return key


async def get_account(platform: Platform, caller: Caller) -> Account:
    """The caller's account, read now (not the cached copy `sending.load_account` serves).

    Raises AccountBlocked if it is not in the store, as authentication does for a gone account
    (accounts are never deleted: a token that outlived a store restored from an older backup)."""
    account = await read_account(platform, caller.account_id)
    if account is None:
        raise AccountBlocked()
    return account
