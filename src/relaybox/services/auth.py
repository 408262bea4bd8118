"""Who is calling: API keys, JWTs issued for them, and account state.

A JWT names the key it was issued for (claim `kid`: the key's row id in `api_keys`, never the key)
and is only as alive as that key: every use of one, `POST /api/auth/refresh` included, looks the key
up through the same per-process cache as an `X-API-KEY`, so revoking the key (CLI or SQL) ends its
tokens within `auth_cache_seconds`, as it ends the key.  Tokens without the claim are refused.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime

import jwt

from relaybox.domain.models import Caller
from relaybox.domain.timefmt import utcnow
from relaybox.errors import AccountBlocked, Unauthenticated
from relaybox.services.platform import Platform, read_account
from relaybox.store import accounts as accounts_store
from relaybox.tasks import SingleFlight

KEY_PATTERN = re.compile(r"(live|test)_[A-Za-z0-9]{20,}")
JWT_ALGORITHM = "HS256"
#: Default of `auth_cache_seconds`: how long a key → account lookup is trusted before the store is
#: asked again.  Bounds how long a revoked key, its JWTs, or a newly blocked account keep working.
CACHE_SECONDS = 5.0
_CACHE_MAX = 10000

Grant = tuple[Caller, datetime | None]


def new_api_key(mode: str = "live") -> str:
    """A fresh API key: `<mode>_` and 32 random letters and digits (`secrets`), e.g. `live_…`, `test_…`."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return f"{mode}_" + "".join(secrets.choice(alphabet) for _ in range(32))


@dataclass
class Authenticator:
    """Callers from keys and JWTs; `secret` signs the JWTs, `audience` (the deployment id) scopes them.

    Raises Unauthenticated (unknown, revoked or malformed credentials) and AccountBlocked.
    """

    platform: Platform
    secret: str
    audience: str
    cache_seconds: float = CACHE_SECONDS
    _keys: dict[str, tuple[float, Caller | None]] = field(default_factory=dict)
    _key_ids: dict[int, tuple[float, Caller | None]] = field(default_factory=dict)
    _accounts: dict[int, tuple[float, bool]] = field(default_factory=dict)
    #: one store read per expired entry, however many requests find it expired at once
    _flights: SingleFlight = field(default_factory=SingleFlight)

    async def caller_for_key(self, key: str) -> Caller:
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            raise Unauthenticated()
        now = time.monotonic()
        cached = self._keys.get(key)
        if cached is None or cached[0] < now:
            grant = await self._flights.run(("key", key), lambda: self._read(accounts_store.caller_for_key, key))
            caller = self._remember(self._keys, key, grant, now)
        else:
            caller = cached[1]
        if caller is None:
            raise Unauthenticated()
        await self._check_active(caller.account_id, now)
        return caller

    async def _caller_for_key_id(self, key_id: int, now: float) -> Caller | None:
        cached = self._key_ids.get(key_id)
        if cached is not None and cached[0] >= now:
            return cached[1]
        grant = await self._flights.run(("key id", key_id), lambda: self._read(accounts_store.caller_for_key_id, key_id))
        return self._remember(self._key_ids, key_id, grant, now)

    async def _read(self, lookup, name) -> Grant | None:
        async with self.platform.db.read() as conn:
            return await lookup(conn, name, utcnow())

    def _remember(self, cache: dict, name, grant: Grant | None, now: float) -> Caller | None:
        """Cache a lookup for `cache_seconds`, or until the key's planned revocation if that comes first."""
        expires = now + self.cache_seconds
        if grant is not None and grant[1] is not None:
            expires = min(expires, now + (grant[1] - utcnow()).total_seconds())
        if len(cache) > _CACHE_MAX:
            cache.clear()
        caller = grant[0] if grant else None
        cache[name] = (expires, caller)
        return caller

    async def _check_active(self, account_id: int, now: float) -> None:
        cached = self._accounts.get(account_id)
        if cached is None or cached[0] < now:
            account = await self._flights.run(("account", account_id), lambda: read_account(self.platform, account_id))
            blocked = account is None or account.blocked
            if len(self._accounts) > _CACHE_MAX:
                self._accounts.clear()
            self._accounts[account_id] = (now + self.cache_seconds, blocked)
        else:
            blocked = cached[1]
        if blocked:
            raise AccountBlocked()

    def issue_token(self, caller: Caller) -> str:
        """An HS256 JWT for `caller`: `sub` account id, `kid` key id, `aud` deployment, `exp` after jwt_ttl_seconds."""
        if caller.key_id is None:
            raise Unauthenticated()
        now = int(time.time())
        claims = {
            "sub": str(caller.account_id),
            "kid": caller.key_id,
            "aud": self.audience,
            "mode": "test" if caller.is_test else "live",
            "iat": now,
            "exp": now + self.platform.settings.jwt_ttl_seconds,
        }
        return jwt.encode(claims, self.secret, algorithm=JWT_ALGORITHM)

    async def caller_for_token(self, token: str) -> Caller:
        """The caller of a JWT this deployment issued, while the key it names works and its account is active."""
        try:
            claims = jwt.decode(token, self.secret, algorithms=[JWT_ALGORITHM], audience=self.audience,
                                options={"require": ["exp", "sub", "kid", "aud"]})
            account_id, key_id = int(claims["sub"]), claims["kid"]
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthenticated() from exc
        if type(key_id) is not int or not 0 < key_id < 2**63:  # a BIGINT id, or no lookup at all
            raise Unauthenticated()
        now = time.monotonic()
        caller = await self._caller_for_key_id(key_id, now)
        if caller is None or caller.account_id != account_id:
            raise Unauthenticated()
        await self._check_active(caller.account_id, now)
        return caller
