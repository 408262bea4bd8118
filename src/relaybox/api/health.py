"""`GET /healthz`: whether this relaybox can do its work now, for a load balancer or an orchestrator.

200 only when the database answers and at least one engine is alive; else 503
with a `reason`.  An engine is alive when it has published its connectors'
state (engine/connector_status.py, every 2 s) within `HEARTBEAT_FRESH` seconds
*and* its worker lease is live (store/workers.py: a `flock` on SQLite, an
advisory lock on PostgreSQL, both gone the moment the process dies).  So a
killed engine is seen at once, a hung one within `HEARTBEAT_FRESH`.  Which
engine counts does not depend on how it runs: the child of `relaybox serve`,
an engine on the API's own event loop, or `relaybox worker`s beside `serve
--no-engine`; for the child, the API process also knows whether it is running
and how often it was restarted (engine_process.Supervisor).

The body (no tenant data; unauthenticated):

    {"status": "ok" | "unavailable" | "starting", "reason": null | "<why not ok>",
     "database": {"state": "ok" | "unreachable", "error": "<exception class>"?},
     "engine": {"mode": "process" | "in-process" | "workers", "alive": bool,
                "heartbeat_age_seconds": float | null, "workers": int,
                "restarts": int?, "last_exit": str | null?},
     "connectors": [{"name", "kind", "state", "bound", "worker", "alive", "age_seconds"}, ...]}

One check costs one read of the `connector_status` table and the lease look-up;
its answer is kept `CACHE_OK` seconds (`CACHE_FAILED` when not ok, so that
recovery shows soon), and concurrent requests share one check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from relaybox.engine import connector_status as publisher
from relaybox.engine.engine_process import Supervisor
from relaybox.services.platform import Platform
from relaybox.store import connector_status, workers

log = logging.getLogger("relaybox.health")

#: An engine whose last heartbeat is older than this (seconds) counts as dead even if its lease lives.
HEARTBEAT_FRESH = publisher.STALE_AFTER.total_seconds()
CACHE_OK = 1.0  # seconds an ok answer is reused
CACHE_FAILED = 0.25  # seconds a not-ok answer is reused
DATABASE_TIMEOUT = 2.0  # seconds the database has to answer the check

STARTING = {
    "status": "starting",
    "reason": "starting",
    "database": {"state": "unknown"},
    "engine": {"alive": False, "heartbeat_age_seconds": None},
    "connectors": [],
}


class HealthCheck:
    """The `/healthz` answer of one API process: `await check.report()` -> (HTTP status, body)."""

    def __init__(self, platform: Platform, *, mode: str, supervisor: Supervisor | None = None) -> None:
        """`mode`: "process" (the engine is `supervisor`'s child), "in-process" (on this event loop) or
        "workers" (`serve --no-engine`: `relaybox worker`s elsewhere, seen only through the database)."""
        self.platform = platform
        self.mode = mode
        self.supervisor = supervisor
        self._answer: tuple[int, dict] | None = None
        self._until = 0.0
        self._lock = asyncio.Lock()

    async def report(self) -> tuple[int, dict]:
        if self._answer is not None and time.monotonic() < self._until:
            return self._answer
        async with self._lock:  # one check at a time; those who waited take its answer
            if self._answer is None or time.monotonic() >= self._until:
                self._answer = await self._check()
                self._until = time.monotonic() + (CACHE_OK if self._answer[0] == 200 else CACHE_FAILED)
            return self._answer

    async def _read(self) -> tuple[list[connector_status.ConnectorState], set[int]]:
        db = self.platform.db
        async with db.read() as conn:
            states = await connector_status.read_all(conn)
            tokens = {t for t in (workers.token_of(s.worker) for s in states) if t is not None}
            return states, await workers.live_tokens(db, conn, tokens)

    async def _check(self) -> tuple[int, dict]:
        engine: dict = {"mode": self.mode, "alive": False, "heartbeat_age_seconds": None, "workers": 0}
        if self.supervisor is not None:
            engine["restarts"] = self.supervisor.restarts
            engine["last_exit"] = self.supervisor.last_exit
        body: dict = {"status": "ok", "reason": None, "database": {"state": "ok"}, "engine": engine, "connectors": []}
        try:
            states, live = await asyncio.wait_for(self._read(), DATABASE_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - whatever the failure, the database does not answer
            log.warning("health check: the database does not answer (%s)", type(exc).__name__)
            body["database"] = {"state": "unreachable", "error": type(exc).__name__}
            return self._unavailable(body, "database unreachable")

        now = self.platform.clock()
        beats = [(s, _age(now, s.updated_at), workers.token_of(s.worker) in live) for s in states]
        alive = [(s, age) for s, age, lives in beats if lives and age <= HEARTBEAT_FRESH]
        ages = [age for _, age in alive] or [age for _, age, _ in beats]
        engine["heartbeat_age_seconds"] = round(min(ages), 1) if ages else None
        engine["workers"] = len({s.worker for s, _ in alive})
        engine["alive"] = bool(alive) and (self.supervisor is None or self.supervisor.running())
        body["connectors"] = _connectors(beats)
        if engine["alive"]:
            return 200, body
        if self.supervisor is not None and not self.supervisor.running():
            return self._unavailable(body, f"engine process {self.supervisor.last_exit or 'not running'}; restart pending")
        if not beats:
            return self._unavailable(body, "no engine alive: none has started")
        return self._unavailable(body, f"no engine alive: last heartbeat {engine['heartbeat_age_seconds']} s ago"
                                 if not any(lives for _, _, lives in beats) else "no engine alive: heartbeat too old")

    @staticmethod
    def _unavailable(body: dict, reason: str) -> tuple[int, dict]:
        body["status"] = "unavailable"
        body["reason"] = reason
        return 503, body


def _age(now: datetime, then: datetime) -> float:
    return max(0.0, (now - then).total_seconds())


def _connectors(beats: list[tuple[connector_status.ConnectorState, float, bool]]) -> list[dict]:
    """Each connector's state: its rows from live engines, or, if none lives, its newest row."""
    by_name: dict[str, list[dict]] = {}
    for state, age, lives in sorted(beats, key=lambda b: b[1]):
        by_name.setdefault(state.connector, []).append({
            "name": state.connector,
            "kind": state.kind,
            "state": state.state,
            "bound": state.bound,
            "worker": state.worker,
            "alive": lives and age <= HEARTBEAT_FRESH,
            "age_seconds": round(age, 1),
        })
    shown: list[dict] = []
    for rows in by_name.values():
        live = [r for r in rows if r["alive"]]
        shown.extend(live or rows[:1])
    return shown


# -- the body, for the OpenAPI document (api/openapi.py)


class DatabaseState(BaseModel):
    state: Literal["ok", "unreachable", "unknown"]
    error: str | None = None


class EngineState(BaseModel):
    mode: Literal["process", "in-process", "workers"] | None = None
    alive: bool
    heartbeat_age_seconds: float | None
    workers: int | None = None
    restarts: int | None = None
    last_exit: str | None = None


class ConnectorState(BaseModel):
    name: str
    kind: str
    state: str
    bound: bool
    worker: str
    alive: bool
    age_seconds: float


class Health(BaseModel):
    """`GET /healthz`: 200 with status ok, or 503 with status unavailable/starting and why."""

    status: Literal["ok", "unavailable", "starting"]
    reason: str | None
    database: DatabaseState
    engine: EngineState
    connectors: list[ConnectorState]
