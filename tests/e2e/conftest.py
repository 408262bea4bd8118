"""A real relaybox server process on a free port, with a fresh SQLite file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


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

    def cli(self, *args: str) -> str:
        """Run a `relaybox` command against this server's database; returns stdout."""
        result = subprocess.run(
            [sys.executable, "-m", "relaybox.cli", *args],
            cwd=self.workdir,
            env={**os.environ, "RELAYBOX_DATABASE_URL": self.database_url},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout

    def create_account(self, *, balance: str = "100", currency: str = "EUR", api_key: str | None = None) -> str:
        args = ["account", "create", "--name", "e2e", "--balance", balance, "--currency", currency]
        if api_key:
            args += ["--api-key", api_key]
        return self.cli(*args).strip().splitlines()[-1]


def start_server(workdir: Path, *extra: str, env: dict | None = None) -> LiveServer:
    port = free_port()
    database_url = f"sqlite:///{workdir / 'relaybox.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "relaybox.cli", "serve", "--port", str(port), "--database-url", database_url, *extra],
        cwd=workdir,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stdout.read().decode(errors='replace')}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return LiveServer(base, database_url, workdir, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not become ready")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """One server per test module, simulator at full speed (`--sim-speed 0`)."""
    server = start_server(tmp_path_factory.mktemp("live"), "--sim-speed", "0")
    yield server
    stop_server(server)
