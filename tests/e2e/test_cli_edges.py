"""The command line's rough edges, on real stores (SQLite and PostgreSQL); `serve` and `demo`, and the
store commands as a person types them in an empty folder, as real processes, the other one-shot
commands in the test process (tests/cli.py):

- `relaybox demo` / `serve` on a busy port: one line, exit status 1, nothing created, no hang;
- `serve` and `demo` print "listening on http://HOST:PORT" once they answer;
- `relaybox migrate` says what it did: from an empty database, from which revision to which, or
  that it was already at the newest;
- the commands that read or change the store never create one: on a missing file, a database
  without relaybox's tables or at an older revision, a missing PostgreSQL database, they print one
  line saying to run `relaybox migrate` or pass --database-url, exit 1, and leave it as it was.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import select
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from relaybox.store.db import Database
from relaybox.store.migrate import alembic_config, upgrade
from tests import pg
from tests.cli import run_cli
from tests.e2e.conftest import free_port, start_server, stop_server

SCRIPTS = ScriptDirectory.from_config(alembic_config())
HEAD = SCRIPTS.get_current_head()
PREVIOUS = SCRIPTS.get_revision(HEAD).down_revision  # an older schema, as a store left by an older relaybox

#: Every command that reads or changes the store without creating it.
STORE_COMMANDS = [
    ["webhooks"], ["connectors"],
    ["key", "list", "--account", "1"], ["key", "create", "--account", "1"], ["key", "revoke", "1"], ["key", "rotate", "1"],
    ["account", "list"], ["account", "create", "--name", "x"], ["account", "block", "1"], ["account", "unblock", "1"],
    ["account", "top-up", "1", "5"], ["account", "ledger", "1"], ["account", "limits", "1"], ["account", "webhook", "1"],
]


def relaybox(cwd: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """A real `python -m relaybox.cli` process, in the default configuration (no RELAYBOX_*): for
    what listens (`serve`, `demo`), and to keep the console entry point as a process covered."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RELAYBOX_")}
    return subprocess.run([sys.executable, "-m", "relaybox.cli", *args], cwd=cwd, env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def invoke(*args: str) -> subprocess.CompletedProcess:
    """A one-shot command in the test process (tests/cli.py)."""
    return run_cli(*args, env={"COLUMNS": "200"})


def one_line(text: str) -> str:
    assert "Traceback" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def digest(path: Path) -> tuple[str, bytes]:
    """The database file's content, and what its write-ahead log holds (a read-only look at a WAL
    database may leave SQLite's empty -wal and -shm bookkeeping files, never data)."""
    wal = path.with_name(path.name + "-wal")
    return hashlib.sha256(path.read_bytes()).hexdigest(), wal.read_bytes() if wal.exists() else b""


def postgres_or_skip() -> None:
    reason = pg.unavailable_reason()
    if reason:
        if pg.REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)


# --- ports and listening -------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_busy_port_is_one_line_and_exit_1(tmp_path, command):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = (["demo", "--demo-database", str(tmp_path / "demo.db"), "--exit-after", "30"] if command == "demo"
                else ["serve", "--database-url", f"sqlite:///{tmp_path / 'relaybox.db'}"])
        result = relaybox(tmp_path, *args, "--port", str(port))
    assert result.returncode == 1, result.stdout + result.stderr
    assert one_line(result.stderr) == (f"relaybox {command}: cannot listen on http://127.0.0.1:{port}: "
                                       "address already in use; another server is using it: pick another with --port")
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no database, no secret file


def test_serve_prints_where_it_listens(tmp_path):
    server = start_server(tmp_path, "--sim-speed", "0")
    try:
        lines, deadline = [], time.monotonic() + 30
        while time.monotonic() < deadline and not any("listening on" in line for line in lines):
            if select.select([server.process.stdout], [], [], 1)[0]:
                lines.append(server.process.stdout.readline().decode())
        assert f"relaybox serve listening on {server.base_url}\n" in lines, lines
    finally:
        stop_server(server)


