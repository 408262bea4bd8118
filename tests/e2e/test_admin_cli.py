"""`relaybox key …` and `relaybox account …` as an operator runs them (in the test process:
tests/cli.py), checked over real HTTP against a live server on each backend (PostgreSQL: two API
processes and a worker), and the start-up refusals of a short JWT secret (real processes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from decimal import Decimal

import httpx
import pytest

from tests.cli import run_cli
from tests.conftest import BACKENDS
from tests.e2e.conftest import free_port, start_server, stop_server

#: The servers' auth cache time (RELAYBOX_AUTH_CACHE_SECONDS): small, so that the tests wait little.
CACHE = 0.5
WITHIN = CACHE + 5.0


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    if request.param == "postgresql":
        request.getfixturevalue("postgres_database")
    live = start_server(tmp_path_factory.mktemp("admin"), "--sim-speed", "0", backend=request.param,
                        env={"RELAYBOX_AUTH_CACHE_SECONDS": str(CACHE)})
    yield live
    stop_server(live)


def run(server, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = run_cli(*args, cwd=server.workdir, env={"RELAYBOX_DATABASE_URL": server.database_url, "COLUMNS": "200"})
    if check:
        assert result.returncode == 0, result.stderr
    return result


def new_account(server, balance: str = "100") -> tuple[int, str]:
    out = run(server, "account", "create", "--name", "ops-e2e", "--balance", balance).stdout
    return int(re.search(r"account (\d+) created", out).group(1)), out.strip().splitlines()[-1]


def login(server, key: str) -> str:
    r = httpx.post(f"{server.base_url}/api/auth/login", json={"api_key": key})
    assert r.status_code == 200, r.text
    return r.json()["bearer"]


def answers(server, headers: dict) -> tuple[int, int]:
    """(One API balance, refresh) status codes for these credentials."""
    balance = httpx.get(f"{server.base_url}/api/accounts/balance", headers=headers)
    refresh = httpx.post(f"{server.base_url}/api/auth/refresh", headers=headers)
    return balance.status_code, refresh.status_code


def eventually(check, seconds: float = WITHIN) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def key_rows(server, account_id: int, *flags: str) -> dict[int, list[str]]:
    """`key list --account N` parsed: key id -> the row's cells."""
    out = run(server, "key", "list", "--account", str(account_id), *flags).stdout
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 7 and cells[0].isdigit():
            rows[int(cells[0])] = cells
    return rows


def test_key_create_list_revoke(server):
    account_id, first = new_account(server)
    out = run(server, "key", "create", "--account", str(account_id), "--label", "billing job").stdout
    second = out.strip().splitlines()[-1]
    second_id = int(re.search(r"key (\d+) created", out).group(1))
    assert second.startswith("live_") and second != first
    rows = key_rows(server, account_id)
    assert len(rows) == 2 and rows[second_id][3] == "billing job"
    assert rows[second_id][4] == f"{second[:12]}…{second[-4:]}" and second not in str(rows)  # never the key
    assert rows[second_id][6] == "active"

    token = login(server, second)
    assert answers(server, bearer(token)) == (200, 200)
    assert "revoked" in run(server, "key", "revoke", str(second_id)).stdout
    eventually(lambda: answers(server, bearer(token)) == (401, 401))
    # keys and the keys of tokens are cached apart, per API process: the key ends within the cache time too
    eventually(lambda: answers(server, {"X-API-KEY": second}) == (401, 401))
    assert answers(server, {"X-API-KEY": first}) == (200, 200)  # the account's other key is untouched
    assert second_id not in key_rows(server, account_id)
    assert key_rows(server, account_id, "--all")[second_id][6] == "revoked"
    assert run(server, "key", "revoke", "999999", check=False).returncode == 1


def test_key_rotate(server):
    account_id, key = new_account(server)
    token = login(server, key)
    out = run(server, "key", "rotate", key).stdout  # by the key itself; no grace: the old one ends now
    new = out.strip().splitlines()[-1]
    eventually(lambda: answers(server, bearer(token)) == (401, 401))
    # the key itself may still be trusted from the lookup `login` cached just before the rotation (the
    # server caches keys and the keys of tokens apart): it too ends within the cache time
    eventually(lambda: answers(server, {"X-API-KEY": key}) == (401, 401))
    assert answers(server, bearer(login(server, new))) == (200, 200)

    # with a grace period the old key and its tokens keep working through it
    new_token = login(server, new)
    out = run(server, "key", "rotate", new, "--grace", "600").stdout
    newest = out.strip().splitlines()[-1]
    time.sleep(WITHIN)  # past the cache time: still working, because the grace period has not ended
    assert answers(server, bearer(new_token)) == (200, 200)
    assert answers(server, {"X-API-KEY": newest}) == (200, 200)
    states = [cells[6] for cells in key_rows(server, account_id).values()]
    assert sorted(s.split(" ")[0] for s in states) == ["active", "until"]
    rotated_again = run(server, "key", "rotate", key, check=False)  # a revoked key
    assert rotated_again.returncode == 2 and "revoked" in rotated_again.stderr


