"""Connector status rows: each engine publishes its connectors' state; `relaybox connectors` reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.tables import connector_status


@dataclass(frozen=True, slots=True)
class ConnectorState:
    """What one worker last reported of one connector: bound (SMPP bind), state, details (from JSON)."""
    connector: str
    worker: str
    kind: str
    bound: bool
    state: str
    details: dict
    updated_at: datetime


async def publish(conn: AsyncConnection, worker: str, states: list[dict], now: datetime) -> None:
    """Upsert one row per connector of this engine (`states`: connector status dicts with a `name`)."""
    if not states:
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    rows = [
        {
            "connector": s["name"],
            "worker": worker,
            "kind": s.get("kind", "?"),
            "bound": bool(s.get("bound")),
            "state": str(s.get("state", ""))[:200],
            "details": orjson.dumps({k: v for k, v in s.items() if k not in ("name", "kind", "bound", "state")}).decode(),
            "updated_at": now,
        }
        for s in states
    ]
    stmt = insert(connector_status).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[connector_status.c.connector, connector_status.c.worker],
        set_={c: stmt.excluded[c] for c in ("kind", "bound", "state", "details", "updated_at")},
    )
    await conn.execute(stmt)


async def forget(conn: AsyncConnection, worker: str | None = None, older_than: datetime | None = None) -> None:
    """Delete a stopped engine's rows, or every row not refreshed since `older_than`."""
    query = delete(connector_status)
    if worker is not None:
        query = query.where(connector_status.c.worker == worker)
    if older_than is not None:
        query = query.where(connector_status.c.updated_at < older_than)
    await conn.execute(query)


async def read_all(conn: AsyncConnection) -> list[ConnectorState]:
    """Every connector's state per worker, by connector then worker."""
    rows = await conn.execute(select(connector_status).order_by(connector_status.c.connector, connector_status.c.worker))
    return [
        ConnectorState(r.connector, r.worker, r.kind, r.bound, r.state, orjson.loads(r.details), r.updated_at)
        for r in rows
    ]
