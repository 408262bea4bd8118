"""Token buckets (domain/rate.py): the rule behind the per-account rate limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from relaybox.domain.rate import Bucket, Limit, resolve, retry_after


def test_burst_then_rate():
    b = Bucket.full(Limit(rate=2, burst=4), now=0.0)
    assert [b.take(1, 0.0) for _ in range(4)] == [0, 0, 0, 0]
    assert b.take(1, 0.0) == 1  # half a second to wait, said as a whole second
    assert b.take(1, 0.5) == 0
    assert b.take(1, 0.5) == 1
    assert b.level(100.0) == 4  # never above the burst


def test_refused_costs_nothing_and_says_how_long():
    b = Bucket.full(Limit(rate=1, burst=10), now=0.0)
    assert b.take(6, 0.0) == 0
    assert b.take(7, 0.0) == 3  # 4 left, 7 wanted: 3 s at 1 a second
    assert b.level(0.0) == 4
    assert b.take(4, 0.0) == 0


def test_a_cost_above_the_burst_passes_on_a_full_bucket_and_leaves_debt():
    b = Bucket.full(Limit(rate=100, burst=1000), now=0.0)
    assert b.take(10_000, 0.0) == 0
    assert b.level(0.0) == -9000
    assert b.take(1, 0.0) == 91  # (1 + 9000) / 100, rounded up
    assert b.take(10_000, 50.0) == 50  # not full again yet: 1000 - (-9000 + 5000) = 5000 short
    assert b.take(10_000, 100.0) == 0  # full again


def test_give_back_and_adopt():
    b = Bucket.full(Limit(rate=1, burst=10), now=0.0)
    b.take(5, 0.0)
    b.give_back(5, 0.0)
    assert b.level(0.0) == 10 and b.unsynced == 0
    b.take(3, 0.0)
    reported, b.unsynced = b.unsynced, 0
    assert reported == 3
    b.take(2, 0.1)  # spent while the report was on its way
    b.adopt(shared_level=1.0, now=0.2)  # the others spent 6 meanwhile
    assert b.level(0.2) == -1.0


def test_no_limit():
    b = Bucket.full(Limit(rate=0, burst=1), now=0.0)
    assert all(b.take(10**6, 0.0) == 0 for _ in range(10))


def test_resolve_defaults_and_floors():
    assert resolve(None, None, 200, 400) == Limit(200, 400)
    assert resolve(5, None, 200, 400) == Limit(5, 400)
    assert resolve(50, 10, 200, 400) == Limit(50, 50)  # the burst is at least one second of the rate
    assert resolve(0, None, 200, 400).unlimited


@given(st.floats(0.1, 1000), st.floats(1, 10_000), st.lists(st.tuples(st.floats(0, 5), st.integers(1, 50)), max_size=60))
def test_never_more_than_burst_plus_rate_times_elapsed(rate, burst, steps):
    """Over any run, what a bucket lets through is at most burst + rate × T, plus the one
    over-burst cost a full bucket may take."""
    limit = Limit(rate, max(burst, rate, 1.0))
    b = Bucket.full(limit, 0.0)
    now, passed, largest = 0.0, 0, 0
    for dt, cost in steps:
        now += dt
        if b.take(cost, now) == 0:
            passed += cost
            largest = max(largest, cost)
        else:
            assert retry_after(b.level(now), cost, limit) >= 1
    assert passed <= limit.burst + limit.rate * now + max(0, largest - limit.burst) + 1e-6
