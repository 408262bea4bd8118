"""Figures read from the database at scrape time: the state every process shares.

Why from the database: the engine may run in another process (`serve`'s child) or on another
machine (`relaybox worker`), and only the store knows the whole platform's queues.  The reads are
a few indexed aggregates (store/platform_figures.py) and the connectors' published status rows,
so a scrape costs milliseconds whatever the traffic.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from relaybox.engine.connector_status import STALE_AFTER
from relaybox.store import connector_status
from relaybox.store.db import Database
from relaybox.store import platform_figures

#: Numbers of a connector's published status that become gauges: (details key, metric, help).
CONNECTOR_NUMBERS = (
    ("window", "relaybox_connector_window", "Submits a connector may have awaiting an answer (SMPP window)"),
    ("in_flight", "relaybox_connector_in_flight", "Submits awaiting the connector's answer now"),
    ("queue", "relaybox_connector_queue", "Messages waiting inside the connector for a window slot"),
    ("rate", "relaybox_connector_submit_rate", "Submits per second the connector reports (its own moving rate)"),
)


#: The connector states a scrape shows (one series each, 1 for the current one): the connectors'
#: own state texts mapped onto a fixed set, so that an error text never becomes a label.
CONNECTOR_STATES = ("bound", "connecting", "retrying", "stopped", "stale", "other")


def state_name(state: str, bound: bool, fresh: bool) -> str:
    """One of CONNECTOR_STATES for a published connector state."""
    if not fresh:
        return "stale"
    if bound or state in ("bound", "ready"):
        return "bound"
    if state in ("connecting", "stopped"):
        return state
    if state.startswith("not bound"):
        return "retrying"
    return "other"


class Snapshot:
    """A prometheus-client collector over figures fetched beforehand (collect() cannot await)."""

    def __init__(self, families: list) -> None:
        self.families = families

    def collect(self):
        return iter(self.families)


async def read(db: Database, now: datetime) -> list:
    """The metric families of the database's state at `now`."""
    async with db.read() as conn:
        queues = await platform_figures.backlogs(conn, now)
        states = await connector_status.read_all(conn)

    def gauge(name: str, doc: str, value: float, labels: list[str] | None = None, rows=()) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, doc, labels=labels) if labels else GaugeMetricFamily(name, doc, value=value)
        for label_values, v in rows:
            family.add_metric(label_values, v)
        return family

    def age(moment: datetime | None) -> float:
        return max(0.0, (now - moment).total_seconds()) if moment is not None else 0.0

    families = [
        gauge("relaybox_engine_lag_seconds", "How long the oldest due message has waited for the dispatcher",
              age(queues.oldest_due)),
        gauge("relaybox_messages_due", "Messages due for dispatch and not yet claimed", queues.due_messages),
        gauge("relaybox_webhook_backlog", "Webhook deliveries still pending (first tries and retries)",
              queues.webhooks_pending),
        gauge("relaybox_webhook_oldest_pending_seconds", "Age of the oldest pending webhook delivery",
              age(queues.oldest_webhook)),
    ]
    # One connector may be published by several engines (workers): bound if any fresh one is;
    # numbers summed (rate, in flight, queue) except the window, a per-link setting (largest).
    fresh = [s for s in states if now - s.updated_at <= STALE_AFTER]
    bound: dict[str, float] = {s.connector: 0.0 for s in states}
    numbers: dict[str, dict[str, float]] = {key: {} for key, _, _ in CONNECTOR_NUMBERS}
    for s in fresh:
        bound[s.connector] = max(bound[s.connector], 1.0 if s.bound else 0.0)
        for key, _, _ in CONNECTOR_NUMBERS:
            value = s.details.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                seen = numbers[key].get(s.connector)
                numbers[key][s.connector] = max(seen or 0, value) if key == "window" else (seen or 0) + value
    # per connector, the best state any engine reports (bound over connecting over the rest)
    rank = {name: i for i, name in enumerate(CONNECTOR_STATES)}
    current: dict[str, str] = {}
    for st in states:
        name = state_name(st.state, st.bound, now - st.updated_at <= STALE_AFTER)
        if st.connector not in current or rank[name] < rank[current[st.connector]]:
            current[st.connector] = name
    families.append(gauge(
        "relaybox_connector_state", "1 for the connector's current state (bound, connecting, retrying, stopped, "
        "stale: no engine reported it for 10 s, other), 0 for the others", 0, ["connector", "state"],
        [([c, name], 1.0 if current[c] == name else 0.0) for c in sorted(current) for name in CONNECTOR_STATES],
    ))
    families.append(gauge("relaybox_connector_up", "1 when a fresh engine reports the connector bound (ready)", 0,
                          ["connector"], [([c], v) for c, v in sorted(bound.items())]))
    for key, name, doc in CONNECTOR_NUMBERS:
        families.append(gauge(name, doc, 0, ["connector"], [([c], v) for c, v in sorted(numbers[key].items())]))
    return families


def render(families: list) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Snapshot(families))
    return generate_latest(registry)
