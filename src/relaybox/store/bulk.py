"""Rows and values handed to (and read from) the SQLite driver directly, converted as SQLAlchemy would.

`conn.execute(insert(table), rows)` spends most of its time in SQLAlchemy's
per-row parameter handling: for a batch of single messages (30 columns each)
that is several times what SQLite needs to store them.  On SQLite the rows
are instead converted once with the very bind processors SQLAlchemy would
apply (so the stored text of dates and JSON is the same) and handed to the
driver's `executemany` as tuples.

The conversion can be done ahead of the transaction (`driver_rows`): SQLite
has one write lock, and every millisecond of Python inside a write
transaction is a millisecond no other process (the engine) can write.  For
the same reason the engine's loads of whole message rows on SQLite
(`select_rows`) read tuples from the driver and convert them with the
columns' result processors, without SQLAlchemy's row objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, insert

from relaybox.store.types import UTCDateTime, from_sqlite_text, sqlite_text

_Processor = Callable[[Any], Any] | None
_processors: dict[tuple[str, str, str], _Processor] = {}
_sql: dict[tuple[str, tuple[str, ...]], str | None] = {}
_readers: dict[tuple[str, str], tuple[str, list[str], list[_Processor]]] = {}


def processor(column: Column, dialect) -> _Processor:
    """The function SQLAlchemy applies to a value bound to `column` (None: the value as it is)."""
    key = (column.table.name, column.name, dialect.name)
    if key not in _processors:
        if dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
            _processors[key] = sqlite_text  # SQLAlchemy's text, faster (store/types.py)
        else:
            _processors[key] = column.type.dialect_impl(dialect).bind_processor(dialect)
    return _processors[key]


def to_driver(column: Column, dialect, value: Any) -> Any:
    """`value` as the driver receives it when bound to `column`."""
    process = processor(column, dialect)
    return value if process is None or value is None else process(value)


@dataclass(frozen=True, slots=True)
class DriverRows:
    """Rows of one table as tuples of driver values, in the order of `keys`."""

    table: Table
    keys: tuple[str, ...]
    params: list[tuple]

    def pick(self, indexes: list[int]) -> DriverRows:
        return DriverRows(self.table, self.keys, [self.params[i] for i in indexes])


def _insert_sql(table: Table, keys: tuple[str, ...], dialect) -> str | None:
    """The INSERT text for `keys`; None if SQLAlchemy must fill Python-side defaults."""
    cache_key = (table.name, keys)
    if cache_key not in _sql:
        missing = [c for c in table.columns if c.name not in keys]
        if any(c.default is not None for c in missing):
            _sql[cache_key] = None  # Python-side defaults: SQLAlchemy knows how to fill them
        else:
            quote = dialect.identifier_preparer.quote
            _sql[cache_key] = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(k) for k in keys)}) "
                               f"VALUES ({', '.join('?' for _ in keys)})")
    return _sql[cache_key]


def driver_rows(dialect, table: Table, rows: list[dict]) -> DriverRows | None:
    """`rows` (dicts with the same keys) converted for SQLite's driver; None on other backends."""
    if dialect.name != "sqlite" or not rows:
        return None
    keys = tuple(rows[0])
    # Column by column: a column without a processor is copied as it is, and a value that is the
    # same object as the row before's (a campaign's times, its content) is converted once.
    columns = []
    for k in keys:
        values = [row[k] for row in rows]
        process = processor(table.c[k], dialect)
        if process is not None:
            values = _converted(values, process)
        columns.append(values)
    return DriverRows(table, keys, list(zip(*columns)))


_UNSET = object()


def _converted(values: list, process: Callable[[Any], Any]) -> list:
    out = []
    last, last_out = _UNSET, None
    for value in values:
        if value is None:
            out.append(None)
        elif value is last:
            out.append(last_out)
        else:
            last, last_out = value, process(value)
            out.append(last_out)
    return out


async def insert_rows(conn, table: Table, rows: list[dict], *, ids: list[int] | None = None,
                      converted: DriverRows | None = None) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the caller's transaction.

    `ids`: values of the `id` column, one per row.  `converted`: the same rows
    from `driver_rows`, made earlier.
    """
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        converted = converted or driver_rows(conn.dialect, table, rows)
        keys = ("id", *converted.keys) if ids is not None else converted.keys
        sql = _insert_sql(table, keys, conn.dialect)
        if sql is not None:
            params = converted.params if ids is None else [(i, *p) for i, p in zip(ids, converted.params)]
            await conn.exec_driver_sql(sql, params)
            return
    if ids is not None:
        rows = [{**row, "id": i} for row, i in zip(rows, ids)]
    await conn.execute(insert(table), rows)


def _reader(table: Table, dialect) -> tuple[str, list[str], list[_Processor]]:
    key = (table.name, dialect.name)
    if key not in _readers:
        quote = dialect.identifier_preparer.quote
        names = [c.name for c in table.columns]
        processors = [from_sqlite_text if dialect.name == "sqlite" and isinstance(c.type, UTCDateTime)
                      else c.type.dialect_impl(dialect).result_processor(dialect, None) for c in table.columns]
        _readers[key] = (f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(table.name)} WHERE ", names,
                         processors)
    return _readers[key]


async def select_rows(conn, table: Table, where: str, params: tuple | list = ()) -> list[dict]:
    """Whole rows of `table` matching `where` (driver SQL with ? marks), as dicts of Python values."""
    select_sql, names, processors = _reader(table, conn.dialect)
    pairs = list(zip(names, processors))
    return [
        {name: value if process is None else process(value) for (name, process), value in zip(pairs, raw)}
        for raw in await conn.exec_driver_sql(select_sql + where, tuple(params))
    ]
