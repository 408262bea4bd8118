"""Supervision: `relaybox serve` restarts a dead engine child, and `/healthz` tells whether the platform works.

- the engine child of a live `serve`, killed with `kill -9`, is restarted after
  the backoff (set to a few seconds here, so that the gap can be seen) and the
  next send reaches its final status; while it is dead `/healthz` answers 503
  naming the engine, before and after it 200;
- `serve --no-engine` on PostgreSQL is healthy only while a `relaybox worker`
  lives (its heartbeat and lease in the database), and answers 503 while the
  database does not accept connections.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests import pg
from tests.cli import run_cli
from tests.e2e.conftest import free_port
from tests.e2e.test_engine_process import alive, children_of

SEND = {"channels": ["sms"], "phone": {"number": 380971234567}, "sms": {"sender": "relaybox", "text": "hi"}}


def health(base: str) -> tuple[int, dict]:
    answer = httpx.get(f"{base}/healthz", timeout=5)
    return answer.status_code, answer.json()


def wait_health(base: str, status: int, timeout: float = 60, process: subprocess.Popen | None = None) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None:
            assert process.poll() is None, "the server exited"
        try:
            last = health(base)
            if last[0] == status:
                return last[1]
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.05)
    raise AssertionError(f"/healthz did not answer {status} within {timeout} s; last: {last}")


def check_shape(body: dict) -> None:
    """The documented body: status, reason, database, engine (heartbeat age), connectors."""
    assert set(body) >= {"status", "reason", "database", "engine", "connectors"}, body
    assert body["database"]["state"] in ("ok", "unreachable")
    assert isinstance(body["engine"]["alive"], bool)
    age = body["engine"]["heartbeat_age_seconds"]
    assert age is None or (isinstance(age, (int, float)) and age >= 0)
    for connector in body["connectors"]:
        assert set(connector) >= {"name", "kind", "state", "bound", "alive", "age_seconds"}, connector


def spawn(workdir: Path, log: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "relaybox.cli", *args], cwd=workdir, env={**os.environ, **(env or {})},
        stdout=open(workdir / log, "ab"), stderr=subprocess.STDOUT,
    )


def cli(workdir: Path, database_url: str, *args: str) -> str:
    """A one-shot command, in the test process (tests/cli.py)."""
    return run_cli(*args, cwd=workdir, env={"RELAYBOX_DATABASE_URL": database_url}, check=True).stdout


def test_a_killed_engine_child_is_restarted_and_healthz_says_when_it_is_dead(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'relaybox.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # a restart delay long enough to see /healthz while the engine is dead
    server = spawn(tmp_path, "serve.log", "serve", "--port", str(port), "--database-url", database_url, "--sim-speed", "0",
                   env={"RELAYBOX_ENGINE_RESTART_DELAY": "3"})
    try:
        body = wait_health(base, 200, process=server)
        check_shape(body)
        assert body["status"] == "ok" and body["reason"] is None and body["database"]["state"] == "ok", body
        assert body["engine"]["alive"] is True and body["engine"]["heartbeat_age_seconds"] < 10, body
        assert [c["name"] for c in body["connectors"] if c["alive"]] == ["simulator"], body
        key = cli(tmp_path, database_url, "account", "create", "--name", "sup").strip().splitlines()[-1]
        assert key not in str(body)

        [child] = children_of(server.pid)
        os.kill(child, signal.SIGKILL)
        body = wait_health(base, 503, timeout=10, process=server)  # at once: its lease died with it
        check_shape(body)
        assert body["status"] == "unavailable" and "engine" in body["reason"], body
        assert body["engine"]["alive"] is False and body["database"]["state"] == "ok", body

        body = wait_health(base, 200, timeout=60, process=server)  # restarted after the backoff
        assert body["engine"]["alive"] is True and body["engine"]["restarts"] == 1, body
        children = children_of(server.pid)
        assert len(children) == 1 and children[0] != child, children
        log = (tmp_path / "serve.log").read_text(errors="replace")
        assert "engine process" in log and "killed by signal 9" in log and "restarted" in log, log[-2000:]

        with httpx.Client(base_url=base, headers={"X-API-KEY": key}) as client:
            assert client.post("/api/messages/send", json=SEND).status_code == 200
            deadline = time.monotonic() + 20
            while (status := client.get("/api/messages").json()["data"][0]["status"]) != "delivered":
                assert time.monotonic() < deadline, f"the restarted engine did not deliver: {status}"
                time.sleep(0.1)

        # a clean stop: the child goes with the server and is not restarted
        new_child = children[0]
        server.terminate()
        server.wait(20)
        deadline = time.monotonic() + 10
        while alive(new_child):
            assert time.monotonic() < deadline, "the engine child outlived its server"
            time.sleep(0.1)
    finally:
        if server.poll() is None:
            server.kill()


pg_only = pytest.mark.skipif(
    pg.unavailable_reason() is not None and not pg.REQUIRED, reason="needs PostgreSQL (RELAYBOX_TEST_POSTGRES_URL)"
)


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(pg.ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pg_only
def test_no_engine_api_is_healthy_only_with_a_live_worker_and_a_reachable_database(tmp_path):
    name = pg.create_database()
    database_url = pg.url_for(name)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cli(tmp_path, database_url, "migrate")
    api = spawn(tmp_path, "api.log", "serve", "--no-engine", "--port", str(port), "--database-url", database_url)
    worker = None
    try:
        body = wait_health(base, 503, process=api)  # up, but no engine anywhere
        check_shape(body)
        assert body["database"]["state"] == "ok" and body["engine"]["alive"] is False, body
        assert "engine" in body["reason"], body

        worker = spawn(tmp_path, "worker.log", "worker", "--database-url", database_url, "--sim-speed", "0")
        body = wait_health(base, 200, process=api)
        check_shape(body)
        assert body["engine"]["alive"] is True and body["engine"]["workers"] == 1, body
        assert [c["name"] for c in body["connectors"] if c["alive"]] == ["simulator"], body

        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        body = wait_health(base, 503, timeout=10, process=api)  # its advisory lock went with it
        assert body["engine"]["alive"] is False and "engine" in body["reason"], body
        worker = spawn(tmp_path, "worker.log", "worker", "--database-url", database_url, "--sim-speed", "0")
        wait_health(base, 200, process=api)

        # the database refuses connections (and drops the ones it had): 503 naming the database
        asyncio.run(_admin(
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        ))
        try:
            body = wait_health(base, 503, timeout=15, process=api)
            check_shape(body)
            assert body["database"]["state"] == "unreachable" and "database" in body["reason"], body
        finally:
            asyncio.run(_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        wait_health(base, 200, timeout=30, process=api)  # the worker reconnected and beats again
    finally:
        for process in (api, worker):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (api, worker):
            if process is not None:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        pg.drop_database(name)
