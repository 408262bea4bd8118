"""Pure rules of the reports: country and operator of a number, delivery-time percentiles, stat rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relaybox.domain import networks
from relaybox.domain.delivery_times import EDGES, OVERFLOW_SECONDS, bucket_of, percentile
from relaybox.domain.models import Message
from relaybox.domain.phone import parse_phone
from relaybox.domain.stat_rows import COLUMNS, csv_header, csv_lines, parse_csv_lines, stat_row


@pytest.mark.parametrize(
    "number, country, name, brand, mcc, mnc",
    [
        (380501971415, "UA", "Ukraine", "Vodafone", "255", "01"),  # BSG's own example row
        (48732522176, "PL", "Poland", "Play", "260", "06"),  # BSG's own example row
        (380971234567, "UA", "Ukraine", "Kyivstar", "255", "02"),
        (33612345678, "FR", "France", "SFR", "208", "08"),
        (12025550123, "US", "United States", None, None, None),  # no carrier data for US ranges
        (380441234567, "UA", "Ukraine", None, None, None),  # a fixed line: no operator
    ],
)
def test_network_of_a_number(number, country, name, brand, mcc, mnc):
    phone = parse_phone(number)
    assert (phone.country, phone.brand) == (country, brand)
    net = networks.network(phone.country, phone.brand)
    assert (net.country_name, net.brand, net.mcc, net.mnc) == (name, brand, mcc, mnc)
    assert net.operator_id == (mcc + mnc if mcc else None)


def test_brand_without_a_code_keeps_the_brand():
    net = networks.network("UA", "No Such Operator")
    assert (net.brand, net.mcc, net.mnc, net.country_name) == ("No Such Operator", None, None, "Ukraine")


def test_without_the_optional_mcc_mnc_package_codes_are_null_and_countries_still_named(monkeypatch):
    """`mcc-mnc-p1` is the optional `networks` extra (AGPL): without it, no codes, names from libphonenumber."""

    def not_installed(package):
        raise ModuleNotFoundError(package)

    caches = [networks._tables, networks._codes_by_brand, networks.country_name, networks._countries_by_name,
              networks.network]
    for cache in caches:
        cache.cache_clear()
    monkeypatch.setattr(networks.resources, "files", not_installed)
    try:
        net = networks.network("UA", "Kyivstar")
        assert (net.country_name, net.brand, net.mcc, net.mnc) == ("Ukraine", "Kyivstar", None, None)
        assert networks.country_code("Cook Islands") == "CK" and networks.country_code("pl") == "PL"
        assert networks.brands_for_operator("25503") == []
    finally:
        monkeypatch.undo()
        for cache in caches:
            cache.cache_clear()
    assert networks.network("UA", "Kyivstar").mcc == "255"


def test_countries_and_operators_by_name_and_code():
    assert networks.country_code("Ukraine") == "UA" and networks.country_code("pl") == "PL"
    assert networks.country_code("Atlantis") is None and networks.country_code("ZZ") is None
    assert ("UA", "kyivstar") in networks.brands_for_operator("25503")
    assert networks.brands_for_operator("99999") == []


def test_delivery_time_buckets_and_percentiles():
    t = datetime(2026, 11, 1, tzinfo=UTC)
    assert bucket_of(t, t) == 0 and bucket_of(t, t - timedelta(seconds=5)) == 0  # an early report counts as 0 s
    assert EDGES[bucket_of(t, t + timedelta(seconds=6))] == 7
    assert bucket_of(t, t + timedelta(days=2)) == len(EDGES)
    histogram = {0: 50, 5: 40, 10: 9, len(EDGES): 1}  # 100 messages
    assert percentile(histogram, 50) == EDGES[0]
    assert percentile(histogram, 51) == EDGES[5]
    assert percentile(histogram, 90) == EDGES[5]
    assert percentile(histogram, 99) == EDGES[10]
    assert percentile(histogram, 100) == OVERFLOW_SECONDS
    assert percentile({}, 50) is None


def _message(**kw) -> Message:
    t = datetime(2026, 11, 1, 12, 0, 5, 123, tzinfo=UTC)
    values = dict(id=7, account_id=1, campaign_id=None, type="sms", source="web", reference_id=None,
                  phone=380501971415, country="UA", sender="testsms", text='Hi, "you"\nline 2', encoding="gsm7",
                  parts=1, validity=72, tariff_code=0, price=12836, currency="EUR", status="delivered",
                  is_test=False, created_at=t, due_at=t, expires_at=t, sent_at=t + timedelta(seconds=4),
                  delivered_at=t + timedelta(seconds=15), connector=None, operator_id=None, brand="Vodafone")
    values.update(kw)
    return Message(**values)


def test_stat_row_has_the_spec_shape_and_survives_csv():
    row = stat_row(_message())
    assert tuple(row) == COLUMNS
    assert row == {
        "message_id": "7", "message_type": "sms", "msisdn": "380501971415", "country_name": "Ukraine",
        "brand": "Vodafone", "mcc": "255", "mnc": "01", "originator": "testsms", "price": "0.0012836",
        "currency": "EUR", "time_in": "2026-11-01 12:00:05", "time_sent": "2026-11-01 12:00:09",
        "time_dlr": "2026-11-01 12:00:20", "status": "Delivered", "body": 'Hi, "you"\nline 2', "sl_clicks": None,
    }
    pending = stat_row(_message(status="accepted", sent_at=None, delivered_at=None, brand=None, country="US"))
    assert (pending["status"], pending["time_sent"], pending["brand"], pending["mcc"]) == ("Accepted", None, None, None)
    assert parse_csv_lines(csv_lines([row, pending])) == [row, pending]
    assert csv_header().startswith("message_id,message_type,msisdn,")


def test_brand_is_libphonenumber_s_carrier_name_for_every_region():
    """`brand_for` looks the range's name up before the number's type; the answer is still
    `carrier.name_for_number`'s, for mobile, fixed-line, pager and VoIP numbers of every region
    and numbers around them."""
    import random

    import phonenumbers
    from phonenumbers import PhoneNumberType, carrier

    from relaybox.domain.networks import MAX_BRAND, brand_for

    rng = random.Random(20261130)
    different = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.PAGER, PhoneNumberType.VOIP):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            for _ in range(8):
                keep = rng.randint(0, len(nsn))
                digits = nsn[:keep] + "".join(rng.choice("0123456789") for _ in range(len(nsn) - keep))
                number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(digits))
                expected = carrier.name_for_number(number, "en")[:MAX_BRAND] or None
                if brand_for(number) != expected:
                    different.append((region, digits, brand_for(number), expected))
    assert not different, different[:10]


@pytest.mark.parametrize("moment", [
    datetime(2026, 11, 30, 7, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 30, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 15),  # naive: read as UTC
])
def test_roll_up_keys_are_the_hour_and_minute_a_message_falls_in(moment):
    from relaybox.store import rollups

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    assert rollups._hour(rollups._hour_no(moment)) == aware.replace(minute=0, second=0, microsecond=0)
    assert rollups._minute(rollups._minute_no(moment)) == aware.replace(second=0, microsecond=0)
