"""Crash safety in the default configuration of each backend, with no `--sim-*` flag but the speed.

- SQLite: `relaybox serve` (API and its engine child) killed with `kill -9`
  and started again; then its engine child alone killed and restarted by
  `serve` itself;
- PostgreSQL: `relaybox serve --no-engine` and two `relaybox worker`s; both
  workers killed and started again, then one killed while the other lives.

Each kill lands while messages wait for their delivery reports (the simulator
at speed 1: reports 2-5 s after submit).  After the restart every message
reaches a final status within seconds, and the books hold: the simulated
network's own record has one row per message (the only ids submitted again are
those a kill left in `sending`, and the network dropped them by id), each
campaign's counters equal its messages' counts by status, and balance +
charges = the starting balance, exactly.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from relaybox.domain.status import FINAL, MessageStatus
from tests import pg
from tests.cli import run_cli
from tests.e2e.conftest import free_port
from tests.e2e.test_engine_process import children_of

SIM_SPEED = "1"  # submit 1 s, delivery reports 2-5 s after it
BALANCE_EUR = 1000
PER_CAMPAIGN = 300
FINAL_WITHIN = 20.0  # seconds from a restart to every message final (reports leased to a dead taker: 10 s)
FINAL_SQL = ", ".join(f"'{s.value}'" for s in FINAL)


class Books:
    """Read-only SQL against the store, on either backend (no parameters: the queries are fixed)."""

    def __init__(self, database_url: str):
        self.url = database_url

    def rows(self, query: str) -> list[dict]:
        if self.url.startswith("sqlite"):
            conn = sqlite3.connect(self.url.split("///", 1)[1], timeout=30)
            conn.row_factory = sqlite3.Row
            try:
                return [dict(r) for r in conn.execute(query).fetchall()]
            finally:
                conn.close()
        return asyncio.run(self._pg(query))

    async def _pg(self, query: str) -> list[dict]:
        conn = await asyncpg.connect(self.url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return [dict(r) for r in await conn.fetch(query)]
        finally:
            await conn.close()

    def one(self, query: str) -> int:
        return int(next(iter(self.rows(query)[0].values())) or 0)

    def count(self, where: str) -> int:
        return self.one(f"SELECT count(*) AS n FROM messages WHERE {where}")

    def sending_ids(self) -> set[int]:
        return {r["id"] for r in self.rows("SELECT id FROM messages WHERE status = 'sending'")}

    def wait_final(self, within: float, why: str) -> float:
        started = time.monotonic()
        while (left := self.count(f"status NOT IN ({FINAL_SQL})")) > 0:
            by_status = self.rows(f"SELECT status, count(*) AS n FROM messages WHERE status NOT IN ({FINAL_SQL}) GROUP BY status")
            assert time.monotonic() - started < within, f"{left} messages not final {within} s after {why}: {by_status}"
            time.sleep(0.1)
        return time.monotonic() - started

    def check(self, messages: int, in_doubt: set[int]) -> Counter:
        """Every message final; the network's record, the counters and the money exact."""
        statuses = Counter({r["status"]: r["n"] for r in self.rows("SELECT status, count(*) AS n FROM messages GROUP BY status")})
        assert sum(statuses.values()) == messages and set(statuses) <= {s.value for s in FINAL}, statuses

        # the simulated network's own record: one row per message id; resubmissions only of in-doubt ids
        network = self.rows(
            "SELECT s.message_id, s.accepted, s.operator_id, s.submissions, m.id AS known, m.operator_id AS ours, "
            "m.status FROM simulator_submissions s LEFT JOIN messages m ON m.id = s.message_id"
        )
        assert len(network) == messages, (len(network), messages)
        assert all(r["known"] is not None for r in network)
        assert [r for r in network if r["accepted"] and r["ours"] != r["operator_id"]] == []
        assert [r for r in network if not r["accepted"] and r["status"] != "failed"] == []
        again = {r["message_id"] for r in network if r["submissions"] > 1}
        assert again <= in_doubt, sorted(again - in_doubt)[:10]
        assert self.one("SELECT count(*) AS n FROM simulator_reports") == 0  # every report delivered and acknowledged

        # campaign counters = counts of its messages by status
        counted: dict[int, Counter] = {}
        for row in self.rows("SELECT campaign_id, status, count(*) AS n FROM messages WHERE campaign_id IS NOT NULL "
                             "GROUP BY campaign_id, status"):
            counted.setdefault(row["campaign_id"], Counter())[row["status"]] = row["n"]
        campaigns = self.rows("SELECT * FROM campaigns")
        assert campaigns
        for campaign in campaigns:
            counts = counted.get(campaign["id"], Counter())
            for status in MessageStatus:
                assert campaign[f"n_{status.value}"] == counts.get(status.value, 0), (campaign["id"], status.value)
            assert campaign["n_pending"] == 0 and campaign["status"] == "done", campaign

        # money: balance + the prices of charged messages = the starting balance, exactly
        balance = self.one("SELECT balance FROM accounts")
        charged = self.one(
            "SELECT coalesce(sum(price), 0) AS total FROM messages "
            "WHERE NOT (status = 'failed' OR (status = 'expired' AND sent_at IS NULL))"
        )
        assert balance + charged == BALANCE_EUR * 10**7, (balance, charged)
        return statuses


