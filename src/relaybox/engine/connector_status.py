"""Publishes the state of an engine's connectors to the store, for `relaybox connectors`.

The link state of an SMPP connector lives in the process that holds the link;
each engine writes its connectors' `status()` every `PUBLISH_EVERY` seconds
(one small upsert), and deletes its rows when it stops.  Rows not refreshed for
`STALE_AFTER` belong to engines that died: the CLI shows them as stale and the
next publisher removes them after an hour.
"""

from __future__ import annotations

from datetime import timedelta

from relaybox.connectors.base import Connector
from relaybox.services.platform import Platform
from relaybox.store import connector_status as store

PUBLISH_EVERY = 2.0
STALE_AFTER = timedelta(seconds=10)
FORGET_AFTER = timedelta(hours=1)


def status_of(connector: Connector) -> dict:
    """A connector's state as a dict for the connector_status table: its own `status()`, or for the simulators
    always bound and ready with submissions and pending receipts counted; plus its `name`.
    """
    status = getattr(connector, "status", None)
    if callable(status):
        state = dict(status())
    else:  # the simulators: always "bound", receipts still to come as their queue
        pending = getattr(connector, "pending_receipts", None)
        state = {
            "kind": "simulator",
            "bound": True,
            "state": "ready",
            "submitted": getattr(connector, "submit_count", 0),
            "receipts_pending": pending() if callable(pending) else None,
        }
    state["name"] = connector.name
    return state


async def publish(platform: Platform, worker: str, connectors: list[Connector]) -> None:
    """Record this worker's connectors' states, and forget states no worker reported for FORGET_AFTER (1 h)."""
    now = platform.clock()
    states = [status_of(c) for c in connectors]
    async with platform.db.write() as conn:
        await store.publish(conn, worker, states, now)
        await store.forget(conn, older_than=now - FORGET_AFTER)


async def withdraw(platform: Platform, worker: str) -> None:
    """Forget this worker's connector states (it is stopping)."""
    async with platform.db.write() as conn:
        await store.forget(conn, worker=worker)
