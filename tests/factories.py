"""Data factories shared by the test tiers."""

from __future__ import annotations

from decimal import Decimal

from relaybox.services.accounts import add_key, create_account
from relaybox.services.auth import new_api_key
from relaybox.services.platform import Platform

#: The tests' JWT secret: 32 bytes or more, as relaybox requires (services/jwt_keys.py).
TEST_JWT_SECRET = "relaybox-tests-jwt-secret-0123456789abcdef"


async def make_account(
    platform: Platform,
    *,
    balance: str = "100",
    credit: str = "0",
    currency: str = "EUR",
    mode: str = "live",
    name: str = "Test account",
) -> tuple[int, str]:
    """An account with one key of the given mode; returns (account id, key)."""
    account_id, key = await create_account(
        platform,
        name=name,
        currency=currency,
        balance=Decimal(balance),
        credit=Decimal(credit),
        api_key=new_api_key(mode),
    )
    return account_id, key


async def extra_key(platform: Platform, account_id: int, mode: str = "test") -> str:
    return await add_key(platform, account_id, mode)


#: Simulator magic numbers (docs/simulator.md): the last four digits decide the outcome.
DELIVERED = 380971230011
UNDELIVERED = 380971230001
EXPIRED = 380971230002
FAILED = 380971230003
UNKNOWN = 380971230004
#: RCS (docs/simulator.md): no RCS; always read; read, then the first suggestion is clicked.
NOT_RCS_USER = 380971230005
RCS_READ = 380971230006
RCS_CLICK = 380971230007
#: Plain numbers whose delivered RCS messages are (0011) and are not (0013) read: the share
#: of read messages is drawn per number (connectors/simulator.py, `magic_reads`).
RCS_DELIVERED_READ = DELIVERED
RCS_DELIVERED_UNREAD = 380971230013
