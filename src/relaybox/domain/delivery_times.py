"""Delivery-time histogram buckets and percentiles from them.

A delivery time is delivered_at − sent_at in seconds (the operator's delivery
report against the moment the operator took the message).  Buckets grow
roughly geometrically, so a percentile read from the histogram is the upper
edge of the bucket it falls in: exact to the bucket's width (1 s below 10 s,
within 50 % above).  Pure.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from datetime import datetime

#: Upper edges (seconds, inclusive) of buckets 0..len-1; the last bucket, len(EDGES), is
#: everything slower (shown as `OVERFLOW_SECONDS`: 72 h, the longest validity).
EDGES: tuple[int, ...] = (
    1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400,
)
OVERFLOW_SECONDS = 72 * 3600


def bucket_of(sent_at: datetime, delivered_at: datetime) -> int:
    """The bucket of a delivery time; a report earlier than the send counts as 0 s."""
    seconds = max(0.0, (delivered_at - sent_at).total_seconds())
    return bisect_left(EDGES, seconds)


def upper_edge(bucket: int) -> int:
    """The bucket's upper edge in seconds (OVERFLOW_SECONDS, 72 h, for the last, open bucket)."""
    return EDGES[bucket] if bucket < len(EDGES) else OVERFLOW_SECONDS


def percentile(histogram: Mapping[int, int], p: float) -> int | None:
    """The `p`-th percentile (0 < p ≤ 100) of a {bucket: count} histogram, in seconds
    (the upper edge of its bucket), or None when the histogram is empty.

    Nearest-rank: the smallest bucket whose cumulative count reaches ⌈p/100 × total⌉.
    """
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(p * total / 100))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return upper_edge(bucket)
    return upper_edge(max(histogram))
