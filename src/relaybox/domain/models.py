"""Small records the store hands to services: plain data, no behaviour beyond derived values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Account:
    """An account; `balance` and `credit` in units of 1e-7 of `currency` (domain/money.py)."""
    id: int
    name: str
    currency: str
    balance: int  # units
    credit: int  # units
    status: str
    tariff_code: int
    webhook_url: str | None = None

    @property
    def blocked(self) -> bool:
        return self.status == "blocked"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is making a request: the account and the kind of key it used."""

    account_id: int
    is_test: bool
    key_id: int | None = None  # the api_keys row it authenticated with; JWTs name it (services/auth.py)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as the operator sees it: never the key itself, only its prefix and last characters."""

    id: int
    account_id: int
    mode: str  # live | test
    label: str | None
    prefix: str
    last4: str | None  # None for keys made before migration 0006
    created_at: datetime
    revoked_at: datetime | None  # may lie in the future: the end of a rotation's grace period

    @property
    def shown(self) -> str:
        """How listings show the key, e.g. ``live_AbCdEfG…wXyZ``."""
        return f"{self.prefix}…{self.last4 or '????'}"

    def active_at(self, now: datetime) -> bool:
        return self.revoked_at is None or self.revoked_at > now


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One operator change of a balance (`account_ledger`); amounts in units of 10^-7."""

    id: int
    account_id: int
    kind: str
    amount: int
    balance_after: int
    actor: str
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """An account as `relaybox account list` shows it."""

    account: Account
    active_keys: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Tariff:
    """A tariff (a price list by country and channel), by its code."""
    code: int
    name: str
    is_active: bool
    is_default: bool


@dataclass(slots=True)
class Campaign:
    """A campaign: `validity` in hours, `total_price` in units of 1e-7 of `currency`, message counts by status."""
    id: int
    account_id: int
    name: str
    type: str
    source: str
    sender: str
    text: str | None
    validity: int
    tariff_code: int
    status: str
    is_test: bool
    start_at: datetime
    real_start_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    total_messages: int
    total_phones: int
    total_price: int
    currency: str
    callback_url: str | None
    counts: dict[str, int] = field(default_factory=dict)  # message status -> number of messages
    alt_counts: dict[str, int] = field(default_factory=dict)  # the same for the SMS fallbacks of RCS messages


@dataclass(slots=True)
class Message:
    """An MT message: `phone` E.164 digits as an integer, `parts` SMS segments, `validity` in hours, `price` in
    units of 1e-7 of `currency`, times UTC; `operator_id` is the SMSC's message id.
    """
    id: int
    account_id: int
    campaign_id: int | None
    type: str
    source: str
    reference_id: str | None
    phone: int
    country: str
    sender: str
    text: str
    encoding: str
    parts: int
    validity: int
    tariff_code: int
    price: int
    currency: str
    status: str
    is_test: bool
    created_at: datetime
    due_at: datetime
    expires_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    connector: str | None
    operator_id: str | None
    callback_url: str | None = None
    rcs_options: dict | None = None  # RCS content ({"text"?, "cards"?})
    alternative_sms: dict | None = None  # RCS: its SMS fallback, as checked and priced at acceptance
    alternative_id: int | None = None  # RCS: id of the SMS fallback once sent
    parent_id: int | None = None  # SMS fallback: id of the RCS message it replaces
    brand: str | None = None  # the operator's brand at acceptance (domain/networks.py), None: unknown
