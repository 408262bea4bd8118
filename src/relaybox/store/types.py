"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

#: BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY aliases the rowid
#: and autoincrements, so the variant keeps ids automatic there.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")

#: A JSON document: JSONB on PostgreSQL, JSON text on SQLite.  Python None is
#: SQL NULL (not the JSON `null`), so "absent" reads the same on both backends.
JSONDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """`timestamptz` on PostgreSQL, ISO text on SQLite; always an aware UTC datetime in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Stored naive so that text comparison orders correctly.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
