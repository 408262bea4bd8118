"""Times: UTC inside, `YYYY-MM-DD HH:MM:SS` outside.

Inputs accept that format and ISO 8601 (`T` separator, fractions, `Z` or an
offset, including the `+0000` form the official client sends) and are
converted to UTC.  A time without an offset is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

OUTPUT_FORMAT = "%Y-%m-%d %H:%M:%S"
MIN_YEAR, MAX_YEAR = 1970, 9998
_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


class InvalidTime(ValueError):
    """A time that `parse_time` cannot read or that lies outside MIN_YEAR..MAX_YEAR."""
    pass


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def parse_time(value: object) -> datetime:
    """`YYYY-MM-DD HH:MM:SS` or ISO 8601 (`Z`, `+hh:mm` or `+hhmm` offsets) as aware UTC; without an offset, UTC.

    Raises InvalidTime for anything else or a year outside 1970-9998.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidTime("must be a date and time: YYYY-MM-DD HH:MM:SS or ISO 8601")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _COMPACT_OFFSET.sub(r"\1:\2", text) if "T" in text or " " in text else text
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidTime("must be a date and time: YYYY-MM-DD HH:MM:SS or ISO 8601") from exc
    # Years far from now are nobody's send or filter time, and near the ends of
    # the calendar the offset conversion and date arithmetic (from = to - 3
    # months) would overflow: refuse them as invalid input.
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidTime(f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS` in UTC (naive values taken as UTC), or None for None."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(OUTPUT_FORMAT)