def cli(workdir: Path, database_url: str, *args: str) -> str:
    """A one-shot command in the default configuration (no other RELAYBOX_*), in the test process
    (tests/cli.py)."""
    return run_cli(*args, cwd=workdir, env={"RELAYBOX_DATABASE_URL": database_url}, clean=True, check=True).stdout


def spawn(workdir: Path, log: str, *args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "relaybox.cli", *args], cwd=workdir, env=env,
                            stdout=open(workdir / log, "ab"), stderr=subprocess.STDOUT)


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def wait_healthy(base: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, tail(log)
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"not healthy within {timeout} s:\n{tail(log)}")


def wait_unhealthy(base: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
        assert time.monotonic() < deadline, "/healthz still 200 with the engine dead"
        time.sleep(0.05)


def send_campaign(base: str, key: str, n: int, start: int) -> None:
    # numbers from ...0001: the simulator's magic numbers among them (rejected, undelivered, expired, unknown)
    phones = [{"number": 380_970_000_000 + start + i} for i in range(1, n + 1)]
    body = {"sender": "relaybox", "text": f"crash {start}", "phones": phones}
    answer = httpx.post(f"{base}/api/campaigns/sms/send", content=orjson.dumps(body), timeout=60,
                        headers={"X-API-KEY": key, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text


def send_singles(base: str, key: str, n: int, start: int) -> None:
    with httpx.Client(base_url=base, headers={"X-API-KEY": key}, timeout=30) as client:
        for i in range(n):
            answer = client.post("/api/messages/send", json={
                "channels": ["sms"], "phone": {"number": 380_980_000_000 + start + i},
                "sms": {"sender": "relaybox", "text": f"single {start + i}"},
            })
            assert answer.status_code == 200, answer.text


def wait_for_reports_pending(books: Books, rng: random.Random, least: int) -> None:
    """Until at least `least` messages are `sent` (waiting for their delivery reports), then a random moment more."""
    deadline = time.monotonic() + 60
    while books.count("status = 'sent'") < least:
        assert time.monotonic() < deadline, "messages did not reach `sent`"
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.3))


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def test_sqlite_serve_killed_while_reports_are_pending_loses_nothing(tmp_path):
    began = time.monotonic()
    seed = int(os.environ.get("RELAYBOX_CRASH_SEED", time.time_ns() % 1_000_000))
    print(f"crash seed {seed}")
    rng = random.Random(seed)
    database_url = f"sqlite:///{tmp_path / 'relaybox.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RELAYBOX_DATABASE_URL": database_url}
    for name in [n for n in env if n.startswith("RELAYBOX_") and n != "RELAYBOX_DATABASE_URL"]:
        del env[name]  # the default configuration
    books = Books(database_url)
    serve_args = ("serve", "--port", str(port), "--sim-speed", SIM_SPEED)
    log = tmp_path / "serve.log"
    cli(tmp_path, database_url, "migrate")
    key = cli(tmp_path, database_url, "account", "create", "--name", "crash", "--balance", str(BALANCE_EUR)
              ).strip().splitlines()[-1]
    server = spawn(tmp_path, "serve.log", *serve_args, env=env)
    in_doubt: set[int] = set()
    try:
        wait_healthy(base, server, log)
        send_campaign(base, key, PER_CAMPAIGN, 0)
        send_singles(base, key, 20, 0)
        send_campaign(base, key, PER_CAMPAIGN, PER_CAMPAIGN)

        # 1. the whole of `serve` (the API and its engine child) killed while reports are pending
        wait_for_reports_pending(books, rng, PER_CAMPAIGN // 2)
        [child] = children_of(server.pid)
        pending_at_kill = books.count(f"status NOT IN ({FINAL_SQL})")
        os.kill(child, signal.SIGKILL)
        kill(server)
        in_doubt |= books.sending_ids()
        assert pending_at_kill > 0
        server = spawn(tmp_path, "serve.log", *serve_args, env=env)
        wait_healthy(base, server, log)
        took_1 = books.wait_final(FINAL_WITHIN, "serve was started again")

        # 2. the engine child alone killed while reports are pending: `serve` restarts it
        send_campaign(base, key, PER_CAMPAIGN, 2 * PER_CAMPAIGN)
        wait_for_reports_pending(books, rng, PER_CAMPAIGN // 2)
        [child] = children_of(server.pid)
        os.kill(child, signal.SIGKILL)
        in_doubt |= books.sending_ids()
        wait_unhealthy(base)  # seen dead at once (its lease went with it) ...
        wait_healthy(base, server, log)  # ... and restarted by serve
        took_2 = books.wait_final(FINAL_WITHIN, "serve restarted its engine child")
        assert len(children_of(server.pid)) == 1 and children_of(server.pid) != [child]
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(20)
    statuses = books.check(3 * PER_CAMPAIGN + 20, in_doubt)
    print(f"sqlite crash: {pending_at_kill} messages not final at the kill of serve, all final {took_1:.1f} s after "
          f"its restart; {took_2:.1f} s after the child's restart; {len(in_doubt)} in doubt; statuses {dict(statuses)}; "
          f"test {time.monotonic() - began:.1f} s")


pg_only = pytest.mark.skipif(
    pg.unavailable_reason() is not None and not pg.REQUIRED, reason="needs PostgreSQL (RELAYBOX_TEST_POSTGRES_URL)"
)


@pg_only
def test_postgresql_workers_killed_while_reports_are_pending_lose_nothing(tmp_path):
    began = time.monotonic()
    seed = int(os.environ.get("RELAYBOX_CRASH_SEED", time.time_ns() % 1_000_000))
    print(f"crash seed {seed}")
    rng = random.Random(seed)
    name = pg.create_database()
    database_url = pg.url_for(name)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYBOX_")}
    env["RELAYBOX_DATABASE_URL"] = database_url
    books = Books(database_url)
    api = None
    workers: list[subprocess.Popen] = []
    starts = 0

    def start_worker() -> subprocess.Popen:
        nonlocal starts
        starts += 1
        return spawn(tmp_path, f"worker{starts}.log", "worker", "--sim-speed", SIM_SPEED, env=env)

    try:
        cli(tmp_path, database_url, "migrate")
        key = cli(tmp_path, database_url, "account", "create", "--name", "crash", "--balance", str(BALANCE_EUR)
                  ).strip().splitlines()[-1]
        workers = [start_worker(), start_worker()]
        api = spawn(tmp_path, "api.log", "serve", "--no-engine", "--port", str(port), env=env)
        wait_healthy(base, api, tmp_path / "api.log")
        send_campaign(base, key, PER_CAMPAIGN, 0)
        send_singles(base, key, 20, 0)
        send_campaign(base, key, PER_CAMPAIGN, PER_CAMPAIGN)

        # 1. every worker killed while reports are pending; started again
        in_doubt: set[int] = set()
        wait_for_reports_pending(books, rng, PER_CAMPAIGN // 2)
        pending_at_kill = books.count(f"status NOT IN ({FINAL_SQL})")
        for worker in workers:
            kill(worker)
        in_doubt |= books.sending_ids()
        assert pending_at_kill > 0
        workers = [start_worker(), start_worker()]
        wait_healthy(base, api, tmp_path / "api.log")  # an engine is alive again
        took_1 = books.wait_final(FINAL_WITHIN, "the workers were started again")

        # 2. one worker killed while reports are pending; the other lives on, the dead one comes back
        send_campaign(base, key, PER_CAMPAIGN, 2 * PER_CAMPAIGN)
        wait_for_reports_pending(books, rng, PER_CAMPAIGN // 2)
        victim = rng.randrange(2)
        kill(workers[victim])
        in_doubt |= books.sending_ids()
        workers[victim] = start_worker()
        took_2 = books.wait_final(FINAL_WITHIN, "a worker was killed")
        for slot, worker in enumerate(workers):
            assert worker.poll() is None, tail(tmp_path / f"worker{slot}.log")
        statuses = books.check(3 * PER_CAMPAIGN + 20, in_doubt)
    finally:
        for process in [api, *workers]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [api, *workers]:
            if process is not None:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        pg.drop_database(name)
    print(f"postgresql crash: {pending_at_kill} messages not final at the kill of both workers, all final "
          f"{took_1:.1f} s after their restart; {took_2:.1f} s after one worker's kill; {len(in_doubt)} in doubt; "
          f"statuses {dict(statuses)}; test {time.monotonic() - began:.1f} s")
