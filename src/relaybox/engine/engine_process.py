"""The engine of `relaybox serve` in a child process: `relaybox worker` under the API process.

On one event loop, the API and the engine share one core (Python runs one
thread at a time): at a thousand single messages a second each slows the
other by a third.  As two processes they use two cores, and a burst of
campaign traffic in the engine does not hold up API answers.  The child is an
ordinary worker (engine/runner.py with a worker lease), so everything that
makes several workers safe holds for it; on SQLite it looks for due work
every 50 ms instead of being woken by the API's sends (on PostgreSQL the API
wakes it: store/wakeups.py).  It stops with the API, and on its
own if the API process dies.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from relaybox.config import Settings

#: How long the child has to finish its batches in flight before it is killed.
STOP_TIMEOUT = 15.0


def child_environment(settings: Settings) -> dict[str, str]:
    """The settings as RELAYBOX_* variables, which the child's own Settings() reads back."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        key = f"RELAYBOX_{name.upper()}"
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value).lower() if isinstance(value, bool) else str(value)
    env["RELAYBOX_PARENT_PID"] = str(os.getpid())
    return env


def start(settings: Settings) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "relaybox.cli", "worker"], env=child_environment(settings))


async def stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()  # the worker finishes what it has in flight, then exits
    try:
        await asyncio.to_thread(child.wait, STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        await asyncio.to_thread(child.wait)


async def exit_with_parent(stop: asyncio.Event, interval: float = 1.0) -> None:
    """In the child: set `stop` once the API process that started it is gone (even by kill -9)."""
    parent = os.environ.get("RELAYBOX_PARENT_PID")
    if not parent:
        return
    while os.getppid() == int(parent):
        await asyncio.sleep(interval)
    stop.set()
