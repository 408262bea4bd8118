"""The store's fast SQLite conversions of `UTCDateTime` give SQLAlchemy's own values."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.dialects import sqlite

from relaybox.store.types import UTCDateTime, from_sqlite_text, sqlite_text


def _sqlalchemy():
    dialect = sqlite.dialect()
    impl = UTCDateTime().dialect_impl(dialect)
    return impl.bind_processor(dialect), impl.result_processor(dialect, None)


def _moments():
    rng = random.Random(20261130)
    zones = [UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-9, minutes=-30)), None]
    fixed = [datetime(2026, 11, 30, 7, 0, 0), datetime(1970, 1, 1), datetime(999, 12, 31, 23, 59, 59, 999999),
             datetime(9999, 12, 31, 12, 0, 0, 1), datetime(2024, 2, 29, 0, 0, 0, 500000)]
    moments = [m.replace(tzinfo=zone) for m in fixed for zone in zones if not (m.year == 9999 and zone)]
    for _ in range(2000):
        moment = datetime(2000, 1, 1) + timedelta(seconds=rng.uniform(0, 40 * 365 * 86400))
        moments.append(moment.replace(microsecond=rng.choice([0, rng.randrange(10**6)]), tzinfo=rng.choice(zones)))
    return moments


def test_bound_text_is_sqlalchemys():
    bind, _ = _sqlalchemy()
    different = [(m, sqlite_text(m), bind(m)) for m in _moments() if sqlite_text(m) != bind(m)]
    assert not different, different[:5]


def test_read_value_is_sqlalchemys():
    bind, result = _sqlalchemy()
    texts = [bind(m) for m in _moments()] + ["2026-11-30 07:01:02", "2026-11-30 07:01:02.5", None]
    different = [(t, from_sqlite_text(t), result(t)) for t in texts if from_sqlite_text(t) != result(t)]
    assert not different, different[:5]
    assert from_sqlite_text("2026-11-30 07:01:02.000001").tzinfo is UTC
