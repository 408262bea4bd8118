"""Delivery reports that arrived before the submit result that names their operator id.

A connector answers a submit with operator ids, and the engine records them in
the next transaction; the network's delivery report can arrive in between (at
simulator speed 0 it nearly always does, and an SMSC may send a `deliver_sm`
right behind its `submit_sm_resp`).  The receipt intake cannot find such a
report's message yet.  It keeps the report here, and tries it again:

- at once when this engine records a result with that operator id
  (`results_recorded`, called after the result's transaction committed), so
  that the report costs no extra wait;
- otherwise every `retry_every` seconds (the result may be recorded by another
  worker: a shared network hands reports to any of them);
- and drops it after `patience` seconds (a report about a message this
  platform never sent, or whose result was lost).

One instance per connector, used only from the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from relaybox.connectors.base import Report


class OvertakenReports:
    """Delivery reports kept until the submit result naming their operator id is recorded (module docstring);
    `retry_every` and `patience` in seconds.
    """
    def __init__(self, retry_every: float, patience: float) -> None:
        self.retry_every = retry_every
        self.patience = patience
        #: Set when a result named an operator id kept here (or being tried): wait on it.
        self.matched = asyncio.Event()
        self._kept: dict[str, list[tuple[float, Report]]] = {}  # operator id -> (deadline, report), in arrival order
        self._trying: set[str] = set()  # operator ids of the batch the intake is applying now
        self._hits: set[str] = set()  # operator ids recorded by a result since the last take
        self._retry_at: float | None = None

    def __len__(self) -> int:
        return sum(len(v) for v in self._kept.values())

    def wait_time(self, now: float) -> float | None:
        """Seconds until the next retry of everything kept; None when nothing is kept."""
        if not self._kept or self._retry_at is None:
            return None
        return max(0.0, self._retry_at - now)

    def results_recorded(self, operator_ids: Iterable[str | None]) -> None:
        if not self._kept and not self._trying:
            return
        hits = {o for o in operator_ids if o is not None and (o in self._kept or o in self._trying)}
        if hits:
            self._hits |= hits
            self.matched.set()

    def take(self, now: float) -> tuple[list[tuple[float, Report]], int]:
        """The kept reports to try now, with their deadlines, and how many were dropped as too old.

        All of them once the retry time has come, else those a recorded result named.
        """
        if self._retry_at is not None and now >= self._retry_at:
            ids = list(self._kept)
            self._retry_at = None
        else:
            ids = [o for o in self._kept if o in self._hits]
        self._hits.clear()
        self.matched.clear()
        taken: list[tuple[float, Report]] = []
        dropped = 0
        for operator_id in ids:
            for deadline, report in self._kept.pop(operator_id):
                if deadline > now:
                    taken.append((deadline, report))
                else:
                    dropped += 1
        if not self._kept:
            self._retry_at = None
        return taken, dropped

    def trying(self, reports: Iterable[Report]) -> None:
        """The intake is about to apply these: a result recorded meanwhile still counts as a hit."""
        self._trying = {r.operator_id for r in reports}

    def keep(self, unmatched: Iterable[tuple[float | None, Report]], now: float) -> None:
        """Keep reports whose message was not found; a deadline of None starts the patience now."""
        for deadline, report in unmatched:
            self._kept.setdefault(report.operator_id, []).append(
                (deadline if deadline is not None else now + self.patience, report)
            )
        self._trying = set()
        if self._kept and self._retry_at is None:
            self._retry_at = now + self.retry_every
        if self._hits & self._kept.keys():
            self.matched.set()  # recorded while they were being tried: try them again at once
