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


def sqlite_text(value: datetime) -> str:
    """`UTCDateTime`'s value bound on SQLite, as SQLAlchemy writes it: the UTC time as naive text
    `YYYY-MM-DD HH:MM:SS.ffffff` (SQLite DATETIME's storage format); a naive value is taken as UTC.

    The same text as `UTCDateTime` followed by SQLAlchemy's SQLite DATETIME processor, in a
    quarter of the time: the store's driver-level paths (store/bulk.py) convert several times per
    message.  tests/unit/test_store_types.py compares the two.
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def from_sqlite_text(value: str | None) -> datetime | None:
    """The aware UTC datetime of a `UTCDateTime` column's SQLite text (`sqlite_text`, or the
    shorter forms SQL's own functions write), as SQLAlchemy reads it back; None stays None."""
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)

