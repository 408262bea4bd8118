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


def test_breakdown_blocks_render_the_services_breakdown():
    from decimal import Decimal

    from relaybox.console.breakdowns import shape
    from relaybox.services.breakdowns import Breakdown, DeliveryTimes, NetworkRow

    row = NetworkRow("DE", "Germany", "Telekom", "262", "01", 9, {"delivered": 7, "read": 1, "failed": 1},
                     Decimal("0.7200000"))
    stats = shape(Breakdown(9, {"delivered": 7, "read": 1, "failed": 1}, [row], Decimal("0.7200000"), "EUR",
                            DeliveryTimes(8, 2, 5, 5, [(2, 6), (5, 2)])))
    networks = templates.get_template("partials/breakdown_networks.html").render(breakdown=stats)
    assert "Telekom" in networks and "<td>262</td><td>01</td>" in networks
    assert 'data-col="delivered">8<' in networks and 'data-col="not-delivered">1<' in networks
    assert 'data-col="cost">0.72 EUR<' in networks
    histogram = templates.get_template("partials/breakdown_histogram.html").render(breakdown=stats)
    assert "delivery-chart" in histogram and 'id="p50">≤ 2 s<' in histogram
    # the buckets between the two with deliveries are drawn empty
    assert [b.count for b in stats.bars] == [6, 0, 0, 2] and stats.bars[0].label == "1–2 s"
    empty = shape(Breakdown(0, {}, [], Decimal(0), "EUR", DeliveryTimes(0, None, None, None, [])))
    assert "No delivery reports yet" in templates.get_template("partials/breakdown_histogram.html").render(breakdown=empty)
    assert "No messages yet" in templates.get_template("partials/breakdown_networks.html").render(breakdown=empty)
