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

The API process supervises it (`Supervisor`): a child that exits for any
reason, `kill -9` included, is started again after a backoff, each death and
restart logged; what it had in flight is taken over by the new child's recovery
(store/workers.py: the dead child's lease went with it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time

from relaybox.config import Settings
from relaybox.tasks import cancel_and_wait

log = logging.getLogger("relaybox.supervisor")

#: How long the child has to finish its batches in flight before it is killed.
STOP_TIMEOUT = 15.0
#: A child that ran this long (seconds) before it died was healthy: the next restart waits the
#: first delay again instead of the doubled one.
STEADY_AFTER = 60.0
#: Seconds between looks at whether the child still runs.
WATCH_EVERY = 0.1


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
    """Start the engine as a child `relaybox worker` process in a session of its own, with the server's settings."""
    # A session of its own: Ctrl+C at the terminal reaches only the server, which then stops the
    # child itself; otherwise the child would stop first and be seen as a death to restart.
    return subprocess.Popen(
        [sys.executable, "-m", "relaybox.cli", "worker"], env=child_environment(settings), start_new_session=True
    )


async def stop(child: subprocess.Popen) -> None:
    """Stop the child: SIGTERM, then SIGKILL after STOP_TIMEOUT (15 s)."""
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


def describe_exit(code: int) -> str:
    """`Popen.returncode` in words: "exited with code 1", "killed by signal 9 (SIGKILL)"."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "?"
        return f"killed by signal {-code} ({name})"
    return f"exited with code {code}"


class Supervisor:
    """Keeps one engine child running under `relaybox serve`.

    A child that dies (any exit: a crash, the OOM killer, `kill -9`) is started
    again after `delay` seconds, doubled for each death in a row up to
    `max_delay`; a child that ran `STEADY_AFTER` seconds or more before dying
    resets the delay.  Deaths are logged as errors, restarts as warnings.
    `stop()` stops the watching first, so a child stopped on shutdown is not
    restarted.
    """

    def __init__(self, settings: Settings, *, delay: float | None = None, max_delay: float | None = None) -> None:
        self.settings = settings
        self.first_delay = settings.engine_restart_delay if delay is None else delay
        self.max_delay = settings.engine_restart_max_delay if max_delay is None else max_delay
        self.child: subprocess.Popen | None = None
        self.restarts = 0
        self.last_exit: str | None = None  # how the last child ended, in words
        self._started_at = 0.0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._spawn()
        self._task = asyncio.create_task(self._watch(), name="engine-supervisor")

    def running(self) -> bool:
        return self.child is not None and self.child.poll() is None

    def _spawn(self) -> None:
        self.child = start(self.settings)
        self._started_at = time.monotonic()

    async def _watch(self) -> None:
        delay = self.first_delay
        while True:
            while (code := self.child.poll()) is None:
                await asyncio.sleep(WATCH_EVERY)
            ran = time.monotonic() - self._started_at
            if ran >= STEADY_AFTER:
                delay = self.first_delay
            self.last_exit = describe_exit(code)
            log.error("engine process %d %s after %.1f s; restarting it in %.1f s", self.child.pid, self.last_exit, ran, delay)
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)
                try:
                    self._spawn()
                    break
                except OSError:  # no process could be made (out of memory, too many processes): try again later
                    log.exception("could not start the engine process; trying again in %.1f s", delay)
            self.restarts += 1
            log.warning("engine process restarted (pid %d, restart %d)", self.child.pid, self.restarts)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.child is not None:
            await stop(self.child)
