"""Garbage-collector settings for an engine process.

An engine process turns every batch of 1,000-2,000 messages into a few
thousand short-lived objects (rows, messages, status changes, submissions,
reports) several times over.  With CPython's default first-generation
threshold of 700 allocations, that starts a collection every few hundred
messages, and each one walks the young objects of the batch in hand; the
older generations, which hold every module, class and the price book, are
walked again and again as well.  These objects form no reference cycles (they
are freed by reference counting as soon as a batch is recorded), so the
collections find nothing and only cost time: measured on the 2-worker
PostgreSQL benchmark, 15-25 % of the engine's throughput (docs/benchmarks.md).

So once the engine has started, everything alive then (imports, settings,
prices) is moved out of the collector's sight with `gc.freeze()`, and the first
generation is collected every `YOUNG_THRESHOLD` allocations instead of 700.
Cycles are still collected, only less often; memory held by garbage cycles
between collections stays small, because batches are bounded.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune_for_batches() -> None:
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
