"""Background tasks of a process: stopping one the same way everywhere."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Cancel `task` (None: nothing to do) and wait until it has finished unwinding, so that what
    it holds (connections, a child process) is released before the caller goes on.  The task's
    own CancelledError is swallowed; the caller's cancellation, if any, still propagates."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
