"""The stop list: per-channel flags on the account's contact rows (store/tables.py `contacts`).

Phones are E.164 digits as integers, as `messages.phone`.  Channels are the One API's stop-list
types: sms | viber | rcs | whatsapp.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.db import driver
from relaybox.store.tables import contacts

#: The stop-list types of the One API (`StoplistAddRequest.types`).
CHANNELS = ("sms", "viber", "rcs", "whatsapp")

#: Phones looked up per statement: well under SQLite's 32,766 bound parameters.
_CHUNK = 5000


def _flag(channel: str):
    if channel not in CHANNELS:
        raise ValueError(f"unknown stop-list channel {channel!r}")
    return contacts.c[f"{channel}_stoplist"]


async def stoplisted_phones(
    conn: AsyncConnection, account_id: int, channel: str, phones: Iterable[int]
) -> set[int]:
    """Those of `phones` that are on the account's stop list for `channel`.

    Raises ValueError for a channel not in CHANNELS.  Cost: one indexed lookup per 5,000 phones
    (the unique (account_id, phone) index).  Driver SQL, not a SQLAlchemy statement: every send
    runs this in its writing transaction (the single-send group commit holds SQLite's write lock
    meanwhile), and building an `IN (…)` statement of a new size costs ten times the lookup.
    """
    column = _flag(channel).name  # one of CHANNELS' columns: never the caller's text
    wanted = list(dict.fromkeys(phones))
    if not wanted:
        return set()
    found: set[int] = set()
    if conn.dialect.name == "postgresql":
        raw = await driver(conn)
        sql = f"SELECT phone FROM contacts WHERE account_id = $1 AND phone = ANY($2::bigint[]) AND {column}"
        for start in range(0, len(wanted), _CHUNK):
            found.update(r[0] for r in await raw.fetch(sql, account_id, wanted[start:start + _CHUNK]))
        return found
    sql = f"SELECT phone FROM contacts WHERE account_id = ? AND phone IN (SELECT value FROM json_each(?)) AND {column}"
    for start in range(0, len(wanted), _CHUNK):
        rows = await conn.exec_driver_sql(sql, (account_id, json.dumps(wanted[start:start + _CHUNK])))
        found.update(r[0] for r in rows)
    return found


async def set_stoplisted(
    conn: AsyncConnection,
    account_id: int,
    phones: Iterable[int],
    channels: Iterable[str],
    *,
    on: bool,
    source: str,
    now: datetime,
) -> None:
    """Put `phones` on (on=True) or take them off the stop list of each of `channels`.

    A phone that is not yet in the account's contact book gets a contact row (as in BSG's API,
    where stop-listing adds the contact); taking off a phone with no contact row does nothing.
    `source` says who did it (api | reply | import | cli).  Raises ValueError for an unknown channel.
    """
    flags = {_flag(c).name: on for c in dict.fromkeys(channels)}
    if not flags:
        return
    marks = {"stoplisted_at": now, "stoplist_source": source} if on else {}
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    wanted = list(dict.fromkeys(phones))
    for start in range(0, len(wanted), _CHUNK // 10):
        chunk = wanted[start:start + _CHUNK // 10]
        if on:
            stmt = insert(contacts).values(
                [{"account_id": account_id, "phone": p, "created_at": now, "updated_at": now, **flags, **marks}
                 for p in chunk]
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[contacts.c.account_id, contacts.c.phone],
                set_={**flags, **marks, "updated_at": now},
            )
            await conn.execute(stmt)
        else:
            await conn.execute(
                contacts.update()
                .where(contacts.c.account_id == account_id, contacts.c.phone.in_(chunk))
                .values(**flags, updated_at=now)
            )
