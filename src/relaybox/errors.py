"""One error hierarchy for the whole platform.

Services raise these; each API family maps them to its own envelope at the
edge (`api/oneapi/errors.py`, `api/legacy/errors.py`).  A field error carries
both the One API field path and the legacy error code so that the two families
can share every rule.
"""

from __future__ import annotations

from dataclasses import dataclass


class LegacyCode:
    """BSG legacy REST error codes (BSG legacy REST API, error catalogue)."""

    INVALID_API_KEY = 1
    ACCOUNT_BLOCKED = 2
    NOT_ENOUGH_PARAMETERS = 3
    UNKNOWN_METHOD = 4
    UNKNOWN_ERROR = 5
    INVALID_TARIFF = 6
    INVALID_PARAMETERS = 7
    NOT_ENOUGH_MONEY = 8
    INVALID_SEND_TIME = 10
    #: BSG: "maximum number of messages processed simultaneously for sending has been exceeded";
    #: relaybox answers it, with HTTP 429, when a rate limit refuses a request (docs/compatibility.md).
    LIMIT_EXCEEDED = 11
    BATCH_TOO_LARGE = 12
    SMS_NOT_FOUND = 20
    INVALID_PHONE = 21
    REFERENCE_MISSING = 22
    REFERENCE_EXISTS = 23
    INVALID_PAYLOAD = 24
    INVALID_ORIGINATOR = 25
    INVALID_TEXT = 26
    INVALID_REFERENCE = 27
    INVALID_VALIDITY = 28
    INVALID_TASK_ID = 29
    TASK_NOT_FOUND = 30
    PHONE_REPEATED = 31
    SENDER_NOT_ALLOWED = 32
    DIRECTION_NOT_ALLOWED = 33
    TWO_WAY_NOT_ACTIVATED = 35  # `2way` asked by an account without a two-way number
    TWO_WAY_WRONG_SENDER = 36  # `2way` asked with an originator that is not one of its two-way numbers
    #: A recipient on the account's stop list.  The legacy catalogue has no code of its own for
    #: it; 33 ("direction not allowed": the platform will not deliver to this destination) is
    #: the closest, and like 33 it is answered per message (docs/sending-to-lists.md).
    STOP_LISTED = 33


class RelayboxError(Exception):
    """Base of every error a service raises on purpose."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with a request field: its One API path (`phones.3.number`), the message and its legacy code."""
    path: str  # One API field path, e.g. "phones.3.number"
    message: str
    legacy_code: int = LegacyCode.INVALID_PARAMETERS


class ValidationFailed(RelayboxError):
    """A request refused for one or more field problems: One API 422, legacy error per code."""
    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, path: str, message: str, legacy_code: int = LegacyCode.INVALID_PARAMETERS) -> ValidationFailed:
        return cls([FieldError(path, message, legacy_code)])


class InsufficientFunds(ValidationFailed):
    """The account cannot pay for the send (store `reserve` refused): `Not enough money`, legacy 8."""
    def __init__(self) -> None:
        super().__init__([FieldError("balance", "Not enough money", LegacyCode.NOT_ENOUGH_MONEY)])


class Unauthenticated(RelayboxError):
    """No, an unknown or a malformed API key or token."""
    pass


class AccountBlocked(RelayboxError):
    """The key's account is blocked (or gone); legacy 2."""
    pass


class NotFound(RelayboxError):
    """No such object for this account; `legacy_code` is the legacy family's code for it (20 SMS, 30 task)."""
    def __init__(self, what: str = "Not found", legacy_code: int = LegacyCode.SMS_NOT_FOUND):
        super().__init__(what)
        self.legacy_code = legacy_code


class DuplicateRequest(RelayboxError):
    """The same body was sent to the same path within the duplicate window (services/dedup.py)."""
    pass


class InvalidCampaignStatus(RelayboxError):
    """The campaign's status does not allow the operation (a stop of a campaign not in STOPPABLE)."""
    pass


class RateLimited(RelayboxError):
    """An account's rate limit refused the request (services/rate_limits.py): 429 with
    `Retry-After: retry_after` (whole seconds, at least 1; RFC 9110 §10.2.3) in both families."""

    def __init__(self, retry_after: int, what: str = "requests"):
        super().__init__(f"too many {what}: retry after {retry_after} s")
        self.retry_after = max(1, int(retry_after))
        self.what = what  # requests | messages

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
