"""What a signed-in tenant does to their own account (the web console): keys and webhook URL.

Every function takes the caller and touches only the caller's account: a key id of another
account is NotFound, exactly as an unknown one.
"""

from __future__ import annotations

from relaybox.domain.models import ApiKey, Caller
from relaybox.errors import NotFound, ValidationFailed
from relaybox.services import admin
from relaybox.services.accounts import check_account_webhook_url
from relaybox.services.platform import Platform
from relaybox.store import accounts as accounts_store
from relaybox.store import keys as keys_store

#: Keys one account may hold that still work: a bound on what a stolen session can mint.
MAX_ACTIVE_KEYS = 20


async def own_keys(platform: Platform, caller: Caller) -> list[ApiKey]:
    """The caller's account's keys that still work, oldest first."""
    return await admin.list_keys(platform, account_id=caller.account_id)


async def create_own_key(platform: Platform, caller: Caller, *, mode: str, label: str | None) -> tuple[ApiKey, str]:
    """A new key of the caller's account: (its record, the key, shown once).

    ValidationFailed: mode not live/test, a bad label (admin.create_key), or MAX_ACTIVE_KEYS reached.
    """
    if len(await own_keys(platform, caller)) >= MAX_ACTIVE_KEYS:
        raise ValidationFailed.one("key", f"An account has at most {MAX_ACTIVE_KEYS} working keys: revoke one first.")
    return await admin.create_key(platform, caller.account_id, mode=mode, label=label or None)


async def revoke_own_key(platform: Platform, caller: Caller, key_id: int) -> ApiKey:
    """Revoke one of the caller's account's keys now; NotFound for any other id."""
    async with platform.db.read() as conn:
        key = await keys_store.get_key(conn, key_id=key_id)
    if key is None or key.account_id != caller.account_id:
        raise NotFound("Not found")
    return await admin.revoke_key(platform, key)


async def set_webhook_url(platform: Platform, caller: Caller, url: str | None) -> str | None:
    """Set (or with None or "", clear) the account's default webhook URL, checked as the API checks
    a callback_url (domain/webhook_urls.py); ValidationFailed at `webhook_url` otherwise."""
    url = (url or "").strip() or None
    if url is not None:
        check_account_webhook_url(platform, url)
    async with platform.db.write() as conn:
        await accounts_store.set_webhook_url(conn, caller.account_id, url)
    platform.account_cache.pop(caller.account_id, None)  # this process's sends see it at once
    return url
