"""Reports kept until the submit result that names their operator id is recorded."""

from __future__ import annotations

from relaybox.connectors.base import Receipt
from relaybox.domain.status import MessageStatus
from relaybox.domain.timefmt import utcnow
from relaybox.engine.overtaken import OvertakenReports


def receipt(operator_id: str) -> Receipt:
    return Receipt(operator_id, MessageStatus.DELIVERED, utcnow())


def ids(taken) -> list[str]:
    return [r.operator_id for _, r in taken]


def test_a_recorded_result_releases_only_its_reports():
    kept = OvertakenReports(retry_every=0.2, patience=10)
    kept.keep([(None, receipt("a")), (None, receipt("b"))], now=0.0)
    assert len(kept) == 2 and abs(kept.wait_time(0.05) - 0.15) < 1e-9
    kept.results_recorded(["b", "x", None])
    assert kept.matched.is_set()
    taken, dropped = kept.take(0.05)
    assert ids(taken) == ["b"] and dropped == 0 and not kept.matched.is_set()
    kept.keep([], now=0.06)
    assert len(kept) == 1


def test_everything_is_retried_when_its_time_comes_and_dropped_after_patience():
    kept = OvertakenReports(retry_every=0.2, patience=1.0)
    kept.keep([(None, receipt("a"))], now=0.0)
    assert kept.take(0.1) == ([], 0)  # nothing named it, not yet time
    taken, _ = kept.take(0.2)
    assert ids(taken) == ["a"]
    deadline = taken[0][0]
    kept.keep(taken, now=0.25)  # still unknown: keeps its first deadline
    assert kept.wait_time(0.25) > 0
    assert kept.take(1.5) == ([], 1)
    assert len(kept) == 0 and kept.wait_time(1.5) is None and deadline == 1.0


def test_a_result_recorded_while_its_report_is_being_tried_counts():
    kept = OvertakenReports(retry_every=0.2, patience=10)
    batch = [receipt("a")]
    kept.trying(batch)
    kept.results_recorded(["a"])  # committed after the intake looked, before it kept the report
    kept.keep([(None, batch[0])], now=0.0)
    assert kept.matched.is_set()
    taken, _ = kept.take(0.0)
    assert ids(taken) == ["a"]


def test_results_for_reports_not_kept_change_nothing():
    kept = OvertakenReports(retry_every=0.2, patience=10)
    kept.results_recorded(["a"])
    assert not kept.matched.is_set() and len(kept) == 0
