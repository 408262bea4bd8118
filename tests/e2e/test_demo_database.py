"""`relaybox demo` only ever touches its own demo database: its key is public, so it must never land
in the store RELAYBOX_DATABASE_URL names, nor in a file it did not make."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest

from relaybox.store.demo_mark import DEMO_KEY
from tests import pg
from tests.cli import run_cli
from tests.conftest import BACKENDS
from tests.e2e.conftest import free_port


def demo(cwd: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "relaybox.cli", "demo", "--port", str(free_port()), "--exit-after", "0.5", *args],
        cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )


def files_digest(path: Path) -> dict[str, str]:
    """The database file and its WAL and shared-memory files, byte for byte."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in path.parent.glob(path.name + "*")}


@pytest.fixture(params=BACKENDS)
def operators_database(request, tmp_path):
    """An operator's store with one account in it, as `relaybox account create` leaves it: (URL, a reader)."""
    if request.param == "sqlite":
        path = tmp_path / "prod" / "relaybox.db"
        path.parent.mkdir()
        url = f"sqlite:///{path}"
    else:
        request.getfixturevalue("postgres_database")
        name = pg.create_database()
        url = pg.url_for(name)
    for command in (["migrate"], ["account", "create", "--name", "prod"]):
        run_cli(*command, cwd=tmp_path, env={"RELAYBOX_DATABASE_URL": url}, check=True)
    yield url
    if request.param == "postgresql":
        pg.drop_database(name)


async def accounts_and_keys(url: str) -> tuple[list, list]:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return (conn.execute("SELECT id, name, balance, status FROM accounts ORDER BY id").fetchall(),
                    conn.execute("SELECT id, account_id, key_hash FROM api_keys ORDER BY id").fetchall())
        finally:
            conn.close()
    conn = await asyncpg.connect(url)
    try:
        return ([tuple(r) for r in await conn.fetch("SELECT id, name, balance, status FROM accounts ORDER BY id")],
                [tuple(r) for r in await conn.fetch("SELECT id, account_id, key_hash FROM api_keys ORDER BY id")])
    finally:
        await conn.close()


async def test_demo_leaves_the_configured_database_untouched(operators_database, tmp_path):
    before = await accounts_and_keys(operators_database)
    digest = files_digest(Path(operators_database.removeprefix("sqlite:///"))) if operators_database.startswith("sqlite") else None
    workdir = tmp_path / "demo"
    workdir.mkdir()
    result = demo(workdir, env={"RELAYBOX_DATABASE_URL": operators_database})
    assert result.returncode == 0, result.stdout + result.stderr
    assert await accounts_and_keys(operators_database) == before
    assert "relaybox-demo.db" in result.stdout
    if digest is not None:
        assert files_digest(Path(operators_database.removeprefix("sqlite:///"))) == digest
    # the demo ran on its own file, with its key
    assert (workdir / "relaybox-demo.db").exists()
    demo_accounts, _ = await accounts_and_keys(f"sqlite:///{workdir / 'relaybox-demo.db'}")
    assert [a[1] for a in demo_accounts] == ["Demo"]


def test_demo_refuses_a_database_it_did_not_make(tmp_path):
    prod = tmp_path / "relaybox.db"
    for command in (["migrate"], ["account", "create", "--name", "prod"]):
        run_cli(*command, cwd=tmp_path, env={"RELAYBOX_DATABASE_URL": f"sqlite:///{prod}"}, check=True)
    digest = files_digest(prod)
    for given in (str(prod), f"sqlite:///{prod}"):
        result = demo(tmp_path, "--demo-database", given, env={})
        assert result.returncode == 2
        assert result.stderr.strip() == (f"relaybox demo: {prod} is not a database made by `relaybox demo`; "
                                         "give it a file of its own with --demo-database")
    assert files_digest(prod) == digest
    # its own file it uses again, run after run
    for _ in range(2):
        assert demo(tmp_path, "--demo-database", "mine.db", env={}).returncode == 0
    conn = sqlite3.connect(tmp_path / "mine.db")
    assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (1,)
    conn.close()


def test_the_demo_key_works_on_the_demo(tmp_path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "relaybox.cli", "demo", "--port", str(port), "--exit-after", "20"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        while "demo API key" not in line:
            line = process.stdout.readline()
            assert line, "the demo exited"
        r = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", json={"api_key": DEMO_KEY})
        token = r.json()["bearer"]
        assert httpx.get(f"http://127.0.0.1:{port}/api/accounts/balance",
                         headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
