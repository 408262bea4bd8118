"""Who is calling: API keys, JWTs issued for them, and account state."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field

import jwt

from relaybox.domain.models import Caller
from relaybox.errors import AccountBlocked, Unauthenticated
from relaybox.services.platform import Platform
from relaybox.store import accounts as accounts_store

KEY_PATTERN = re.compile(r"(live|test)_[A-Za-z0-9]{20,}")
JWT_ALGORITHM = "HS256"
#: How long a key → account lookup is trusted before the store is asked again.
#: Bounds how long a revoked key or a newly blocked account keeps working.
CACHE_SECONDS = 5.0


def new_api_key(mode: str = "live") -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return f"{mode}_" + "".join(secrets.choice(alphabet) for _ in range(32))


async def jwt_secret(platform: Platform) -> str:
    """The configured secret, or one generated on first start and kept in the store."""
    if platform.settings.jwt_secret:
        return platform.settings.jwt_secret
    async with platform.db.read() as conn:
        stored = await accounts_store.get_setting(conn, "jwt_secret")
    if stored:
        return stored
    async with platform.db.write() as conn:
        stored = await accounts_store.get_setting(conn, "jwt_secret")
        if stored is None:
            stored = secrets.token_urlsafe(48)
            await accounts_store.put_setting(conn, "jwt_secret", stored)
    return stored


@dataclass
class Authenticator:
    platform: Platform
    secret: str
    _keys: dict[str, tuple[float, Caller | None]] = field(default_factory=dict)
    _accounts: dict[int, tuple[float, bool]] = field(default_factory=dict)

    async def caller_for_key(self, key: str) -> Caller:
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            raise Unauthenticated()
        now = time.monotonic()
        cached = self._keys.get(key)
        if cached is None or cached[0] < now:
            async with self.platform.db.read() as conn:
                caller = await accounts_store.caller_for_key(conn, key)
            if len(self._keys) > 10000:
                self._keys.clear()
            self._keys[key] = (now + CACHE_SECONDS, caller)
        else:
            caller = cached[1]
        if caller is None:
            raise Unauthenticated()
        await self._check_active(caller.account_id, now)
        return caller

    async def _check_active(self, account_id: int, now: float) -> None:
        cached = self._accounts.get(account_id)
        if cached is None or cached[0] < now:
            async with self.platform.db.read() as conn:
                account = await accounts_store.get_account(conn, account_id)
            blocked = account is None or account.blocked
            self._accounts[account_id] = (now + CACHE_SECONDS, blocked)
        else:
            blocked = cached[1]
        if blocked:
            raise AccountBlocked()

    def issue_token(self, caller: Caller) -> str:
        now = int(time.time())
        claims = {
            "sub": str(caller.account_id),
            "mode": "test" if caller.is_test else "live",
            "iat": now,
            "exp": now + self.platform.settings.jwt_ttl_seconds,
        }
        return jwt.encode(claims, self.secret, algorithm=JWT_ALGORITHM)

    async def caller_for_token(self, token: str) -> Caller:
        try:
            claims = jwt.decode(token, self.secret, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "sub"]})
            caller = Caller(account_id=int(claims["sub"]), is_test=claims.get("mode") == "test")
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise Unauthenticated() from exc
        await self._check_active(caller.account_id, time.monotonic())
        return caller
