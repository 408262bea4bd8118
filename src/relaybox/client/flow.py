"""How a call goes over the wire, once for both clients: tokens, retries, errors (sans I/O).

`Session.run(call)` is a generator.  It yields what it needs done — `Send` (make this HTTP
request and send back the `httpx.Response`, or the `httpx.TransportError` raised) or `Sleep` —
and returns the call's parsed result (or raises an error of client/errors.py).  `Client` drives
it with blocking I/O, `AsyncClient` with `await`; neither holds any other logic.

Retries (`Retry`), decided per answer:

- **429** (rate limited): every call is retried — the server refused it without acting on it —
  after `Retry-After` seconds (RFC 9110 §10.2.3: seconds or an HTTP date) or else the backoff.
  A `Retry-After` longer than `Retry.max_wait` is not waited out: RateLimited is raised at once.
  Except **429 "Too many duplicate request detected"**: BSG's answer to the same body repeated
  within seconds of being *accepted*.  Repeating it later would send twice, so it is raised at
  once as DuplicateRequest.
- **5xx**, and a reply lost after the request may have reached the server (read timeout, broken
  connection): only idempotent calls (reads, login, refresh, price) are repeated.  A send is not:
  after a 5xx it may have been accepted, and repeating it could send the messages twice.
- **No connection** (refused, connect timeout, no pooled connection free): the request never left,
  so every call is repeated.
- At most `Retry.attempts` tries per call; the delays grow `backoff`, 2×, 4×… up to `max_backoff`
  seconds, with jitter.

Tokens (One API): with `auth="bearer"` the session logs in with the API key on first use
(`POST /api/auth/login`), refreshes the JWT `refresh_margin` seconds before its `exp`
(`POST /api/auth/refresh`, falling back to a new login), and after a 401 on a call made with a
token logs in again once and repeats the call (a 401 means the call was not acted on).
With `auth="key"` every call carries `X-API-KEY` (relaybox accepts it; BSG documents only JWTs).
Legacy calls always carry `X-API-KEY`.  Calls made at once (tasks sharing an `AsyncClient`,
threads sharing a `Client`) before the first token may each log in; the last token kept wins and
every one of them is valid, so this costs a request, never a failure.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar

import httpx

from relaybox.client import errors
from relaybox.client.calls import Call, Family, login, refresh

T = TypeVar("T")

USER_AGENT = "relaybox-client/0.1"
DUPLICATE_MESSAGE = "Too many duplicate request detected"


@dataclass(frozen=True)
class Retry:
    """Retry settings: `attempts` tries per call in all (1 = never retry); delays in seconds."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_wait: float = 60.0  # the longest Retry-After waited out

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before try `attempt + 1`: the server's `Retry-After`, else exponential backoff."""
        if retry_after is not None:
            return retry_after
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class Send:
    """An HTTP request to make: `url` is absolute."""

    method: str
    url: str
    params: Any
    json: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = Send | Sleep
Reply = httpx.Response | Exception | None

