from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaybox.domain.models import Tariff
from relaybox.domain.money import format_amount, from_units, message_price_units, to_units
from relaybox.domain.pricing import PriceBook
from relaybox.domain.rules import RuleViolation, check_reference, check_sender, check_validity, prepare_text
from relaybox.domain.timefmt import InvalidTime, format_time, parse_time


@pytest.mark.parametrize("sender", ["abc", "relaybox", "My Shop.&-_", "123", "123456789012345"])
def test_valid_senders(sender):
    assert check_sender(sender) == sender


@pytest.mark.parametrize("sender", ["ab", "abcdefghijkl", "12", "1234567890123456", "shop!", "магазин", 123, None])
def test_invalid_senders(sender):
    with pytest.raises(RuleViolation):
        check_sender(sender)


@pytest.mark.parametrize("ref", ["a", "A" * 32, "ext_id_19", "order-17"])
def test_valid_references(ref):
    assert check_reference(ref) == ref


@pytest.mark.parametrize("ref", ["", "A" * 33, "a b", "ref#1", 17])
def test_invalid_references(ref):
    with pytest.raises(RuleViolation):
        check_reference(ref)


def test_validity():
    assert check_validity(None) == 72
    assert check_validity(1) == 1 and check_validity("24") == 24
    for bad in (0, 73, -1, "x", 1.5, True):
        with pytest.raises(RuleViolation):
            check_validity(bad)


def test_text_limits():
    assert prepare_text("a" * 765)[1].parts == 5
    with pytest.raises(RuleViolation):
        prepare_text("a" * 766)
    assert prepare_text("я" * 355)[1].encoding == "ucs2"
    with pytest.raises(RuleViolation):
        prepare_text("я" * 356)
    text, info = prepare_text("Привіт " * 100, transliterate_text=True)
    assert info.encoding == "gsm7" and text.startswith("Privit")
    with pytest.raises(RuleViolation):
        prepare_text("")


@given(st.decimals(min_value=0, max_value=10**6, places=7, allow_nan=False, allow_infinity=False))
def test_units_round_trip(amount):
    assert from_units(to_units(amount)) == amount


@given(st.integers(min_value=1, max_value=10), st.integers(min_value=0, max_value=10**8))
def test_price_is_parts_times_rate(parts, rate):
    assert message_price_units(parts, rate) == parts * rate
    assert Decimal(format_amount(parts * rate)) == from_units(rate) * parts


def test_format_amount_has_seven_decimals():
    assert format_amount(350000) == "0.0350000"
    assert format_amount(0) == "0.0000000"


def test_price_book_converts_currency():
    book = PriceBook(
        base_currency="EUR",
        tariffs={0: Tariff(0, "Standard", True, True)},
        base_rates={(0, "UA", "sms"): to_units(Decimal("0.035"))},
        currency_rates={"EUR": to_units(Decimal(1)), "UAH": to_units(Decimal("44.5"))},
    )
    assert from_units(book.rate(0, "UA", "sms", "UAH")) == Decimal("1.5575000")
    assert book.rate(0, "PL", "sms", "EUR") is None
    assert book.rate(0, "UA", "sms", "XXX") is None
    assert book.default_tariff == 0 and book.has_tariff(0) and not book.has_tariff(5)


def test_times():
    assert format_time(parse_time("2026-01-02T03:04:05+0200")) == "2026-01-02 01:04:05"
    assert format_time(parse_time("2026-01-02 03:04:05")) == "2026-01-02 03:04:05"
    assert format_time(parse_time("2026-01-02T03:04:05.123456Z")) == "2026-01-02 03:04:05"
    for bad in ("yesterday", "", 5, "2026-13-01 00:00:00"):
        with pytest.raises(InvalidTime):
            parse_time(bad)
