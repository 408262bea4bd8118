"""API keys as the operator manages them: list, look up, revoke (`relaybox key …`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import ApiKey
from relaybox.store.accounts import hash_key
from relaybox.store.tables import api_keys


def _key(row) -> ApiKey:
    return ApiKey(
        id=row.id, account_id=row.account_id, mode=row.mode, label=row.label, prefix=row.prefix, last4=row.last4,
        created_at=row.created_at, revoked_at=row.revoked_at,
    )


async def list_keys(conn: AsyncConnection, *, account_id: int | None, active_at: datetime | None) -> list[ApiKey]:
    """Keys by id, of one account or all; only those working at `active_at` unless it is None."""
    query = select(api_keys).order_by(api_keys.c.id)
    if account_id is not None:
        query = query.where(api_keys.c.account_id == account_id)
    if active_at is not None:
        query = query.where(or_(api_keys.c.revoked_at.is_(None), api_keys.c.revoked_at > active_at))
    return [_key(r) for r in await conn.execute(query)]


async def get_key(conn: AsyncConnection, *, key_id: int | None = None, key: str | None = None) -> ApiKey | None:
    """A key by its id, or by the key itself (looked up by hash)."""
    where = api_keys.c.id == key_id if key is None else api_keys.c.key_hash == hash_key(key)
    row = (await conn.execute(select(api_keys).where(where))).first()
    return _key(row) if row else None


async def revoke(conn: AsyncConnection, key_id: int, at: datetime) -> bool:
    """Make the key stop working at `at`, unless it already stops earlier; False if it does."""
    result = await conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, or_(api_keys.c.revoked_at.is_(None), api_keys.c.revoked_at > at))
        .values(revoked_at=at)
    )
    return result.rowcount == 1
