"""The console's pure shaping of figures (console/present.py) and its breakdown templates."""

from __future__ import annotations

from relaybox.console import present
from relaybox.console.templating import templates
from relaybox.store.campaign_costs import PriceGroup


def test_funnel_counts_reached_operator_and_delivered_as_the_api_does():
    counts = {"delivered": 5, "read": 1, "sent": 2, "undelivered": 1, "failed": 1, "accepted": 2}
    steps = {s.label: (s.count, s.share) for s in present.funnel(counts, 12)}
    assert steps["Accepted"] == (12, 100)
    assert steps["Reached an operator"] == (9, 75)  # sent, delivered, read, undelivered
    assert steps["Delivered"] == (6, 50)  # read counts as delivered
    assert steps["Not delivered"] == (2, 17)


def test_percent_is_bounded_and_safe_for_empty_campaigns():
    assert present.percent(3, 0) == 0 and present.percent(5, 4) == 100 and present.percent(1, 3) == 33


def test_cost_follows_the_refund_rules():
    groups = [
        PriceGroup("sms", "delivered", True, 3, 300),
        PriceGroup("sms", "undelivered", True, 1, 100),  # reached an operator: paid
        PriceGroup("sms", "failed", False, 1, 100),  # refused before an operator: refunded
        PriceGroup("sms", "expired", False, 2, 200),  # expired unsent: refunded
        PriceGroup("sms", "sent", True, 4, 400),  # not final: still reserved
        PriceGroup("rcs", "undelivered", True, 1, 50),  # RCS paid only when delivered or read
        PriceGroup("rcs", "read", True, 2, 100),
    ]
    cost = present.cost(groups)
    assert (cost.charged, cost.reserved, cost.refunded, cost.charged_messages) == (500, 400, 350, 6)


def test_amounts_keep_the_apis_precision_without_noise():
    assert present.amount(790000, "EUR") == "0.079 EUR"
    assert present.amount(10**7, "EUR") == "1.00 EUR"
    assert present.amount(None) == "–"


def test_breakdown_blocks_render_the_services_shapes_once_plugged_in():
    breakdown = {
        "histogram": [{"label": "< 5 s", "count": 7}],
        "by_network": [{"country": "Germany", "operator": "Telekom", "mcc": "262", "mnc": "01",
                        "messages": 9, "delivered": 8, "cost": "0.72 EUR"}],
    }
    networks = templates.get_template("partials/breakdown_networks.html").render(breakdown=breakdown)
    assert "Telekom" in networks and "262/01" in networks and "Not available" not in networks
    histogram = templates.get_template("partials/breakdown_histogram.html").render(breakdown=breakdown)
    assert "delivery-chart" in histogram and "Not available" not in histogram
    assert "Not available" in templates.get_template("partials/breakdown_networks.html").render(breakdown=None)
