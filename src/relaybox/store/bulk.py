"""Multi-row inserts with the least per-row work the backend allows.

`conn.execute(insert(table), rows)` spends most of its time in SQLAlchemy's
per-row parameter handling: for a batch of single messages (30 columns each)
that is several times what SQLite needs to store them.  On SQLite the rows
are instead converted once with the very bind processors SQLAlchemy would
apply (so the stored text of dates and JSON is the same) and handed to the
driver's `executemany` as tuples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, insert

_plans: dict[tuple[str, tuple[str, ...]], tuple[str, list[Callable[[Any], Any] | None]] | None] = {}


def _sqlite_plan(table: Table, keys: tuple[str, ...], dialect) -> tuple[str, list] | None:
    """The INSERT text and each column's bind processor; None if SQLAlchemy must fill defaults."""
    cache_key = (table.name, keys)
    if cache_key not in _plans:
        missing = [c for c in table.columns if c.name not in keys]
        if any(c.default is not None for c in missing):
            _plans[cache_key] = None  # Python-side defaults: SQLAlchemy knows how to fill them
        else:
            columns = [table.c[k] for k in keys]
            processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
            names = ", ".join(dialect.identifier_preparer.quote(k) for k in keys)
            marks = ", ".join("?" for _ in keys)
            _plans[cache_key] = (f"INSERT INTO {dialect.identifier_preparer.quote(table.name)} ({names}) VALUES ({marks})",
                                 processors)
    return _plans[cache_key]


async def insert_rows(conn, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the caller's transaction."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        keys = tuple(rows[0])
        plan = _sqlite_plan(table, keys, conn.dialect)
        if plan is not None:
            sql, processors = plan
            pairs = list(zip(keys, processors))
            params = [
                tuple(value if process is None or value is None else process(value)
                      for value, process in ((row[k], process) for k, process in pairs))
                for row in rows
            ]
            await conn.exec_driver_sql(sql, params)
            return
    await conn.execute(insert(table), rows)
