"""A JWT is only as alive as its key and its account; keys and balances change from the services and
from SQL alike; the JWT secret is refused when short and never kept in the database. Both backends."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from datetime import timedelta
from decimal import Decimal

import jwt
import pytest
from sqlalchemy import select, text

from relaybox.api.app import create_app
from relaybox.config import Settings
from relaybox.domain.money import from_units
from relaybox.errors import ValidationFailed
from relaybox.services import admin
from relaybox.services.jwt_keys import SECRET_FILE, SecretError, load_secret
from relaybox.store.db import Database
from relaybox.store.migrate import upgrade
from relaybox.store.tables import account_ledger, settings as settings_table
from tests.factories import DELIVERED, TEST_JWT_SECRET, make_account

#: Small, so that the tests wait little; the default (5 s) is the same code with a longer wait.
CACHE = 0.3
#: How long after a change it must show: the cache time and a generous margin for a busy machine.
WITHIN = CACHE + 4.0

#: A rotation's grace period: long enough for a few requests on a busy machine.
GRACE = 4.0

SEND = "/api/messages/send"


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(database_url=database_url, sim_speed=0, jwt_secret=TEST_JWT_SECRET, auth_cache_seconds=CACHE)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client, key: str) -> str:
    r = await client.post("/api/auth/login", json={"api_key": key})
    assert r.status_code == 200, r.text
    return r.json()["bearer"]


async def statuses(client, headers) -> tuple[int, int, int]:
    """What a token (or key) gets from a One API read, the hot send path, and refresh."""
    balance = await client.get("/api/accounts/balance", headers=headers)
    send = await client.post(SEND, headers=headers, json={
        "channels": ["sms"], "phone": {"number": DELIVERED}, "sms": {"sender": "relaybox", "text": f"t{time.monotonic_ns()}"},
    })
    refresh = await client.post("/api/auth/refresh", headers=headers)
    return balance.status_code, send.status_code, refresh.status_code


async def within(seconds: float, predicate) -> float:
    """Seconds until `predicate()` holds; AssertionError if it does not within `seconds`."""
    start = time.monotonic()
    while not await predicate():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def sql(platform, statement: str, **params) -> None:
    async with platform.db.write() as conn:
        await conn.execute(text(statement), params)


async def test_a_revoked_keys_tokens_stop_with_it(client, app_platform):
    account_id, key = await make_account(app_platform)
    _, other_key = await make_account(app_platform)
    token = await login(client, key)
    refreshed = (await client.post("/api/auth/refresh", headers=bearer(token))).json()["bearer"]
    other = await login(client, other_key)
    assert await statuses(client, bearer(token)) == (200, 200, 200)
    assert await statuses(client, bearer(refreshed)) == (200, 200, 200)
    # revoked in SQL, as an operator without the CLI would: state lives in the database
    await sql(app_platform, "UPDATE api_keys SET revoked_at = :now WHERE account_id = :a",
              now=app_platform.clock(), a=account_id)

    async def refused():
        return await statuses(client, bearer(token)) == (401, 401, 401)

    await within(WITHIN, refused)
    assert await statuses(client, bearer(refreshed)) == (401, 401, 401)
    assert await statuses(client, {"X-API-KEY": key}) == (401, 401, 401)
    assert await statuses(client, bearer(other)) == (200, 200, 200)  # another account's token lives on


async def test_refresh_never_outlives_the_key(client, app_platform):
    account_id, key = await make_account(app_platform)
    token = await login(client, key)
    record = await admin.find_key(app_platform, key)
    await admin.revoke_key(app_platform, record)
    chain_ended = False
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:  # keep refreshing as a client would: the chain ends with the key
        r = await client.post("/api/auth/refresh", headers=bearer(token))
        if r.status_code == 401:
            chain_ended = True
            break
        token = r.json()["bearer"]
        await asyncio.sleep(0.05)
    assert chain_ended
    assert (await client.get("/api/accounts/balance", headers=bearer(token))).status_code == 401


async def test_a_blocked_accounts_tokens_are_refused_and_come_back_when_unblocked(client, app_platform):
    account_id, key = await make_account(app_platform)
    token = await login(client, key)
    assert await statuses(client, bearer(token)) == (200, 200, 200)
    await sql(app_platform, "UPDATE accounts SET status = 'blocked' WHERE id = :a", a=account_id)

    async def blocked():
        return await statuses(client, bearer(token)) == (403, 403, 403)

    await within(WITHIN, blocked)
    legacy = await client.get("/rest/common/balance", headers={"X-API-KEY": key})
    assert legacy.json()["error"] == 2
    await admin.set_blocked(app_platform, account_id, False)

    async def back():
        return await statuses(client, bearer(token)) == (200, 200, 200)

    await within(WITHIN, back)


async def test_tokens_name_their_key_and_deployment(app, client, app_platform):
    account_id, key = await make_account(app_platform)
    claims = jwt.decode(await login(client, key), TEST_JWT_SECRET, algorithms=["HS256"],
                        audience=app.state.authenticator.audience)
    record = await admin.find_key(app_platform, key)
    assert (claims["sub"], claims["kid"]) == (str(account_id), record.id)
    assert key not in str(claims)


async def test_rotation_with_grace(client, app_platform):
    account_id, key = await make_account(app_platform)
    token = await login(client, key)
    old, new, new_key = await admin.rotate_key(app_platform, await admin.find_key(app_platform, key),
                                               grace=timedelta(seconds=GRACE))
    assert (new.account_id, new.mode, new.shown.endswith(new_key[-4:])) == (account_id, "live", True)
    assert await statuses(client, bearer(token)) == (200, 200, 200)  # inside the grace period
    new_token = await login(client, new_key)

    async def old_refused():
        return await statuses(client, bearer(token)) == (401, 401, 401)

    await within(GRACE + WITHIN, old_refused)
    assert await statuses(client, {"X-API-KEY": key}) == (401, 401, 401)
    assert await statuses(client, bearer(new_token)) == (200, 200, 200)
    with pytest.raises(ValidationFailed):  # a revoked key cannot be rotated again
        await admin.rotate_key(app_platform, old)


async def test_top_up_is_exact_and_recorded_with_the_balance(app_platform):
    account_id, _ = await make_account(app_platform, balance="0.1")
    first = await admin.top_up(app_platform, account_id, Decimal("0.2"), actor="ops")
    second = await admin.top_up(app_platform, account_id, Decimal("0.0000001"), actor="ops", note="rounding test")
    assert from_units(first.balance_after) == Decimal("0.3")  # 0.1 + 0.2, not 0.30000000000000004
    assert from_units(second.balance_after) == Decimal("0.3000001")
    async with app_platform.db.read() as conn:
        rows = (await conn.execute(select(account_ledger).order_by(account_ledger.c.id))).all()
    assert [(r.account_id, r.kind, r.amount, r.balance_after, r.actor, r.note) for r in rows] == [
        (account_id, "top-up", 2_000_000, 3_000_000, "ops", None),
        (account_id, "top-up", 1, 3_000_001, "ops", "rounding test"),
    ]
    for bad in (Decimal("0"), Decimal("-1"), Decimal("0.00000001"), Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(ValidationFailed):
            await admin.top_up(app_platform, account_id, bad, actor="ops")
    with pytest.raises(TypeError):
        await admin.top_up(app_platform, account_id, 0.1, actor="ops")  # type: ignore[arg-type]
    assert len(await admin.ledger_entries(app_platform, account_id)) == 2


@pytest.mark.parametrize("secret", ["x", "s" * 31, "é" * 15])  # 1, 31 and 30 bytes
def test_a_short_jwt_secret_is_refused_at_start(database_url, secret):
    with pytest.raises(SecretError, match=r"is \d+ bytes; it must be at least 32") as info:
        create_app(Settings(database_url=database_url, jwt_secret=secret))
    assert "\n" not in str(info.value)
    create_app(Settings(database_url=database_url, jwt_secret="s" * 32))  # 32 bytes will do


async def test_the_generated_secret_is_not_in_the_database(database_url, tmp_path):
    state = tmp_path / "state"
    settings = Settings(database_url=database_url, sim_speed=0, state_dir=str(state))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        platform = app.state.platform
        secret = app.state.authenticator.secret
        async with platform.db.read() as conn:
            stored = [tuple(r) for r in await conn.execute(select(settings_table))]
    assert len(secret.encode()) >= 32
    assert all(secret not in value for _, value in stored), stored
    assert all(key != "jwt_secret" for key, _ in stored)
    path = state / SECRET_FILE
    assert path.read_text().strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(settings) == secret  # the next process reads the same one


def test_processes_starting_at_once_agree_on_the_generated_secret(tmp_path):
    """The README's recipe starts several processes in one folder at once: they must sign alike."""
    import multiprocessing

    settings = Settings(database_url="postgresql://unused/x", state_dir=str(tmp_path))
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        secrets = pool.map(load_secret, [settings] * 12)
    assert len(set(secrets)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRET_FILE]  # no temporary file left


