"""Authentication for both families, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from relaybox.domain.models import Caller
from relaybox.errors import Unauthenticated
from relaybox.services.auth import Authenticator
from relaybox.services.platform import Platform


async def get_platform(request: Request) -> Platform:
    """FastAPI dependency: the app's Platform."""
    return request.app.state.platform


async def oneapi_caller(request: Request) -> Caller:
    """FastAPI dependency: the One API caller (`oneapi_caller_from`). Raises Unauthenticated, AccountBlocked or RateLimited."""
    return await oneapi_caller_from(request.app.state.authenticator, request.headers)


async def oneapi_caller_from(auth: Authenticator, headers) -> Caller:
    """The One API caller, once its account's request limit let the request through (or RateLimited)."""
    caller = await _oneapi_authenticate(auth, headers)
    await admit_request(auth.platform, caller)
    return caller


async def admit_request(platform: Platform, caller: Caller) -> None:
    """Take one token from the caller's account's request bucket; RateLimited (429) when it is empty."""
    if platform.limiter is not None:
        await platform.limiter.take_request(caller.account_id)


async def _oneapi_authenticate(auth: Authenticator, headers) -> Caller:
    """`Authorization: Bearer <JWT>` from /api/auth/login, or the key itself in `X-API-KEY`."""
    header = headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
        if token.startswith(("live_", "test_")):
            return await auth.caller_for_key(token)
        return await auth.caller_for_token(token)
    key = headers.get("x-api-key")
    if key:
        return await auth.caller_for_key(key)
    raise Unauthenticated()


async def legacy_caller(request: Request) -> Caller:
    """FastAPI dependency: the legacy API caller by its `X-API-KEY`. Raises Unauthenticated, AccountBlocked or RateLimited."""
    key = request.headers.get("x-api-key")
    if not key:
        raise Unauthenticated()
    caller = await request.app.state.authenticator.caller_for_key(key)
    await admit_request(request.app.state.platform, caller)
    return caller


PlatformDep = Annotated[Platform, Depends(get_platform)]
OneApiCaller = Annotated[Caller, Depends(oneapi_caller)]
LegacyCaller = Annotated[Caller, Depends(legacy_caller)]
