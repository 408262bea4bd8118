"""tasks.SingleFlight: concurrent callers of one key share one run."""

from __future__ import annotations

import asyncio

import pytest

from relaybox.tasks import SingleFlight


async def test_concurrent_callers_share_one_run_and_later_ones_run_again():
    flights = SingleFlight()
    runs = 0

    async def read():
        nonlocal runs
        runs += 1
        mine = runs
        await asyncio.sleep(0.01)
        return mine

    assert await asyncio.gather(*(flights.run("account", read) for _ in range(64))) == [1] * 64
    assert await flights.run("account", read) == 2  # the first run is over: a new one
    assert await asyncio.gather(flights.run("a", read), flights.run("b", read)) in ([3, 4], [4, 3])


async def test_a_failure_reaches_every_caller_and_a_cancelled_caller_does_not_cancel_the_run():
    flights = SingleFlight()
    release = asyncio.Event()

    async def failing():
        await release.wait()
        raise LookupError("store away")

    first = asyncio.ensure_future(flights.run("k", failing))
    second = asyncio.ensure_future(flights.run("k", failing))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    with pytest.raises(LookupError):
        await second
    assert first.cancelled()
