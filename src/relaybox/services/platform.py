"""What every service needs: the store, the price book, the settings and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from relaybox.config import Settings
from relaybox.domain.pricing import PriceBook
from relaybox.domain.timefmt import utcnow
from relaybox.store.db import Database
from relaybox.tasks import SingleFlight


@dataclass
class Platform:
    db: Database
    prices: PriceBook
    settings: Settings
    clock: Callable[[], datetime] = field(default=utcnow)
    #: account id -> (expiry on the monotonic clock, Account): see sending.load_account
    account_cache: dict = field(default_factory=dict)
    #: Store reads shared by concurrent requests that need the same row (tasks.SingleFlight).
    flights: SingleFlight = field(default_factory=SingleFlight)
    #: The per-account rate limits (services/rate_limits.py) of an API process; None: not limited
    #: (the engine's processes, and services called directly).
    limiter: object | None = None
