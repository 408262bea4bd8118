"""Garbage-collector settings for relaybox's processes: API and engine alike.

Both turn work into batches of short-lived objects: a 10,000-phone campaign
is 10,000 recipients, messages and rows in one request; an engine batch of
1,000-2,000 messages becomes rows, messages, status changes, submissions and
reports several times over; the API's group commit of single messages holds a
few hundred requests' objects at once.  With CPython's default first-generation
threshold of 700 allocations, a collection starts every few hundred objects
while such a batch is alive; the batch's objects survive it (they are still in
use), are promoted, and are walked again by the older generations'
collections.  They form no reference cycles (reference counting frees them as
soon as the batch is written), so those collections find nothing and only cost
time: measured on this project's benchmarks (docs/benchmarks.md), 15-25 % of
the engine's throughput on PostgreSQL and about 20 % of a 10,000-phone
campaign's send time.

So once a process has started, everything alive then (imports, settings, the
price book) is moved out of the collector's sight with `gc.freeze()`, and the
first generation is collected every `YOUNG_THRESHOLD` allocations instead of
700.  Cycles are still collected, only less often; the garbage they hold in
between stays small because batches are bounded.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune_for_batches() -> None:
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
