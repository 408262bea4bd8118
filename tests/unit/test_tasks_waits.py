"""tasks.wait_event / tasks.acquire_within: a loop that waits with them stops when cancelled, even
when the cancellation arrives just as what it waits for happens (asyncio.wait_for on Python 3.11
swallows that cancellation, CPython gh-86296: the webhook sender's loop then never stopped)."""

from __future__ import annotations

import asyncio

import pytest

from relaybox.tasks import acquire_within, wait_event


async def stops_when_cancelled_as_it_wakes(wait, wake) -> None:
    rounds = 0
    stop = False

    async def loop():
        nonlocal rounds
        while not stop:  # (a way out for when the cancellation was swallowed: the test fails, not hangs)
            rounds += 1
            await wait()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.01)  # waiting now
    wake()
    task.cancel()  # in the same turn of the event loop as the wake-up
    done, _ = await asyncio.wait({task}, timeout=2)
    if not done:
        stop = True
        wake()
        await task
    assert done, f"the loop went on after its cancellation ({rounds} rounds)"
    assert task.cancelled()


async def test_an_event_wait_cancelled_as_the_event_is_set_ends():
    event = asyncio.Event()

    async def wait():
        event.clear()
        await wait_event(event, 30)

    await stops_when_cancelled_as_it_wakes(wait, event.set)


async def test_a_semaphore_wait_cancelled_as_a_slot_frees_ends_and_keeps_no_slot():
    slots = asyncio.Semaphore(1)
    await slots.acquire()

    async def wait():
        if await acquire_within(slots, 30):
            slots.release()

    await stops_when_cancelled_as_it_wakes(wait, slots.release)
    assert not slots.locked()  # the slot the cancelled waiter was handed went back


async def test_the_waits_time_out_and_report_it():
    assert await wait_event(asyncio.Event(), 0.01) is False
    event = asyncio.Event()
    event.set()
    assert await wait_event(event, 0.01) is True
    slots = asyncio.Semaphore(1)
    assert await acquire_within(slots, 0.01) is True
    assert await acquire_within(slots, 0.01) is False
    slots.release()
    assert not slots.locked()


@pytest.mark.parametrize("timeout", [None, 0.05])
async def test_an_event_wait_without_an_event_set_is_cancelled_cleanly(timeout):
    task = asyncio.create_task(wait_event(asyncio.Event(), timeout if timeout is None else 30))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