def test_a_secret_file_others_may_read_is_refused(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}")
    load_secret(settings)
    os.chmod(tmp_path / SECRET_FILE, 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        load_secret(settings)


async def test_migration_drops_a_secret_stored_by_older_code(database_url):
    """An upgraded store keeps no JWT secret in clear (tokens signed with it lack the key id anyway)."""
    if database_url.startswith("postgresql"):
        from tests import pg

        name = pg.create_database()
        url = pg.url_for(name)
    else:
        url = database_url.replace("relaybox.db", "old.db")
    db = Database(url)
    try:
        await upgrade(db, "0005")
        async with db.write() as conn:
            await conn.execute(settings_table.insert().values(key="jwt_secret", value="stored-in-clear-by-older-code"))
        await upgrade(db)
        async with db.read() as conn:
            assert (await conn.execute(select(settings_table.c.key))).scalars().all() == []
    finally:
        await db.dispose()
        if database_url.startswith("postgresql"):
            pg.drop_database(name)


async def test_a_caller_whose_account_is_not_in_the_store_is_refused_as_blocked(platform):
    # accounts are never deleted; a caller can still outlive its account's row, e.g. a token issued
    # before the store was restored from an older backup
    from relaybox.domain.models import Caller
    from relaybox.errors import AccountBlocked
    from relaybox.services.accounts import get_account
    from relaybox.services.sending import load_account

    account_id, _ = await make_account(platform)
    assert (await get_account(platform, Caller(account_id, is_test=False))).id == account_id
    gone = Caller(account_id + 1000, is_test=False)
    for read in (get_account, load_account):
        with pytest.raises(AccountBlocked):
            await read(platform, gone)
