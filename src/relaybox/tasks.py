"""Background tasks of a process: stopping one the same way everywhere, and sharing one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Cancel `task` (None: nothing to do) and wait until it has finished unwinding, so that what
    it holds (connections, a child process) is released before the caller goes on.  The task's
    own CancelledError is swallowed; the caller's cancellation, if any, still propagates."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until `event` is set, at most `timeout` seconds (None: no limit); True if it was set.

    Not `asyncio.wait_for(event.wait(), timeout)`: on Python 3.11 that swallows a cancellation
    that arrives just as the event is set (CPython gh-86296; rewritten in 3.12), and a loop that
    waits this way then goes round again instead of ending: stopping it hung, found as a test that
    never ended (the webhook sender's loop).  `asyncio.wait` never swallows the caller's
    cancellation.
    """
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()  # nothing if it is done
    return bool(done)


async def acquire_within(semaphore: asyncio.Semaphore, timeout: float) -> bool:
    """Acquire `semaphore` within `timeout` seconds; True if it was acquired (the caller releases
    it), False if not.  Not `asyncio.wait_for`, for the reason `wait_event` gives; a slot acquired
    just as the caller is cancelled is given back."""
    waiter = asyncio.ensure_future(semaphore.acquire())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    except BaseException:
        if waiter.done() and not waiter.cancelled():
            semaphore.release()
        waiter.cancel()
        raise
    if done or (waiter.done() and not waiter.cancelled()):  # (acquired just as the time ran out)
        return True
    waiter.cancel()  # Semaphore.acquire hands a slot it was given as it was cancelled to the next waiter
    return False


class SingleFlight:
    """Concurrent callers asking for the same key share one run of the work.

    When a cache entry expires under load, every request in flight misses it at once: without
    this, each would read the same row (64 reads of one account per expiry with 64 connections).
    The work runs as a task of its own, so a caller that is cancelled does not cancel it for the
    others; its result or exception goes to every caller that waited for it.
    """

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future] = {}

    async def run(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = asyncio.ensure_future(work())
            running.add_done_callback(lambda done: self._settled(key, done))
        return await asyncio.shield(running)

    def _settled(self, key: Hashable, done: asyncio.Future) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved: a failure every caller gave up on is not reported as lost