#: Transport failures where the request certainly never reached the server.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: Failures after which the request may have been acted on: repeated for idempotent calls only.
MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def retry_after_seconds(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """`Retry-After` in seconds (RFC 9110 §10.2.3: delay-seconds or an HTTP date), None if absent or bad."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - now())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _message(body: Any, fallback: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return body["message"]
    return fallback


def _field_errors(body: Any) -> dict[str, list[str]]:
    raw = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        return {}  # BSG sends `"errors": []` for request-level refusals
    return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in raw.items()}


def interpret(call: Call[T], response: httpx.Response) -> T:
    """The call's result from its answer, or the error of client/errors.py the answer means."""
    status = response.status_code
    body = _decode(response)
    where = f"{call.method} {call.path}"
    if status == 401:
        raise errors.AuthError(_message(body, "Unauthenticated."), status_code=status, body=body)
    if status == 403:
        raise errors.AuthError(_message(body, "Forbidden."), status_code=status, body=body)
    if status == 404:
        raise errors.NotFound(f"{_message(body, 'Not found')}: {where}", status_code=status, body=body)
    if status == 422:
        raise errors.ValidationError(_message(body, "The given data was invalid."), _field_errors(body),
                                     status_code=status, body=body)
    if status == 429:
        message = _message(body, "Too many requests")
        cls = errors.DuplicateRequest if message == DUPLICATE_MESSAGE else errors.RateLimited
        raise cls(message, retry_after_seconds(response), status_code=status, body=body)
    if status >= 500:
        raise errors.ServerError(f"server error {status} on {where}: {_message(body, response.reason_phrase)}",
                                 status_code=status, body=body)
    if status >= 300:
        raise errors.RelayboxClientError(f"HTTP {status} on {where}: {_message(body, response.reason_phrase)}",
                                         status_code=status, body=body)
    if body is None:
        raise errors.TransportError(f"{where}: the answer is not JSON", status_code=status)
    if call.family == Family.LEGACY and isinstance(body, dict) and body.get("error") not in (None, 0):
        code = body["error"]
        raise errors.legacy_error(code if isinstance(code, int) else 5, str(body.get("errorDescription") or ""), body)
    try:
        return call.parse(body)
    except errors.RelayboxClientError:
        raise
    except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise errors.TransportError(f"{where}: unexpected answer ({exc.__class__.__name__}: {str(exc)[:200]})",
                                    status_code=status, body=body) from exc


def jwt_lifetime(token: str) -> tuple[float | None, float | None]:
    """(`exp` − `iat`, `exp`) of a JWT in seconds, read without checking the signature (the server
    checks it; the client only needs to know when to refresh); None where a claim is missing."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp, iat = claims.get("exp"), claims.get("iat")
    except (IndexError, ValueError, AttributeError):
        return None, None
    if not isinstance(exp, (int, float)):
        return None, None
    return (float(exp - iat) if isinstance(iat, (int, float)) else None), float(exp)


class Session:
    """Everything both clients share: where to send, how to authenticate, how to retry."""

    def __init__(self, base_url: str, api_key: str | None, *, legacy_url: str | None = None,
                 auth: Literal["bearer", "key"] = "bearer", retry: Retry | None = None,
                 refresh_margin: float = 60.0, clock: Callable[[], float] = time.time):
        if auth not in ("bearer", "key"):
            raise ValueError("auth must be 'bearer' or 'key'")
        self.base_url = base_url.rstrip("/")
        self.legacy_url = (legacy_url or base_url).rstrip("/")
        self.api_key = api_key
        self.auth = auth
        self.retry = retry or Retry()
        self.refresh_margin = refresh_margin
        self.clock = clock
        self.token: str | None = None
        self.token_expires: float | None = None

    # -- tokens ------------------------------------------------------------------------------

    def _uses_token(self, call: Call) -> bool:
        return call.family == Family.ONEAPI and self.auth == "bearer" and self.api_key is not None

    def _keep(self, token: str) -> None:
        # Expiry on this machine's clock: now + the token's lifetime (exp − iat), so a server whose
        # clock differs from ours does not make every call refresh first.  Without iat, exp itself.
        self.token = token
        lifetime, exp = jwt_lifetime(token)
        self.token_expires = self.clock() + lifetime if lifetime is not None else exp

    def _ensure_token(self) -> Generator[Step, Reply, None]:
        if self.token is not None:
            if self.token_expires is None or self.token_expires - self.clock() > self.refresh_margin:
                return
            try:
                self._keep((yield from self._attempts(refresh())))
                return
            except errors.AuthError:
                pass  # the token died or the key was revoked: a login says which
        self.token = None
        self._keep((yield from self._attempts(login(self.api_key or ""))))

    def _headers(self, call: Call) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if call.family == Family.LOGIN or self.api_key is None:
            return headers
        if call.family == Family.REFRESH or self._uses_token(call):
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            headers["X-API-KEY"] = self.api_key
        return headers

    def login_now(self) -> Generator[Step, Reply, str]:
        """A new JWT from the API key (`POST /api/auth/login`), kept for the calls that follow."""
        self.token = None
        self._keep((yield from self._attempts(login(self.api_key or ""))))
        return self.token or ""

    def refresh_now(self) -> Generator[Step, Reply, str]:
        """A new JWT for the current one (`POST /api/auth/refresh`; a login first when there is none)."""
        if self.token is None:
            yield from self.login_now()
        self._keep((yield from self._attempts(refresh())))
        return self.token or ""

    # -- the call --------------------------------------------------------------------------------

    def run(self, call: Call[T]) -> Generator[Step, Reply, T]:
        """Make `call`: log in or refresh first if needed, retry as the module says, return the result."""
        if not self._uses_token(call):
            return (yield from self._attempts(call))
        yield from self._ensure_token()
        try:
            return (yield from self._attempts(call))
        except errors.AuthError as exc:
            if exc.status_code != 401:
                raise
            self.token = None  # revoked, expired early, or the server's secret changed: once more
            yield from self._ensure_token()
            return (yield from self._attempts(call))

    def _attempts(self, call: Call[T]) -> Generator[Step, Reply, T]:
        base = self.legacy_url if call.family == Family.LEGACY else self.base_url
        attempt = 0
        while True:
            attempt += 1
            reply = yield Send(call.method, base + call.path, call.params, call.json, self._headers(call))
            if isinstance(reply, Exception):  # no answer (a bad URL included): nothing to interpret
                may_repeat = isinstance(reply, NOT_SENT) or (call.idempotent and isinstance(reply, MAYBE_SENT))
                if not may_repeat or attempt >= self.retry.attempts:
                    raise errors.TransportError(f"{call.method} {base + call.path}: {_describe(reply)}") from reply
                delay = self.retry.delay(attempt, None)
            else:
                assert reply is not None
                try:
                    return interpret(call, reply)
                except errors.DuplicateRequest:
                    raise
                except errors.RateLimited as exc:
                    wait = exc.retry_after
                    if attempt >= self.retry.attempts or (wait is not None and wait > self.retry.max_wait):
                        raise
                    delay = self.retry.delay(attempt, wait)
                except errors.ServerError:
                    if not call.idempotent or attempt >= self.retry.attempts:
                        raise
                    delay = self.retry.delay(attempt, retry_after_seconds(reply))
            yield Sleep(delay)


def _describe(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0][:200]
