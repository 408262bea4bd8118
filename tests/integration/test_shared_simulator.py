"""The database-backed simulated network (the default): what a dead taker leaves is offered again at once."""

from __future__ import annotations

import asyncio
import time

from relaybox.connectors.base import Submission
from relaybox.connectors.shared_simulator import REPORT_LEASE, SharedSimulatorConnector


def submissions(n: int) -> list[Submission]:
    return [
        Submission(message_id=i, phone=380971230000 + 10 + i, country="UA", sender="relaybox", text="hi",
                   encoding="gsm", parts=1, channel="sms", rcs_options=None)
        for i in range(1, n + 1)
    ]


async def test_reports_taken_by_a_dead_session_are_offered_again_before_their_lease_ends(platform):
    first = SharedSimulatorConnector(speed=0, db=platform.db)
    second = SharedSimulatorConnector(speed=0, db=platform.db)
    await first.start()
    await second.start()
    try:
        results = await first.submit(submissions(3))
        assert [r.accepted for r in results] == [True, True, True]
        taken = await asyncio.wait_for(first.receipts(), 5)
        assert sorted(r.operator_id for r in taken) == ["sim-1", "sim-2", "sim-3"]

        # leased to the first connector's session while it lives: the second gets nothing
        try:
            await asyncio.wait_for(second.receipts(), 1.5)
            raise AssertionError("a live session's reports were handed to another")
        except TimeoutError:
            pass

        # its session ends as its process's death would end it: offered again well before REPORT_LEASE
        await first._session.release()
        started = time.monotonic()
        again = await asyncio.wait_for(second.receipts(), REPORT_LEASE.total_seconds() - 2)
        assert sorted(r.operator_id for r in again) == ["sim-1", "sim-2", "sim-3"]
        assert time.monotonic() - started < 5

        # resubmitted ids: the first answer again, nothing scheduled twice
        await second.acknowledge(again)
        assert [r.operator_id for r in await second.submit(submissions(3))] == ["sim-1", "sim-2", "sim-3"]
        try:
            await asyncio.wait_for(second.receipts(), 1.5)
            raise AssertionError("a resubmission scheduled its reports again")
        except TimeoutError:
            pass
    finally:
        await first.stop()
        await second.stop()
