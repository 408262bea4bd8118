"""One API error envelopes (docs/compatibility.md, "Error shapes")."""

from __future__ import annotations

from relaybox.errors import (
    AccountBlocked,
    DuplicateRequest,
    InvalidCampaignStatus,
    NotFound,
    RateLimited,
    RelayboxError,
    Unauthenticated,
    ValidationFailed,
)


def envelope(exc: RelayboxError) -> tuple[int, dict]:
    """(HTTP status, body) of a One API error: 422 with `errors` by field path, 401, 403, 404, 429, else 500."""
    if isinstance(exc, ValidationFailed):
        errors: dict[str, list[str]] = {}
        for e in exc.errors:
            errors.setdefault(e.path, []).append(e.message)
        if [e.path for e in exc.errors] == ["balance"]:
            return 422, {"message": "Not enough money", "errors": errors}
        if getattr(exc, "message", None):  # the spec's own wording for this refusal (services/contacts.py)
            return 422, {"message": exc.message, "errors": errors}
        return 422, {"message": "The given data was invalid.", "errors": errors}
    if isinstance(exc, Unauthenticated):
        return 401, {"message": "Unauthenticated."}
    if isinstance(exc, AccountBlocked):
        return 403, {"message": "Account is blocked."}
    if isinstance(exc, NotFound):
        return 404, {"message": "Not found"}
    if isinstance(exc, DuplicateRequest):
        return 429, {"message": "Too many duplicate request detected"}
    if isinstance(exc, RateLimited):
        return 429, TOO_MANY_ATTEMPTS
    if isinstance(exc, InvalidCampaignStatus):
        return 422, {"message": "Invalid campaign status", "errors": []}
    return 500, {"message": "Server Error"}


#: A rate limit's refusal (with `Retry-After`): the wording of Laravel's request throttle, which
#: BSG's One API is built on; it fits the spec's `TooManyRequestsResponse` (`{"message": string}`).
TOO_MANY_ATTEMPTS = {"message": "Too Many Attempts."}
