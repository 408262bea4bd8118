"""Per-account rate limits on requests and on accepted messages, across API processes.

Every authenticated request takes one token from its account's request bucket;
every accepted message takes one from its message bucket (a campaign of N
messages takes N).  The check is made in memory: each API process keeps its own
copy of each bucket it has used (domain/rate.py) and answers from it, with no
database round trip.  Every `interval` seconds (default 0.2) a task reports what
the process spent from each bucket used lately to the shared `rate_buckets` table
— one upsert for all of them (store/rate_limits.py) — and takes the platform-wide
level it returns as its copy's new level, less what it spent meanwhile.  In the
same transaction it reads the limits of those accounts again, so a changed limit
holds everywhere within an interval.

The bound (docs/architecture.md, "Rate limits"): with P processes, a process sees
the others' spending at most one interval (plus a round trip) late, so over any
T seconds an account is accepted at most `burst + rate × T` tokens, plus up to
`(P - 1) × (burst + rate × (interval + round trip))` when every process spends
the same tokens before they hear from each other.  The shared level then goes
below zero and every process waits until it is paid back: the long-run rate is
the limit.  On one process the limit is exact.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from relaybox.domain.rate import Bucket, Limit, resolve
from relaybox.errors import RateLimited
from relaybox.store import rate_limits as store
from relaybox.store.db import Database
from relaybox.tasks import cancel_and_wait

log = logging.getLogger("relaybox.rate_limits")

REQUESTS = "requests"
MESSAGES = "messages"


@dataclass(frozen=True, slots=True)
class Defaults:
    """The platform's limits for accounts that have none of their own (RELAYBOX_RATE_*)."""

    requests_per_second: float = 200
    requests_burst: float = 400
    messages_per_second: float = 1000
    messages_burst: float = 20000

    def limits(self, own: store.AccountLimits) -> dict[str, Limit]:
        return {
            REQUESTS: resolve(own.requests_per_second, own.requests_burst, self.requests_per_second, self.requests_burst),
            MESSAGES: resolve(own.messages_per_second, own.messages_burst, self.messages_per_second, self.messages_burst),
        }


