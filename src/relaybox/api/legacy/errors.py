"""Legacy REST error envelopes: HTTP 200 with `{"error": N, "errorDescription": "..."}`.

The official legacy clients treat any HTTP status >= 400 as a transport
failure and read the error code only from a 2xx body (docs/compatibility.md).
"""

from __future__ import annotations

from relaybox.errors import (
    AccountBlocked,
    DuplicateRequest,
    InvalidCampaignStatus,
    LegacyCode,
    NotFound,
    RateLimited,
    RelayboxError,
    Unauthenticated,
    ValidationFailed,
)

DESCRIPTIONS = {
    0: "No errors",
    1: "Invalid API key",
    2: "Account is blocked",
    3: "Not enough parameters",
    4: "Unknown method",
    5: "Unknown error",
    6: "Invalid tariff",
    7: "Invalid parameters",
    8: "Not enough money",
    10: "Invalid send time",
    11: "Too many requests",
    12: "Too many recipients in one request",
    20: "SMS not found",
    21: "Invalid phone number",
    22: "External ID (reference) is missing",
    23: "SMS with this reference already exists",
    24: "Invalid payload",
    25: "Invalid originator",
    26: "Empty or too long SMS text",
    27: "Invalid external ID (reference)",
    28: "Invalid validity",
    29: "Invalid task id",
    30: "Task not found",
    31: "The phone is already in the messaging list",
    32: "Sender not allowed",
    33: "Direction not allowed",
    35: "2WAY service is not activated",
    36: "Incorrect sender for 2WAY",
}


def error_body(code: int) -> dict:
    """The legacy error body: `{"error": code, "errorDescription": …}`."""
    return {"error": code, "errorDescription": DESCRIPTIONS.get(code, "Unknown error")}


def code_for(exc: RelayboxError) -> int:
    """The legacy error code of an error: a ValidationFailed's first field's code, 1, 2, the NotFound's code, 11, else 5 or 7."""
    if isinstance(exc, ValidationFailed):
        return exc.errors[0].legacy_code if exc.errors else LegacyCode.INVALID_PARAMETERS
    if isinstance(exc, Unauthenticated):
        return LegacyCode.INVALID_API_KEY
    if isinstance(exc, AccountBlocked):
        return LegacyCode.ACCOUNT_BLOCKED
    if isinstance(exc, NotFound):
        return exc.legacy_code
    if isinstance(exc, DuplicateRequest):
        return LegacyCode.INVALID_PARAMETERS
    if isinstance(exc, InvalidCampaignStatus):
        return LegacyCode.INVALID_PARAMETERS
    if isinstance(exc, RateLimited):
        return LegacyCode.LIMIT_EXCEEDED
    return LegacyCode.UNKNOWN_ERROR


def envelope(exc: RelayboxError) -> tuple[int, dict]:
    """(HTTP status, body) of a legacy error: 200 with the error body, 429 for a rate limit."""
    # A rate limit's refusal is the one HTTP error status: it is about the connection's use, not
    # the request's content, and generic clients and proxies retry a 429 after its Retry-After.
    status = 429 if isinstance(exc, RateLimited) else 200
    return status, error_body(code_for(exc))
