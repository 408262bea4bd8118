"""Chaos: one API process and two engine workers on PostgreSQL, workers killed with `kill -9`.

20,000 messages go out in 20 campaigns while a worker is killed at random
moments, several times, and started again each time.  The simulated network is
the default one, kept in the database (connectors/shared_simulator.py), which
outlives the workers as an operator's SMSC would, drops a resubmitted message
id, and redelivers delivery reports until they are acknowledged.  When everything is final, the test
checks from the database:

- every message reached a final status, and exactly one final-status webhook
  was queued for each message that has a callback URL;
- the network saw each message id submitted once, or the duplicates were
  dropped by id (one `simulator_submissions` row per message, holding the
  operator id the message has; no report left unacknowledged);
- each campaign's counters equal the counts of its messages by status;
- balance + the prices of the charged messages = the starting balance, exactly.

Bounded: the whole test gives up after `DEADLINE` seconds.  `RELAYBOX_CHAOS_SEED`
repeats a run's kill schedule (the seed is printed).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from relaybox.domain.status import FINAL, MessageStatus
from tests import pg
from tests.cli import run_cli
from tests.e2e.conftest import TEST_ENV, free_port

MESSAGES = 20_000
CAMPAIGNS = 20
WITH_CALLBACKS = 2  # campaigns whose messages have a callback URL
KILLS = 6
DEADLINE = 240.0  # seconds for the whole test
BALANCE_EUR = 2000  # 20,000 × 0.035 = 700: enough
SIM_SPEED = "0.05"  # submit 50 ms, reports 100-250 ms after: kills land mid-flight

pytestmark = pytest.mark.skipif(
    pg.unavailable_reason() is not None and not pg.REQUIRED, reason="needs PostgreSQL (RELAYBOX_TEST_POSTGRES_URL)"
)


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Cluster:
    def __init__(self, workdir: Path, database_url: str):
        self.workdir = workdir
        self.database_url = database_url
        self.overrides = {**TEST_ENV, "RELAYBOX_DATABASE_URL": database_url, "RELAYBOX_LOG_LEVEL": "warning"}
        self.env = {**os.environ, **self.overrides}
        self.port = free_port()
        self.api: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen | None] = [None, None]
        self.logs = ["", ""]
        self.starts = 0

    def cli(self, *args: str) -> str:
        """A one-shot command, in the test process (tests/cli.py)."""
        return run_cli(*args, cwd=self.workdir, env=self.overrides, check=True).stdout

    def start_api(self) -> str:
        log = open(self.workdir / "api.log", "ab")
        self.api = subprocess.Popen(
            [sys.executable, "-m", "relaybox.cli", "serve", "--no-engine", "--port", str(self.port)],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.api.poll() is None, self.tail("api.log")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return base
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("the API did not start")

    def start_worker(self, slot: int) -> None:
        self.starts += 1
        self.logs[slot] = f"worker{slot}-{self.starts}.log"
        log = open(self.workdir / self.logs[slot], "ab")
        self.workers[slot] = subprocess.Popen(
            [sys.executable, "-m", "relaybox.cli", "worker", "--sim-speed", SIM_SPEED],  # the default, shared network
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )

    def tag(self, slot: int, timeout: float = 60) -> str:
        """The claim tag of the worker in `slot`, once it is running (it prints it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in (self.workdir / self.logs[slot]).read_text(errors="replace").splitlines():
                if line.startswith("relaybox worker worker:"):
                    return line.split()[2]
            assert self.workers[slot].poll() is None, self.tail(self.logs[slot])
            time.sleep(0.05)
        raise AssertionError(f"worker {slot} did not start")

    def taken_over(self) -> int:
        """Messages that workers took over from dead ones, from their logs."""
        total = 0
        for log in self.workdir.glob("worker*.log"):
            for line in log.read_text(errors="replace").splitlines():
                if "in-doubt messages of a dead worker" in line:
                    total += int(line.split("resubmitting ")[1].split()[0])
        return total

    def kill(self, slot: int) -> None:
        process = self.workers[slot]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in [self.api, *self.workers]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [self.api, *self.workers]:
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / name
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


async def _fetch(url: str, query: str, *args):
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def fetch(url: str, query: str, *args):
    return asyncio.run(_fetch(url, query, *args))


@pytest.fixture
def chaos_database():
    name = pg.create_database()
    yield pg.url_for(name)
    pg.drop_database(name)


def test_two_workers_killed_repeatedly_lose_and_duplicate_nothing(tmp_path, chaos_database):
    seed = int(os.environ.get("RELAYBOX_CHAOS_SEED", time.time_ns() % 1_000_000))
    print(f"chaos seed {seed}")
    rng = random.Random(seed)
    send_rng = random.Random(seed + 1)  # the sender thread's own: the kill schedule stays reproducible
    started = time.monotonic()
    url = chaos_database
    cluster = Cluster(tmp_path, url)
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{sink.server_address[1]}/hook"
    try:
        cluster.cli("migrate")
        key = cluster.cli("account", "create", "--name", "chaos", "--balance", str(BALANCE_EUR)).strip().splitlines()[-1]
        cluster.start_worker(0)
        cluster.start_worker(1)
        base = cluster.start_api()  # healthy once a worker is alive

        # Send from a thread while the main thread kills workers.
        sent: list[int] = []
        errors: list[str] = []

        def send_all() -> None:
            per = MESSAGES // CAMPAIGNS
            with httpx.Client(base_url=base, headers={"X-API-KEY": key}, timeout=60) as client:
                for c in range(CAMPAIGNS):
                    phones = [{"number": 380_970_000_000 + c * per + i} for i in range(1, per + 1)]
                    body = {"sender": "relaybox", "text": f"chaos {seed} {c}", "phones": phones}
                    if c < WITH_CALLBACKS:
                        body["callback_url"] = hook
                    answer = client.post("/api/campaigns/sms/send", content=orjson.dumps(body),
                                         headers={"Content-Type": "application/json"})
                    if answer.status_code != 200:
                        errors.append(f"campaign {c}: {answer.status_code} {answer.text[:200]}")
                        return
                    sent.append(answer.json()["data"]["id"])
                    time.sleep(send_rng.uniform(0.2, 0.6))

        sender = threading.Thread(target=send_all)
        sender.start()
        kills = []
        for _ in range(KILLS):
            # Kill a running worker at a random moment while it has messages in flight
            # (in `sending` under its tag), or, if none come within a while, anyway.
            slot = rng.randrange(2)
            tag = cluster.tag(slot)
            time.sleep(rng.uniform(0.0, 0.5))
            wait_until = time.monotonic() + 5
            in_flight = 0
            while time.monotonic() < wait_until:
                in_flight = fetch(url, "SELECT count(*) AS n FROM messages WHERE status = 'sending' AND connector = $1", tag)[0]["n"]
                if in_flight:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.15))
            cluster.kill(slot)
            kills.append((round(time.monotonic() - started, 2), slot, in_flight))
            cluster.start_worker(slot)
        sender.join()
        assert not errors, errors
        assert len(sent) == CAMPAIGNS
        print(f"kills (seconds, worker, its messages in sending just before): {kills}")

        final = tuple(s.value for s in FINAL)
        while True:
            pending = fetch(url, "SELECT count(*) AS n FROM messages WHERE NOT (status = ANY($1::text[]))", list(final))[0]["n"]
            reports = fetch(url, "SELECT count(*) AS n FROM simulator_reports")[0]["n"]
            if pending == 0 and reports == 0:
                break
            assert time.monotonic() - started < DEADLINE, (
                f"{pending} messages not final, {reports} reports unacknowledged after {DEADLINE} s\n"
                f"worker0:\n{cluster.tail(cluster.logs[0])}\nworker1:\n{cluster.tail(cluster.logs[1])}"
            )
            for slot, process in enumerate(cluster.workers):
                assert process.poll() is None, f"worker {slot} exited:\n{cluster.tail(cluster.logs[slot])}"
            time.sleep(0.25)
        took = time.monotonic() - started
        taken_over = cluster.taken_over()
    finally:
        cluster.stop()
        sink.shutdown()

    # -- every message final, exactly one final-status webhook each ---------------------
    statuses = Counter({r["status"]: r["n"] for r in fetch(url, "SELECT status, count(*) AS n FROM messages GROUP BY status")})
    assert sum(statuses.values()) == MESSAGES
    assert set(statuses) <= set(final), statuses
    hooked = fetch(url, "SELECT count(*) AS n FROM messages WHERE callback_url IS NOT NULL")[0]["n"]
    assert hooked == MESSAGES // CAMPAIGNS * WITH_CALLBACKS
    finals_per_message = fetch(
        url,
        "SELECT m.id, count(o.id) AS n FROM messages m LEFT JOIN webhook_outbox o "
        "ON o.message_id = m.id AND o.payload::jsonb->>'status' = ANY($1::text[]) "
        "WHERE m.callback_url IS NOT NULL GROUP BY m.id HAVING count(o.id) <> 1",
        list(final),
    )
    assert finals_per_message == [], finals_per_message[:10]

    # -- the network saw each id once, or dropped the duplicate by id -------------------
    network = fetch(
        url,
        "SELECT count(*) AS n, count(*) FILTER (WHERE s.submissions > 1) AS resubmitted, "
        "coalesce(sum(s.submissions - 1), 0) AS dropped, "
        "count(*) FILTER (WHERE m.id IS NULL) AS unknown, "
        "count(*) FILTER (WHERE s.accepted AND m.operator_id IS DISTINCT FROM s.operator_id) AS mismatched, "
        "count(*) FILTER (WHERE NOT s.accepted AND m.status <> 'failed') AS rejected_not_failed "
        "FROM simulator_submissions s LEFT JOIN messages m ON m.id = s.message_id",
    )[0]
    assert network["n"] == MESSAGES, dict(network)  # one row per message id: submitted at least once
    assert network["unknown"] == 0 and network["mismatched"] == 0 and network["rejected_not_failed"] == 0, dict(network)
    # the kills did land mid-flight: live workers took over in-doubt messages of dead ones
    assert taken_over > 0, kills

    # -- campaign counters = counts by status ----------------------------------------
    counted = fetch(url, "SELECT campaign_id, status, count(*) AS n FROM messages GROUP BY campaign_id, status")
    by_campaign: dict[int, Counter] = {}
    for row in counted:
        by_campaign.setdefault(row["campaign_id"], Counter())[row["status"]] = row["n"]
    for campaign in fetch(url, "SELECT * FROM campaigns"):
        counts = by_campaign.get(campaign["id"], Counter())
        for status in MessageStatus:
            assert campaign[f"n_{status.value}"] == counts.get(status.value, 0), (campaign["id"], status, dict(campaign))
        assert campaign["n_pending"] == 0 and campaign["status"] == "done", dict(campaign)

    # -- money: balance + charges = starting balance ---------------------------------
    balance = fetch(url, "SELECT balance FROM accounts")[0]["balance"]
    charged = fetch(
        url,
        "SELECT coalesce(sum(price), 0) AS total FROM messages "
        "WHERE NOT (status = 'failed' OR (status = 'expired' AND sent_at IS NULL))",
    )[0]["total"]
    assert balance + charged == BALANCE_EUR * 10**7, (balance, charged)

    print(
        f"chaos: {MESSAGES} messages final in {took:.1f} s, {len(kills)} kills, worker starts {cluster.starts}; "
        f"statuses {dict(statuses)}; {taken_over} in-doubt messages taken over from dead workers; "
        f"network: {network['resubmitted']} ids resubmitted, "
        f"{network['dropped']} duplicates dropped by id"
    )