class RateLimiter:
    """This process's copies of the accounts' buckets, and the task that shares them.

    `take_request` and `take_messages` raise `RateLimited` (429, Retry-After) and spend
    nothing when the bucket cannot pay; the first call for an account this process has
    not seen lately reads its limits and its shared buckets' levels (one read, then none while
    it stays in use).
    """

    def __init__(
        self, db: Database, defaults: Defaults, *, interval: float = 0.2, linger: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`interval`: seconds between exchanges with the other processes; `linger`: seconds a
        bucket no longer used keeps being exchanged (so that its copy follows the others')."""
        self.db = db
        self.defaults = defaults
        self.interval = interval
        self.linger = linger
        self.clock = clock
        self._buckets: dict[tuple[int, str], Bucket] = {}
        self._loading: dict[int, asyncio.Future] = {}
        self._task: asyncio.Task | None = None

    # --- the checks -------------------------------------------------------------------------

    async def take_request(self, account_id: int) -> None:
        """One request of the account, or RateLimited."""
        bucket = self._buckets.get((account_id, REQUESTS)) or await self._load(account_id, REQUESTS)
        wait = bucket.take(1, self.clock())
        if wait:
            raise RateLimited(wait, REQUESTS)

    async def take_messages(self, account_id: int, count: int) -> None:
        """`count` messages about to be accepted for the account, or RateLimited."""
        if count <= 0:
            return
        bucket = self._buckets.get((account_id, MESSAGES)) or await self._load(account_id, MESSAGES)
        wait = bucket.take(count, self.clock())
        if wait:
            raise RateLimited(wait, MESSAGES)

    def give_back_messages(self, account_id: int, count: int) -> None:
        """Messages taken by `take_messages` that were then not accepted (refused by the store)."""
        bucket = self._buckets.get((account_id, MESSAGES))
        if bucket is not None and count > 0 and not bucket.limit.unlimited:
            bucket.give_back(count, self.clock())

    async def _load(self, account_id: int, kind: str) -> Bucket:
        pending = self._loading.get(account_id)
        if pending is None:  # concurrent first requests of an account share one query
            pending = self._loading[account_id] = asyncio.ensure_future(self._read_limits(account_id))
        try:
            await asyncio.shield(pending)
        finally:
            if pending.done():
                self._loading.pop(account_id, None)
        return self._buckets[(account_id, kind)]

    async def _read_limits(self, account_id: int) -> None:
        # The shared level too: a process new to an account starts where the others are, not full.
        async with self.db.read() as conn:
            own = (await store.account_limits(conn, [account_id])).get(account_id, store.AccountLimits())
            levels = await store.shared_levels(conn, account_id)
        now = self.clock()
        for kind, limit in self.defaults.limits(own).items():
            bucket = Bucket.full(limit, now)
            if kind in levels and not limit.unlimited:
                bucket.adopt(levels[kind], now)
            self._buckets.setdefault((account_id, kind), bucket)

    # --- sharing with the other processes -----------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="rate-limits")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        try:
            await self.exchange()  # what this process spent last still counts for the others
        except Exception:
            log.warning("rate limits: last exchange failed", exc_info=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.exchange()
            except Exception:  # the database is away: limits hold per process until it is back
                log.warning("rate limits: exchange with the database failed", exc_info=True)

    async def exchange(self) -> None:
        """Report this process's spending, adopt the shared levels and reread the limits (one transaction)."""
        now = self.clock()
        active: list[tuple[tuple[int, str], Bucket]] = []
        for key, bucket in list(self._buckets.items()):
            if bucket.limit.unlimited and not bucket.unsynced:
                if now - bucket.used_at > self.linger:
                    del self._buckets[key]
                continue
            if bucket.unsynced or now - bucket.used_at <= self.linger:
                active.append((key, bucket))
            elif bucket.level(now) >= bucket.limit.burst:
                del self._buckets[key]  # idle and full again: a new copy would start the same
        if not active:
            return
        reports = [store.Report(key[0], key[1], b.limit.rate, b.limit.burst, b.unsynced) for key, b in active]
        for _, bucket in active:
            bucket.unsynced = 0
        async def share(conn):
            levels = await store.exchange(conn, [r for r in reports if r.rate > 0])
            return levels, await store.account_limits(conn, sorted({key[0] for key, _ in active}))

        try:
            # inline on SQLite: BEGIN to COMMIT in one go on this thread, holding the write lock for its
            # own CPU time only, not across turns of a busy event loop (the group commit waits for it)
            levels, limits = await self.db.transact(share, inline=True)
        except BaseException:
            for report, (_, bucket) in zip(reports, active):
                bucket.unsynced += report.spent  # reported next time
            raise
        now = self.clock()
        for key, bucket in active:
            level = levels.get(key)
            if level is not None:
                bucket.adopt(level, now)
            own = limits.get(key[0])
            if own is not None:
                limit = self.defaults.limits(own)[key[1]]
                if limit != bucket.limit:
                    bucket.limit = limit
                    bucket.tokens = min(bucket.tokens, limit.burst)


def limiter_for(settings, db: Database) -> RateLimiter:
    """The API process's limiter, with the platform defaults of `settings` (config.Settings)."""
    defaults = Defaults(
        settings.rate_requests_per_second, settings.rate_requests_burst,
        settings.rate_messages_per_second, settings.rate_messages_burst,
    )
    return RateLimiter(db, defaults, interval=settings.rate_sync_seconds)


class MessagesTaken:
    """`async with MessagesTaken(platform, account_id, n)`: take n message tokens on entry (or
    RateLimited, before anything is written); give them back if the block raises, and give back
    those the block did not keep (`keep(k)`: only k of them were accepted in the end)."""

    __slots__ = ("limiter", "account_id", "count", "kept")

    def __init__(self, platform, account_id: int, count: int) -> None:
        self.limiter: RateLimiter | None = platform.limiter
        self.account_id = account_id
        self.count = self.kept = count

    def keep(self, kept: int) -> None:
        self.kept = kept

    async def __aenter__(self) -> MessagesTaken:
        if self.limiter is not None:
            await self.limiter.take_messages(self.account_id, self.count)
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if self.limiter is not None:
            self.limiter.give_back_messages(self.account_id, self.count if exc_type else self.count - self.kept)
