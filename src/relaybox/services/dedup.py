"""Refuse a request body repeated by the same account within the window (429)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from relaybox.domain.models import Caller
from relaybox.errors import DuplicateRequest
from relaybox.services.platform import Platform
from relaybox.store import fingerprints


def digest(path: str, body: bytes) -> str:
    """The fingerprint of a request: SHA-256 hex of its path and body."""
    return hashlib.sha256(path.encode() + b"\0" + body).hexdigest()


async def check_duplicate(platform: Platform, caller: Caller, path: str, body: bytes) -> None:
    """Refuse a non-empty body the account sent to the same path within `duplicate_window_seconds`.

    Records the fingerprint (store/fingerprints.py `remember`) and raises DuplicateRequest when it was fresh.
    """
    if not body.strip():
        return
    window = timedelta(seconds=platform.settings.duplicate_window_seconds)
    async with platform.db.write() as conn:
        fresh = await fingerprints.remember(conn, caller.account_id, digest(path, body), platform.clock(), window)
    if not fresh:
        raise DuplicateRequest()
