"""Operator work on keys and accounts (`relaybox key …`, `relaybox account …`).

All state is in the store, so what these do an operator may also do in SQL (`UPDATE api_keys SET
revoked_at = …`, `UPDATE accounts SET status = 'blocked'`); every API process sees either within
`auth_cache_seconds` (services/auth.py).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from relaybox.domain.models import AccountSummary, ApiKey, LedgerEntry
from relaybox.domain.money import to_units
from relaybox.errors import NotFound, ValidationFailed
from relaybox.services.auth import new_api_key
from relaybox.services.platform import Platform
from relaybox.store import accounts as accounts_store
from relaybox.store import keys as keys_store
from relaybox.store import ledger

#: Longest grace period of `key rotate`.
MAX_GRACE = timedelta(days=30)


def _check_label(label: str | None) -> None:
    if label is not None and (not 1 <= len(label) <= 100 or not label.isprintable()):
        raise ValidationFailed.one("label", "A label is 1-100 printable characters.")


async def _account_or_404(conn, account_id: int):
    account = await accounts_store.get_account(conn, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    return account


async def create_key(platform: Platform, account_id: int, *, mode: str = "live", label: str | None = None) -> tuple[ApiKey, str]:
    """A new key of the account: (its record, the key itself, shown once and never stored)."""
    if mode not in ("live", "test"):
        raise ValidationFailed.one("mode", "The mode is live or test.")
    _check_label(label)
    key = new_api_key(mode)
    async with platform.db.write() as conn:
        await _account_or_404(conn, account_id)
        key_id = await accounts_store.add_api_key(conn, account_id, key, mode, label)
        record = await keys_store.get_key(conn, key_id=key_id)
    return record, key


async def list_keys(platform: Platform, *, account_id: int | None = None, include_revoked: bool = False) -> list[ApiKey]:
    """API keys, of one account or all; revoked keys only with `include_revoked` (else those active now)."""
    async with platform.db.read() as conn:
        return await keys_store.list_keys(conn, account_id=account_id, active_at=None if include_revoked else platform.clock())


async def find_key(platform: Platform, ref: str) -> ApiKey:
    """A key by its id (as `key list` shows) or by the key itself; NotFound otherwise."""
    async with platform.db.read() as conn:
        if ref.isascii() and ref.isdigit() and len(ref) < 19:
            found = await keys_store.get_key(conn, key_id=int(ref))
        else:
            found = await keys_store.get_key(conn, key=ref)
    if found is None:
        raise NotFound(f"no key {ref}")
    return found


async def revoke_key(platform: Platform, key: ApiKey, *, grace: timedelta = timedelta(0)) -> ApiKey:
    """Stop the key now (or after `grace`); a key already stopping sooner is left as it is."""
    async with platform.db.write() as conn:
        await keys_store.revoke(conn, key.id, platform.clock() + grace)
        return await keys_store.get_key(conn, key_id=key.id)


async def rotate_key(platform: Platform, key: ApiKey, *, grace: timedelta = timedelta(0)) -> tuple[ApiKey, ApiKey, str]:
    """A new key for the same account, mode and label, and the old one revoked after `grace`, in one
    transaction: (old key record, new key record, the new key).  ValidationFailed for a revoked key
    or a grace outside 0 s-30 days."""
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise ValidationFailed.one("grace", "The grace period is 0 seconds to 30 days.")
    new = new_api_key(key.mode)
    async with platform.db.write() as conn:
        now = platform.clock()
        current = await keys_store.get_key(conn, key_id=key.id)
        if current is None or not current.active_at(now):
            raise ValidationFailed.one("key", f"key {key.id} is revoked; create a new one with `relaybox key create`")
        new_id = await accounts_store.add_api_key(conn, key.account_id, new, key.mode, key.label)
        await keys_store.revoke(conn, key.id, now + grace)
        return await keys_store.get_key(conn, key_id=key.id), await keys_store.get_key(conn, key_id=new_id), new


async def list_accounts(platform: Platform) -> list[AccountSummary]:
    """Every account with its figures as of now (store/accounts.py `list_accounts`)."""
    async with platform.db.read() as conn:
        return await accounts_store.list_accounts(conn, platform.clock())


async def set_blocked(platform: Platform, account_id: int, blocked: bool) -> None:
    """Block or unblock an account: its keys and JWTs get legacy 2 / 401 … within auth_cache_seconds."""
    async with platform.db.write() as conn:
        await _account_or_404(conn, account_id)
        await accounts_store.set_status(conn, account_id, "blocked" if blocked else "active")


async def top_up(platform: Platform, account_id: int, amount: Decimal, *, actor: str, note: str | None = None) -> LedgerEntry:
    """Add `amount` (a Decimal in the account's currency, > 0, at most 7 decimals) to the balance and
    record it in the ledger, in one transaction.  TypeError for a float (not exact); ValidationFailed
    for other bad amounts; NotFound for an unknown account."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amounts are Decimal, not {type(amount).__name__}")
    if not amount.is_finite() or amount <= 0 or to_units(amount) != amount * 10**7:
        raise ValidationFailed.one("amount", "The amount is more than 0 with at most 7 decimals.")
    if not actor or len(actor) > 100:
        raise ValidationFailed.one("actor", "Who made the change: 1-100 characters.")
    if note is not None and len(note) > 500:
        raise ValidationFailed.one("note", "A note is at most 500 characters.")
    async with platform.db.write() as conn:
        entry = await ledger.change_balance(conn, account_id, to_units(amount), kind="top-up", actor=actor, note=note,
                                            now=platform.clock())
    if entry is None:
        raise NotFound(f"no account {account_id}")
    platform.account_cache.pop(account_id, None)
    return entry


async def ledger_entries(platform: Platform, account_id: int, limit: int = 50) -> list[LedgerEntry]:
    """The account's latest `limit` ledger entries (balance changes). Raises NotFound for an unknown account."""
    async with platform.db.read() as conn:
        await _account_or_404(conn, account_id)
        return await ledger.entries(conn, account_id, limit)
