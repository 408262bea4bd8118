"""A real relaybox server on a free port: on a fresh SQLite file (one process, API and engine), or
on a fresh PostgreSQL database scaled out (`serve --no-engine --workers 2` and a `relaybox worker`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests import pg
from tests.cli import run_cli
from tests.conftest import BACKENDS, TEST_ALLOW_NETWORKS

#: What every server and CLI run of the e2e tests gets unless a test says otherwise: their webhook
#: receivers listen on 127.0.0.1, which deliveries refuse by default.
TEST_ENV = {"RELAYBOX_WEBHOOK_ALLOW_NETWORKS": TEST_ALLOW_NETWORKS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    workdir: Path
    process: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)  # engine-only processes, if any
    database: str | None = None  # the PostgreSQL database to drop afterwards
    env: dict = field(default_factory=dict)  # the environment the server was started with (beyond TEST_ENV)

    def cli(self, *args: str) -> str:
        """Run a `relaybox` command against this server's database (in this process: tests/cli.py);
        returns stdout."""
        return run_cli(*args, cwd=self.workdir, check=True,
                       env={**TEST_ENV, **self.env, "RELAYBOX_DATABASE_URL": self.database_url}).stdout

    def create_account(
        self, *, balance: str = "100", currency: str = "EUR", api_key: str | None = None, webhook_url: str | None = None
    ) -> str:
        args = ["account", "create", "--name", "e2e", "--balance", balance, "--currency", currency]
        if api_key:
            args += ["--api-key", api_key]
        if webhook_url:
            args += ["--webhook-url", webhook_url]
        return self.cli(*args).strip().splitlines()[-1]


def start_server(workdir: Path, *extra: str, env: dict | None = None, backend: str = "sqlite") -> LiveServer:
    """`extra` are flags of `serve` (and, on PostgreSQL, of `worker` too: the --sim-* ones); `env`
    is added to TEST_ENV (and may override it)."""
    env = {**TEST_ENV, **(env or {})}
    port = free_port()
    database = None
    workers: list[subprocess.Popen] = []
    if backend == "sqlite":
        database_url = f"sqlite:///{workdir / 'relaybox.db'}"
        serve = ["serve", "--port", str(port), "--database-url", database_url, *extra]
    else:
        database = pg.create_database()
        database_url = pg.url_for(database)
        run_cli("migrate", "--database-url", database_url, cwd=workdir, check=True)
        serve = ["serve", "--port", str(port), "--database-url", database_url, "--no-engine", "--workers", "2", *extra]
        sim_flags = [a for i, a in enumerate(extra) if a.startswith("--sim") or (i and extra[i - 1].startswith("--sim"))]
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "relaybox.cli", "worker", "--database-url", database_url, *sim_flags],
            cwd=workdir, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
    process = subprocess.Popen(
        [sys.executable, "-m", "relaybox.cli", *serve],
        cwd=workdir,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # healthy once the engine (serve's child, or the worker) is up too
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stdout.read().decode(errors='replace')}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return LiveServer(base, database_url, workdir, process, workers, database, env)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not become ready")


def stop_server(server: LiveServer) -> None:
    for process in [server.process, *server.workers]:
        process.terminate()
    for process in [server.process, *server.workers]:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    if server.database:
        pg.drop_database(server.database)


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request, tmp_path_factory):
    """One server per backend and test process, simulator at full speed (`--sim-speed 0`), shared by
    the modules that ask for it: each of their tests works in accounts of its own (tenant isolation,
    which a shared server tests as a side effect).  A server on PostgreSQL is four processes (API
    ×2, worker, migrate) that take ~5 s of CPU to start: a dozen modules used to start their own."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres_database")  # skips (or fails) without a server
    server = start_server(tmp_path_factory.mktemp("live"), "--sim-speed", "0", backend=request.param)
    yield server
    stop_server(server)
