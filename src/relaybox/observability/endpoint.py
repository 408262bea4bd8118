"""`GET /metrics`: on the API's port (a route of the app), or on a listener of its own.

Unauthenticated, as Prometheus scrapes it; it shows platform-wide figures only.  To keep it off a
public port, set `metrics_listen` (e.g. 127.0.0.1:9100): the API then has no /metrics, and
`serve` (or `worker`) runs a small server for it on that address in a thread of its own, with its
own database connection.  `metrics = false` turns both off.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relaybox.config import Settings, listen_address
from relaybox.domain.timefmt import utcnow
from relaybox.observability import figures
from relaybox.observability.metrics import instruments
from relaybox.store.db import Database

log = logging.getLogger("relaybox.metrics")


async def scrape(db: Database) -> Response:
    """The events of every process (metrics.py) followed by the database's state (figures.py)."""
    events = instruments().exposition()
    try:
        state = figures.render(await figures.read(db, utcnow()))
    except Exception:  # noqa: BLE001 - the counters are still worth having when the store is away
        log.exception("metrics: reading the database's figures failed")
        state = b"# the database's figures are missing from this scrape: see the logs\n"
    return Response(events + state, media_type=CONTENT_TYPE_LATEST)


def standalone_app(settings: Settings) -> Starlette:
    """A Starlette app serving only /metrics, with a small database pool of its own."""
    db_holder: dict[str, Database] = {}

    async def metrics(request: Request) -> Response:
        return await scrape(db_holder["db"])

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        db_holder["db"] = Database(settings.database_url, pool_size=2)
        try:
            yield
        finally:
            await db_holder["db"].dispose()

    return Starlette(routes=[Route("/metrics", metrics)], lifespan=lifespan)


def start_listener(settings: Settings):
    """Serve /metrics on `settings.metrics_listen` from a daemon thread (its own event loop):
    returns the uvicorn Server (`should_exit = True` stops it) with the thread as `.thread`.

    The thread ends with the process.  A failed bind is logged in that thread.
    """
    import uvicorn

    host, port = listen_address(settings.metrics_listen)
    config = uvicorn.Config(standalone_app(settings), host=host, port=port, log_config=None, access_log=False,
                            lifespan="on")
    server = uvicorn.Server(config)

    def run() -> None:
        asyncio.run(server.serve())

    server.thread = threading.Thread(target=run, name="relaybox-metrics", daemon=True)
    server.thread.start()
    return server
