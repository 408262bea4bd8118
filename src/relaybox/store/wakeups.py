"""Waking engine workers in other processes when messages are accepted (PostgreSQL).

An engine on the API's event loop is woken by a plain call (`Engine.notify`).
A `relaybox worker` beside separate API processes would only find new work on
its next look at the queue, so on PostgreSQL the API processes announce it:
`NOTIFY relaybox_due` after a send is accepted, which PostgreSQL delivers to
every worker that `LISTEN`s on its own connection.  The announcement carries
nothing but "look now"; the claim query stays the only source of truth, and a
worker still looks on its own every so often, so a lost notification (a
listener reconnecting, a server restart) costs latency, never a message.

SQLite has no such channel: there the engine process looks every 50 ms.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from relaybox.store.db import Database

log = logging.getLogger("relaybox.wakeups")

CHANNEL = "relaybox_due"
#: An API process sends at most one NOTIFY per this many seconds: under a stream of single
#: messages, one per request would be thousands a second, each waking every worker.
MIN_INTERVAL = 0.01
RECONNECT_AFTER = 1.0  # seconds before a lost listening connection is opened again
CHECK_EVERY = 5.0  # seconds between checks that the listening connection is still there


class DueAnnouncer:
    """API side: `announce()` (cheap, from the event loop) after messages were accepted."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._task: asyncio.Task | None = None
        self._again = False

    def announce(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True  # the running task sends one more after its pause
            return
        self._task = asyncio.get_running_loop().create_task(self._send(), name="relaybox-announce-due")

    async def _send(self) -> None:
        while True:
            self._again = False
            try:
                async with self._db.write() as conn:  # delivered when this transaction commits
                    await conn.execute(text(f"NOTIFY {CHANNEL}"))
            except Exception:  # noqa: BLE001 - a lost wake-up only costs the workers' next look
                log.warning("could not announce due messages", exc_info=True)
            await asyncio.sleep(MIN_INTERVAL)
            if not self._again:
                return

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _dsn(db: Database) -> str:
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(db: Database, on_due: Callable[[], None]) -> None:
    """Worker side: call `on_due()` whenever an API process announces due messages; runs until cancelled.

    Also calls it after every (re)connection: what was announced while no
    connection listened is looked for at once.
    """
    while True:
        conn = None
        try:
            conn = await asyncpg.connect(_dsn(db))
            await conn.add_listener(CHANNEL, lambda *_: on_due())
            on_due()
            while not conn.is_closed():
                await asyncio.sleep(CHECK_EVERY)
                await conn.execute("SELECT 1")  # a cut connection raises here
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the worker's own looks go on meanwhile
            log.warning("listening for due messages failed; again in %g s", RECONNECT_AFTER, exc_info=True)
        finally:
            if conn is not None and not conn.is_closed():
                await asyncio.shield(conn.close(timeout=2))
        await asyncio.sleep(RECONNECT_AFTER)