def test_demo_prints_where_it_listens(tmp_path):
    port = free_port()
    result = relaybox(tmp_path, "demo", "--port", str(port), "--exit-after", "0.5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"relaybox demo listening on http://127.0.0.1:{port}" in result.stdout.splitlines()
    assert f"export RELAYBOX_URL=http://127.0.0.1:{port} RELAYBOX_API_KEY=" in result.stdout


# --- migrate ---------------------------------------------------------------------------------------

def test_migrate_reports_what_it_did_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'relaybox.db'}"
    created = invoke("migrate", "--database-url", url)
    assert created.returncode == 0, created.stdout + created.stderr
    assert one_line(created.stdout) == f"{url}: created relaybox's tables, from an empty database to revision {HEAD}"
    again = invoke("migrate", "--database-url", url)
    assert one_line(again.stdout) == f"{url}: already at revision {HEAD}, the newest; nothing to do"

    older = f"sqlite:///{tmp_path / 'older.db'}"
    migrate_to(older, PREVIOUS)
    upgraded = invoke("migrate", "--database-url", older)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert one_line(upgraded.stdout) == f"{older}: upgraded from revision {PREVIOUS} to revision {HEAD}"

    missing_folder = invoke("migrate", "--database-url", f"sqlite:///{tmp_path / 'nowhere' / 'relaybox.db'}")
    assert missing_folder.returncode == 1
    assert "there is no folder" in one_line(missing_folder.stderr)


def test_migrate_reports_what_it_did_on_postgresql():
    postgres_or_skip()
    name = pg.create_database()
    try:
        url = pg.url_for(name)
        shown = url.replace(":" + (url.split("@")[0].split(":")[2] if url.count(":") > 3 else "\0"), ":***")
        created = invoke("migrate", "--database-url", url)
        assert created.returncode == 0, created.stdout + created.stderr
        assert one_line(created.stdout) == f"{shown}: created relaybox's tables, from an empty database to revision {HEAD}"
        assert one_line(invoke("migrate", "--database-url", url).stdout) == \
            f"{shown}: already at revision {HEAD}, the newest; nothing to do"
    finally:
        pg.drop_database(name)
    gone = invoke("migrate", "--database-url", pg.url_for(name))
    assert gone.returncode == 1
    assert one_line(gone.stderr).startswith(f"relaybox migrate: database '{name}' does not exist")


def migrate_to(url: str, revision: str) -> None:
    async def run() -> None:
        db = Database(url)
        try:
            await upgrade(db, revision)
        finally:
            await db.dispose()

    asyncio.run(run())


# --- commands that need a store --------------------------------------------------------------------

@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_a_store_command_never_creates_a_database(tmp_path, command):
    missing = tmp_path / "missing.db"
    result = invoke(*command, "--database-url", f"sqlite:///{missing}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert one_line(result.stderr) == (f"relaybox: no database at {missing}: run `relaybox migrate` to create or "
                                       "upgrade it, or pass --database-url (or RELAYBOX_DATABASE_URL)")
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []

    foreign = tmp_path / "other.db"  # a SQLite file, but not relaybox's
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    before = digest(foreign)
    result = invoke(*command, "--database-url", f"sqlite:///{foreign}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert one_line(result.stderr) == (f"relaybox: sqlite:///{foreign} has no relaybox tables: run `relaybox migrate` "
                                       "to create or upgrade it, or pass --database-url (or RELAYBOX_DATABASE_URL)")
    assert digest(foreign) == before


@pytest.fixture(scope="module")
def older_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("older") / "relaybox.db"
    migrate_to(f"sqlite:///{path}", PREVIOUS)
    return path


@pytest.mark.parametrize("command", [["webhooks"], ["account", "create", "--name", "x"], ["key", "list", "--account", "1"]],
                         ids=" ".join)
def test_a_store_command_refuses_an_older_schema(older_store, command):
    before = digest(older_store)
    result = invoke(*command, "--database-url", f"sqlite:///{older_store}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert one_line(result.stderr) == (f"relaybox: sqlite:///{older_store} is at revision {PREVIOUS}, this relaybox "
                                       f"needs {HEAD}: run `relaybox migrate`")
    assert digest(older_store) == before


def test_a_store_command_on_postgresql_without_the_database_or_its_tables():
    postgres_or_skip()
    name = pg.create_database()
    try:
        for command in (["webhooks"], ["account", "create", "--name", "x"]):
            result = invoke(*command, "--database-url", pg.url_for(name))
            assert result.returncode == 1, result.stdout + result.stderr
            assert "has no relaybox tables: run `relaybox migrate`" in one_line(result.stderr)
    finally:
        pg.drop_database(name)
    result = invoke("account", "list", "--database-url", pg.url_for(name))
    assert result.returncode == 1
    assert one_line(result.stderr).startswith(f"relaybox: database '{name}' does not exist")


def test_the_default_database_is_not_created_by_a_store_command(tmp_path):
    """As a person types it, in a folder with no store: `relaybox connectors`, `relaybox webhooks`."""
    for command in (["connectors"], ["webhooks"]):
        result = relaybox(tmp_path, *command)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "relaybox migrate" in one_line(result.stderr)
    assert list(tmp_path.iterdir()) == []
