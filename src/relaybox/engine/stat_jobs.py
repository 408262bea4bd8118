"""Runs statistics export jobs in the engine's processes (`relaybox serve`'s engine, `relaybox worker`).

A loop looks for a pending job every `POLL` seconds (or a processing one whose worker stopped
renewing its heartbeat for `STALE` seconds: it died, and the job starts over), claims it
(FOR UPDATE SKIP LOCKED on PostgreSQL: one worker per job), and walks the account's matching
messages in id order, `CHUNK_ROWS` at a time: each page becomes one gzip-compressed CSV chunk,
written in its own short transaction that also renews the heartbeat.  One job runs at a time
per engine; the CPU work of a page (formatting, compressing) runs in a thread with the event
loop free between pages; and while the engine is moving messages the job waits before each
chunk (up to MAX_YIELD seconds), so sends go first (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import Callable
from datetime import timedelta

from relaybox.domain.stat_rows import csv_lines, stat_row
from relaybox.services import stat_jobs as service
from relaybox.services.platform import Platform
from relaybox.store import stat_jobs as store

log = logging.getLogger("relaybox.engine.stat_jobs")

POLL = 1.0  # seconds between looks for a pending job
STALE = timedelta(seconds=60)  # a processing job whose heartbeat is this old is taken over
COMPRESS_LEVEL = 5


def _encode(messages) -> bytes:
    return gzip.compress(csv_lines([stat_row(m) for m in messages]).encode("utf-8"), COMPRESS_LEVEL, mtime=0)


#: While the engine is busy sending, a job waits up to this long (seconds) before each chunk: sends
#: go first, and a job still advances by at least one chunk per MAX_YIELD under sustained traffic.
MAX_YIELD = 2.0
YIELD_STEP = 0.05


async def _give_way(busy: Callable[[], bool] | None) -> None:
    if busy is None:
        return
    waited = 0.0
    while waited < MAX_YIELD and busy():
        await asyncio.sleep(YIELD_STEP)
        waited += YIELD_STEP


async def run_one(platform: Platform, claimer: str, busy: Callable[[], bool] | None = None) -> bool:
    """Claim and run one job to its end; False when there was none.

    `busy`: whether the engine is moving messages now (Engine.busy); the job then waits before
    each chunk (at most MAX_YIELD seconds), so that it does not slow the sends down.
    """
    now = platform.clock()
    job = await platform.db.transact(lambda conn: store.claim_job(conn, claimer, now, now - STALE))
    if job is None:
        return False
    try:
        f = service.filter_of(job)
        id_range = None
        if f.created_from is not None and f.created_to is not None:
            async with platform.db.read() as conn:
                id_range = await store.id_range_for(conn, f.account_id, f.created_from, f.created_to)
            if id_range is None:  # nothing was created in the range
                id_range = (1, 0)
        async def fetch(after: int):
            async with platform.db.read() as conn:
                return await store.matching_messages(conn, f, after, service.CHUNK_ROWS, id_range)

        seq, total = 0, 0
        page = await fetch(0)
        while page:
            # the next page is read while this one is formatted and compressed (in a thread)
            following = (asyncio.create_task(fetch(page[-1].id)) if len(page) == service.CHUNK_ROWS else None)
            try:
                await _give_way(busy)
                data = await asyncio.to_thread(_encode, page)
                first = total
                kept = await platform.db.transact(
                    lambda conn: store.add_chunk(conn, job.id, claimer, seq, first, len(page), data, platform.clock()))
            except BaseException:
                if following is not None:
                    following.cancel()
                raise
            if not kept:
                if following is not None:
                    following.cancel()
                log.info("stat job %s was deleted or taken over; stopping", job.key)
                return True
            seq, total = seq + 1, total + len(page)
            page = await following if following is not None else []
        await platform.db.transact(lambda conn: store.finish_job(conn, job.id, claimer, "done", total, platform.clock()))
    except asyncio.CancelledError:
        raise  # the job stays processing; another engine takes it over once its heartbeat is stale
    except Exception as exc:  # noqa: BLE001 - the job fails, the loop goes on
        log.exception("stat job %s failed", job.key)
        await platform.db.transact(lambda conn: store.finish_job(
            conn, job.id, claimer, "failed", 0, platform.clock(), error=str(exc)[:500]))
    return True


async def run_forever(platform: Platform, claimer: Callable[[], str], busy: Callable[[], bool] | None = None) -> None:
    """The engine's stat-job loop; `claimer()` gives the worker's current claim tag."""
    while True:
        if not await run_one(platform, claimer(), busy):
            await asyncio.sleep(POLL)
