"""Console sessions and CSRF protection.

**Session.** Signing in checks an API key once (services/auth.py) and puts a JWT for it in the
cookie `rb_session`: the same HS256 token `POST /api/auth/login` returns, naming the key's row id,
never the key.  The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page
sends it), limited to `/console`, and Secure when the console is served over HTTPS.  Each page
re-checks the token through the Authenticator: revoking the key or blocking the account ends the
session within `auth_cache_seconds`, as it ends the key's API tokens.  A session lasts
`jwt_ttl_seconds` from its last page (each page renews the cookie).

**CSRF.** Every state-changing request (POST) must carry a token bound to the browser: the signed
double-submit cookie pattern (OWASP's CSRF cheat sheet).  The cookie `rb_csrf` holds a random
value; forms carry `csrf_token`, the value signed with itsdangerous (HMAC-SHA1 over the JWT secret,
salted for this use, timestamped); htmx requests send the same token in `X-CSRF-Token`.  A request
whose token is missing, forged, older than CSRF_MAX_AGE or made for another cookie is refused with
403 before anything else happens.  The cookie value is renewed at sign-in.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from relaybox.domain.models import Caller
from relaybox.errors import AccountBlocked, Unauthenticated

SESSION_COOKIE = "rb_session"
CSRF_COOKIE = "rb_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
COOKIE_PATH = "/console"
#: How long a form's token stays good (seconds): a page left open over a day needs a reload.
CSRF_MAX_AGE = 12 * 3600


class SignInRequired(Exception):
    """No session, or one that no longer works: the console answers with the sign-in page."""


class CsrfRejected(Exception):
    """A POST without a valid CSRF token: 403."""


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=_secure(request))


async def caller_of(request: Request) -> Caller:
    """The signed-in caller, once their account's request limit lets the request through.

    Raises SignInRequired (no or dead session), RateLimited (services/rate_limits.py).
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired()
    auth = request.app.state.authenticator
    try:
        caller = await auth.caller_for_token(token)
    except (Unauthenticated, AccountBlocked):
        raise SignInRequired() from None
    limiter = request.app.state.platform.limiter
    if limiter is not None:
        await limiter.take_request(caller.account_id)
    request.state.console_caller = caller
    return caller


def start_session(request: Request, response: Response, caller: Caller) -> None:
    """Set the session cookie for `caller` and a fresh CSRF cookie."""
    auth = request.app.state.authenticator
    _set_cookie(request, response, SESSION_COOKIE, auth.issue_token(caller), auth.platform.settings.jwt_ttl_seconds)
    seed = secrets.token_urlsafe(32)
    _set_cookie(request, response, CSRF_COOKIE, seed, None)
    request.state.csrf_seed = seed


def renew_session(request: Request, response: Response) -> None:
    """A signed-in page: the session's lifetime starts again."""
    caller = getattr(request.state, "console_caller", None)
    if caller is not None:
        auth = request.app.state.authenticator
        _set_cookie(request, response, SESSION_COOKIE, auth.issue_token(caller), auth.platform.settings.jwt_ttl_seconds)


def end_session(request: Request, response: Response) -> None:
    """Delete the session and CSRF cookies."""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="strict", secure=_secure(request))


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.authenticator.secret, salt="relaybox-console-csrf")


def csrf_seed(request: Request) -> str:
    """This browser's CSRF cookie value; a new one (set on the response by `keep_csrf_cookie`) if none."""
    seed = getattr(request.state, "csrf_seed", None) or request.cookies.get(CSRF_COOKIE)
    if not seed:
        seed = secrets.token_urlsafe(32)
        request.state.new_csrf_seed = seed
    request.state.csrf_seed = seed
    return seed


def csrf_token(request: Request) -> str:
    """The token forms of this page carry."""
    return _serializer(request).dumps(csrf_seed(request))


def keep_csrf_cookie(request: Request, response: Response) -> None:
    """Set the CSRF cookie when this request made a new seed."""
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed:
        _set_cookie(request, response, CSRF_COOKIE, seed, None)


async def check_csrf(request: Request) -> dict[str, str]:
    """The form of a POST whose CSRF token matches this browser's cookie; CsrfRejected otherwise."""
    form = await request.form()
    token = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    seed = request.cookies.get(CSRF_COOKIE)
    if not isinstance(token, str) or not seed:
        raise CsrfRejected()
    try:
        signed = _serializer(request).loads(token, max_age=CSRF_MAX_AGE)
    except BadSignature:  # SignatureExpired is one
        raise CsrfRejected() from None
    if not isinstance(signed, str) or not hmac.compare_digest(signed.encode(), seed.encode()):
        raise CsrfRejected()
    return {k: v for k, v in form.items() if isinstance(v, str)}
