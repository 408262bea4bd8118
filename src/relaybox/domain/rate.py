"""Token buckets: the rule behind the per-account rate limits.

A bucket holds up to `burst` tokens and gains `rate` tokens a second; a request
costs one token, a batch of messages one token each.  The rule for a cost
larger than the bucket itself (a 10,000-phone campaign against a smaller burst)
is that it passes when the bucket is full and leaves it in debt: the account then
waits until the debt is paid back at `rate`, so the average rate still holds and
no request is refused for ever.  Pure: times are given, never read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    """`rate` tokens a second, at most `burst` held.  A rate of 0 means no limit."""

    rate: float
    burst: float

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0


def resolve(rate: int | None, burst: int | None, default_rate: float, default_burst: float) -> Limit:
    """An account's limit from its own columns (None: the platform default) and the defaults.

    A burst below one second's worth of the rate (or below 1) would refuse what the rate
    allows, so the burst is at least `max(rate, 1)`.
    """
    r = float(default_rate if rate is None else rate)
    b = float(default_burst if burst is None else burst)
    return Limit(r, max(b, r, 1.0))


def retry_after(tokens: float, cost: float, limit: Limit) -> int:
    """Whole seconds (at least 1) until a bucket at `tokens` can take `cost` (RFC 9110 §10.2.3)."""
    needed = min(cost, limit.burst) - tokens
    return max(1, math.ceil(needed / limit.rate)) if limit.rate > 0 else 1


@dataclass(slots=True)
class Bucket:
    """One bucket's level as seen by one process.

    `tokens` is the level at time `at` (seconds, the caller's monotonic clock).
    `unsynced` counts what this process spent since it last reported to the others
    (services/rate_limits.py); a process on its own never needs it.
    """

    limit: Limit
    tokens: float
    at: float
    unsynced: int = 0
    used_at: float = 0.0

    @classmethod
    def full(cls, limit: Limit, now: float) -> Bucket:
        return cls(limit, limit.burst, now, used_at=now)

    def level(self, now: float) -> float:
        """The level at `now`: refilled at `rate` since `at`, never above `burst`."""
        if now <= self.at:
            return self.tokens
        return min(self.limit.burst, self.tokens + (now - self.at) * self.limit.rate)

    def take(self, cost: int, now: float) -> int:
        """Spend `cost` tokens; returns 0, or the seconds to wait (≥ 1) when refused (nothing spent).

        Passes when the bucket holds `cost`, or is full (a cost above the burst: debt).
        """
        if self.limit.unlimited:
            return 0
        level = self.level(now)
        if level < cost and level < self.limit.burst:
            return retry_after(level, cost, self.limit)
        self.tokens = level - cost
        self.at = now
        self.unsynced += cost
        self.used_at = now
        return 0

    def give_back(self, cost: int, now: float) -> None:
        """Return tokens spent on something that was then refused (nothing was accepted)."""
        self.tokens = min(self.limit.burst, self.level(now) + cost)
        self.at = now
        self.unsynced -= cost

    def adopt(self, shared_level: float, now: float) -> None:
        """Take the platform-wide level (after this process's report) as this copy's level.

        What was spent here since the report was sent (`unsynced` by then) is deducted
        again: it is in no report yet.
        """
        self.tokens = min(self.limit.burst, shared_level) - self.unsynced
        self.at = now
