"""The console's statistics shaping: delivery-time buckets (console/breakdowns.py) and the
statistics-jobs form (console/stat_job_forms.py).  Pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from relaybox.console import breakdowns, stat_job_forms as forms
from relaybox.domain.delivery_times import EDGES, OVERFLOW_SECONDS
from relaybox.errors import ValidationFailed
from relaybox.services import stat_jobs
from relaybox.store.stat_jobs import StatJob

NOW = datetime(2026, 11, 30, 7, 41, 12, tzinfo=UTC)


def test_bucket_labels_name_each_range_in_readable_units():
    labels = [breakdowns.bucket_label(i) for i in range(len(EDGES) + 1)]
    assert labels[:3] == ["0–1 s", "1–2 s", "2–3 s"]
    assert labels[EDGES.index(60)] == "45 s–1 min"
    assert labels[EDGES.index(90)] == "1–1.5 min"
    assert labels[EDGES.index(3600)] == "30 min–1 h"
    assert labels[-2] == "8–24 h" and labels[-1] == "> 24 h"
    assert len(set(labels)) == len(labels)


def test_percentiles_are_shown_as_upper_bounds():
    assert breakdowns.at_most(3) == "≤ 3 s" and breakdowns.at_most(90) == "≤ 1.5 min"
    assert breakdowns.at_most(OVERFLOW_SECONDS) == "> 24 h" and breakdowns.at_most(None) is None


def test_histogram_bars_keep_the_gaps_and_the_slow_tail():
    bars = breakdowns.histogram_bars([(3, 4), (10, 1), (OVERFLOW_SECONDS, 2)])
    assert bars[0] == breakdowns.Bar("2–3 s", 4)
    assert sum(b.count for b in bars) == 7 and bars[-1] == breakdowns.Bar("> 24 h", 2)
    assert len(bars) == len(EDGES) + 1 - EDGES.index(3)
    assert breakdowns.histogram_bars([]) == [] and breakdowns.histogram_bars([(5, 0)]) == []


def test_the_form_becomes_the_apis_request_and_passes_its_checks():
    form = {"time_in_from": "2026-11-29T07:00", "time_in_to": "2026-11-30T08:00:00", "status": "Delivered",
            "country": " Ukraine ", "operator_id": "", "campaign_id": "42", "phones": "+380501234567,\r\n380671234567;"}
    request = forms.to_request(form)
    assert request == {"type": "params", "time_in_from": "2026-11-29 07:00:00", "time_in_to": "2026-11-30 08:00:00",
                       "status": "Delivered", "country": "Ukraine", "campaign_id": 42,
                       "phones": [380501234567, 380671234567]}
    checked = stat_jobs.parse_request(request, 1, NOW)
    assert checked.campaign_id == 42 and checked.country == "UA" and checked.statuses == ("delivered", "read")


def test_hostile_form_values_reach_the_service_as_typed_and_are_refused_by_field():
    request = forms.to_request({"time_in_from": "yesterday", "time_in_to": "", "campaign_id": "9" * 30,
                                "phones": "12ab"})
    assert request["time_in_from"] == "yesterday" and request["campaign_id"] == "9" * 30
    with pytest.raises(ValidationFailed) as refused:
        stat_jobs.parse_request(request, 1, NOW)
    assert {forms.field_of(e.path) for e in refused.value.errors} == {"time_in_from", "time_in_to", "campaign_id", "phones"}


def test_form_defaults_and_the_campaign_link():
    values = forms.form_values({}, NOW)
    assert values["time_in_from"] == "2026-11-29T07:41:00" and values["time_in_to"] == "2026-11-30T08:00:00"
    given = forms.form_values({"time_in_from": "2026-11-30 06:00:00", "campaign_id": "7"}, NOW)
    assert given["time_in_from"] == "2026-11-30T06:00:00" and given["campaign_id"] == "7"


def test_a_jobs_filter_in_one_line():
    request = {"type": "params", "time_in_from": "2026-11-29T07:00:00Z", "time_in_to": "2026-11-30 08:00:00",
               "status": "Failed", "campaign_id": 7, "phones": [380501234567]}
    job = StatJob(1, "abc", 1, json.dumps(request), "processing", NOW, NOW, None, 2000, None)
    line = forms.job_line(job)
    assert line.summary == ("accepted 2026-11-29 07:00:00 to 2026-11-30 08:00:00 · status Failed · campaign #7"
                            " · 1 phone")
    assert line.running and not line.done and line.status_label == "Processing"
    assert forms.describe({"type": "message", "message_id": [1, 2]}) == "2 message ids"


def test_the_job_lists_state_line():
    running = forms.JobLine("a", "pending", "Pending", "", 0, NOW, None)
    done = forms.JobLine("b", "done", "Done", "", 3, NOW, NOW)
    assert forms.jobs_state([]) == "No export jobs yet."
    assert forms.jobs_state([running, done]).startswith("1 job is running")
    assert forms.jobs_state([running, running]).startswith("2 jobs are running")
    assert forms.jobs_state([done]) == "Every job has finished."
