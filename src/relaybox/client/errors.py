"""The client's one exception hierarchy: every failure of a call is a `RelayboxClientError`.

```
RelayboxClientError            anything a call can raise (`status_code`, `message`, `body`)
├── AuthError                  401 / 403 (One API); legacy code 1 or 2 (also a LegacyError)
├── NotFound                   404 (One API); legacy codes 20, 30 (also a LegacyError)
├── ValidationError            422, `errors` = {"<field.path>": ["what is wrong", ...]}
├── RateLimited                429, `retry_after` in seconds (None when the server gave none)
│   └── DuplicateRequest       429 "Too many duplicate request detected": never retried
├── LegacyError                legacy REST `{"error": N}` with N != 0, `code` = N
├── ServerError                5xx (after the retries the call was allowed)
└── TransportError             no HTTP answer: connection refused, timeout, broken reply
```

httpx's own exceptions never escape: they are translated here, at the boundary, the way httpx
translates its transports' (httpx `_exceptions.py`).
"""

from __future__ import annotations

from typing import Any


class RelayboxClientError(Exception):
    """Base of every error the client raises.

    `status_code` is the HTTP status (None when no answer arrived), `message` a one-line
    description (the server's `message` when it gave one) and `body` the decoded JSON answer
    (None when there was none or it was not JSON).
    """

    def __init__(self, message: str, *, status_code: int | None = None, body: Any = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body


class AuthError(RelayboxClientError):
    """The key or token was refused (One API 401 `Unauthenticated.`, 403 blocked account)."""


class NotFound(RelayboxClientError):
    """No such message, campaign or task in the caller's account (One API 404 `Not found`)."""


class ValidationError(RelayboxClientError):
    """One API 422: `errors` maps each field path (`phones.3.number`, `page.limit`) to its messages.

    BSG also answers 422 with `errors: []` for request-level refusals (`Invalid campaign status`,
    `Tariff was not found`, `Not enough money`): then `errors` is empty and `message` says why.
    """

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.errors: dict[str, list[str]] = errors or {}

    def __str__(self) -> str:
        if not self.errors or all(m == [self.message] for m in self.errors.values()):
            return self.message  # `Not enough money`: the one error says it already
        details = "; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in self.errors.items())
        return f"{self.message} ({details})"


class RateLimited(RelayboxClientError):
    """429 after the retries the call was allowed; `retry_after` is seconds (from `Retry-After`)."""

    def __init__(self, message: str, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class DuplicateRequest(RateLimited):
    """429 `Too many duplicate request detected`: the same body was accepted moments ago.

    Never retried: repeating it after the server's window (10 s) would send the messages twice.
    """


class LegacyError(RelayboxClientError):
    """A legacy REST application error: HTTP 200 with `{"error": code, "errorDescription": ...}`.

    `code` is BSG's legacy error code (1 invalid API key, 20 SMS not found, 21 invalid phone,
    23 reference exists, 26 empty or too long text, 30 task not found, ...).
    """

    def __init__(self, code: int, message: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.code = code

    def __str__(self) -> str:
        return f"{self.message} (legacy error {self.code})"


class LegacyAuthError(LegacyError, AuthError):
    """Legacy codes 1 (invalid API key) and 2 (account blocked)."""


class LegacyNotFound(LegacyError, NotFound):
    """Legacy codes 20 (SMS not found) and 30 (task not found)."""


class ServerError(RelayboxClientError):
    """HTTP 5xx, once the retries allowed for the call are spent."""


class TransportError(RelayboxClientError):
    """No usable HTTP answer: refused connection, timeout, a reply that is not the API's JSON."""


def legacy_error(code: int, description: str, body: Any = None) -> LegacyError:
    """The LegacyError subclass for a legacy code."""
    cls = LegacyAuthError if code in (1, 2) else LegacyNotFound if code in (20, 30) else LegacyError
    return cls(code, description or f"legacy error {code}", status_code=200, body=body)
