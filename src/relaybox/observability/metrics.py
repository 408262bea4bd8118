"""The Prometheus instruments of relaybox's processes, and the text a scrape gets.

Two kinds of figures (docs/operations.md lists them all):

- **Events**, counted where they happen, in whichever process that is: messages stored (API),
  status changes and submit results (engine), webhook attempts (engine), HTTP requests (API). `relaybox serve`
  runs several processes (API workers and the engine child), so these use prometheus-client's
  multiprocess mode when `PROMETHEUS_MULTIPROC_DIR` is set (`serve` and `worker` set it, see
  `prepare_multiprocess`): each process writes its samples to memory-mapped files in that folder,
  and a scrape, in any process, sums them.  Without it (tests, an app built in-process) they live in
  this process's registry.
- **State**, read from the database when scraped (figures.py): engine lag, due messages,
  webhook backlog, connector state.  The database is the one place every process agrees on.

Labels are platform-wide only (status, connector, route, result): never an account id or
anything a tenant chose.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter as Tally
from collections.abc import Iterable

#: The environment variable prometheus-client reads at import time to choose multiprocess mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: Buckets of the HTTP latency histogram (seconds): from sub-millisecond answers of the hot send
#: path to slow list pages.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def prepare_multiprocess(directory: str | None) -> str:
    """Point prometheus-client at a fresh folder for the samples of this process and its children.

    Must run before prometheus_client is first imported in this process (it picks its value
    class at import).  `directory`: the setting `metrics_dir`; None: a new temporary folder.
    A given folder is emptied (samples of an earlier run would add to this one's).  Returns the
    folder; child processes inherit it through the environment.
    """
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.unlink(os.path.join(directory, name))
    else:
        directory = tempfile.mkdtemp(prefix="relaybox-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    return directory


def remove_multiprocess_dir(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)


class Instruments:
    """The counters and histogram of one process (created once: see `instruments()`)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # In multiprocess mode the samples go to files; this registry is then only a holder.
        self.registry = CollectorRegistry(auto_describe=True)
        self.messages = Counter(
            "relaybox_messages", "Messages entering each status, by status and connector: accepted or scheduled "
            "when the API stores them (connector none), the later statuses as the engine records them",
            ["status", "connector"], registry=self.registry,
        )
        self.submitted = Counter(
            "relaybox_submitted", "Messages handed to a connector, by connector and its answer (accepted, rejected)",
            ["connector", "result"], registry=self.registry,
        )
        self.webhooks = Counter(
            "relaybox_webhook_attempts", "Webhook delivery attempts by result (delivered, retry, failed: given up)",
            ["result"], registry=self.registry,
        )
        self.http = Histogram(
            "relaybox_http_request_duration_seconds",
            "Time to answer HTTP requests, by method, route template and status code",
            ["method", "route", "status"], buckets=HTTP_BUCKETS, registry=self.registry,
        )

    def status_changes(self, moves: Iterable[tuple[str, str | None]]) -> None:
        """Count applied status changes: (new status, connector or None)."""
        for (status, connector), n in Tally(moves).items():
            self.messages.labels(status, connector or "none").inc(n)

    def submit_results(self, connector: str, accepted: int, rejected: int) -> None:
        if accepted:
            self.submitted.labels(connector, "accepted").inc(accepted)
        if rejected:
            self.submitted.labels(connector, "rejected").inc(rejected)

    def webhook_attempt(self, result: str) -> None:
        self.webhooks.labels(result).inc()

    def exposition(self) -> bytes:
        """This process's (or, in multiprocess mode, every process's) samples in the text format."""
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if not self.multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        return generate_latest(merged)


_instruments: Instruments | None = None


def instruments() -> Instruments:
    """The process's instruments, created on first use (after `prepare_multiprocess`, if any)."""
    global _instruments
    if _instruments is None:
        _instruments = Instruments()
    return _instruments


def count_stored(enabled: bool, written: list[tuple[str, int]]) -> None:
    """Count messages the API just stored, by their first status: [(status, messages)].  Called
    after the commit (a rolled-back write counts nothing); nothing when metrics are off."""
    if enabled and written:
        counter = instruments().messages
        for status, n in written:
            counter.labels(status, "none").inc(n)