def test_account_list_block_unblock(server):
    account_id, key = new_account(server, balance="42.5")
    listing = run(server, "account", "list").stdout
    row = next(line for line in listing.splitlines() if re.match(rf"\W*{account_id}\s*│", line))
    assert "ops-e2e" in row and "active" in row and "42.5000000" in row
    token = login(server, key)
    assert "blocked" in run(server, "account", "block", str(account_id)).stdout
    eventually(lambda: answers(server, bearer(token)) == (403, 403))
    # through its key, on either API process (each has its own cache, maybe filled before the block)
    eventually(lambda: httpx.get(f"{server.base_url}/rest/common/balance",
                                 headers={"X-API-KEY": key}).json()["error"] == 2)
    assert "blocked" in next(line for line in run(server, "account", "list").stdout.splitlines()
                             if re.match(rf"\W*{account_id}\s*│", line))
    run(server, "account", "unblock", str(account_id))
    eventually(lambda: answers(server, bearer(token)) == (200, 200))
    assert run(server, "account", "block", "999999", check=False).returncode == 1


def test_account_top_up_is_exact(server):
    account_id, key = new_account(server, balance="0.1")
    run(server, "account", "top-up", str(account_id), "0.2", "--by", "alice")
    out = run(server, "account", "top-up", str(account_id), "0.0000001", "--note", "smallest unit").stdout
    assert "balance 0.3000001" in out
    balance = httpx.get(f"{server.base_url}/api/accounts/balance", headers={"X-API-KEY": key}).json()["data"]["balance"]
    assert Decimal(str(balance)) == Decimal("0.3000001")
    legacy = httpx.get(f"{server.base_url}/rest/common/balance", headers={"X-API-KEY": key}).json()
    assert legacy["amount"] == "0.3000001"

    for garbage in ("0.1e1", "1,5", "-5", "0", "NaN", "inf", "0.00000001", "", " 5", "5 EUR", "0x10", "١٢"):
        refused = run(server, "account", "top-up", str(account_id), "--", garbage, check=False)  # "--": "-5" is no flag
        assert refused.returncode == 2, (garbage, refused.stdout + refused.stderr)
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr  # one line, no traceback
    refused = run(server, "account", "top-up", str(account_id), "0.1e1", check=False)
    assert (refused.returncode, refused.stderr.strip()) == (2, "'0.1e1' is not an amount: write digits with at most one dot, e.g. 25 or 12.50")
    assert run(server, "account", "top-up", "999999", "5", check=False).returncode == 1

    ledger = run(server, "account", "ledger", str(account_id)).stdout
    lines = [line for line in ledger.splitlines() if "top-up" in line]
    assert len(lines) == 2  # nothing recorded for the refused ones
    assert "0.0000001" in lines[0] and "0.3000001" in lines[0] and "smallest unit" in lines[0]
    assert "0.2000000" in lines[1] and "0.3000000" in lines[1] and "alice" in lines[1]
    balance = httpx.get(f"{server.base_url}/api/accounts/balance", headers={"X-API-KEY": key}).json()["data"]["balance"]
    assert Decimal(str(balance)) == Decimal("0.3000001")


def test_every_api_process_accepts_the_others_tokens(server):
    """On PostgreSQL two API processes share the port: the generated secret is one for both."""
    _, key = new_account(server)
    for _ in range(20):  # new connections: spread over both processes
        assert answers(server, bearer(login(server, key))) == (200, 200)


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["demo", "--exit-after", "1"]])
def test_a_short_jwt_secret_is_refused_at_start(tmp_path, command):
    port = ["--port", str(free_port())] if command[0] != "worker" else []
    result = subprocess.run(
        [sys.executable, "-m", "relaybox.cli", *command, *port], cwd=tmp_path, capture_output=True, text=True,
        timeout=30, env={**os.environ, "RELAYBOX_JWT_SECRET": "short", "RELAYBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "relaybox: the JWT secret from RELAYBOX_JWT_SECRET is 5 bytes; it must be at least 32 "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
    )
