"""store/bulk.py stores rows exactly as SQLAlchemy's own insert would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from relaybox.store.bulk import insert_rows, select_rows
from relaybox.store.tables import messages
from tests.factories import make_account


def row(account_id: int, message_id: int, **changes) -> dict:
    now = datetime(2026, 11, 25, 12, 30, 15, 123456, tzinfo=UTC)
    base = {
        "id": message_id, "account_id": account_id, "campaign_id": None, "type": "rcs", "source": "rest",
        "reference_id": f"ref-{message_id}", "phone": 380971234567, "country": "UA", "sender": "relaybox",
        "text": "Привіт ✓", "encoding": "ucs2", "parts": 1, "validity": 72, "tariff_code": 0, "price": 350000,
        "currency": "EUR", "status": "accepted", "is_test": True, "created_at": now, "due_at": now,
        "expires_at": now + timedelta(hours=72), "callback_url": None,
        "rcs_options": {"text": "hi", "cards": [{"title": "ü"}]}, "alternative_sms": None,
    }
    return {**base, **changes}


async def test_rows_read_back_the_same_as_sqlalchemys(platform):
    account_id, _ = await make_account(platform)
    variants = [{}, {"is_test": False, "rcs_options": None, "alternative_sms": {"text": "x", "parts": 1},
                     "callback_url": "https://example.com/hook", "reference_id": None}]
    for n, changes in enumerate(variants):
        ours, theirs = row(account_id, 10 + 2 * n, **changes), row(account_id, 11 + 2 * n, **changes)
        theirs["reference_id"] = theirs["reference_id"] and theirs["reference_id"] + "b"
        async with platform.db.write() as conn:
            await insert_rows(conn, messages, [ours])
            await conn.execute(insert(messages), [theirs])
        async with platform.db.read() as conn:
            found = {r.id: r._asdict() for r in await conn.execute(select(messages).where(messages.c.id.in_([ours["id"], theirs["id"]])))}
            raw = {r[0]: r[1:] for r in await conn.exec_driver_sql(
                "SELECT id, created_at, due_at, expires_at, is_test, rcs_options, alternative_sms FROM messages"
                " WHERE id IN (?, ?)" if conn.dialect.name == "sqlite" else
                "SELECT id, created_at, due_at, expires_at, is_test, rcs_options, alternative_sms FROM messages"
                " WHERE id IN (%s, %s)" % (ours["id"], theirs["id"]),
                (ours["id"], theirs["id"]) if conn.dialect.name == "sqlite" else None,
            )}
        a, b = found[ours["id"]], found[theirs["id"]]
        for key in ("id", "reference_id"):
            a.pop(key), b.pop(key)
        assert a == b
        assert a["created_at"] == ours["created_at"] and a["rcs_options"] == ours["rcs_options"]
        assert raw[ours["id"]] == raw[theirs["id"]]  # the very same stored text, not just equal values


async def test_rows_read_through_the_driver_are_sqlalchemys(platform):
    """select_rows (the engine's loads on SQLite) gives the values SQLAlchemy's select gives."""
    account_id, _ = await make_account(platform)
    rows = [row(account_id, 20, sent_at=None, operator_id=None), row(account_id, 21, is_test=False, rcs_options=None, reference_id=None,
                                     alternative_sms={"text": "x", "parts": 1}, status="sent",
                                     sent_at=datetime(2026, 11, 25, 12, 31, tzinfo=UTC), operator_id="op-21")]
    async with platform.db.write() as conn:
        await conn.execute(insert(messages), rows)
    async with platform.db.read() as conn:
        expected = {r.id: r._asdict() for r in await conn.execute(select(messages).where(messages.c.id.in_([20, 21])))}
        if conn.dialect.name != "sqlite":
            return  # PostgreSQL loads through asyncpg (store/db.py: driver)
        got = {values["id"]: values for values in await select_rows(conn, messages, "id IN (?, ?)", (20, 21))}
    assert got == expected
    assert got[21]["sent_at"].tzinfo is not None and got[20]["is_test"] is True
