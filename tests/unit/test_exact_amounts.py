"""Operator amounts (`relaybox account top-up`): exact decimals or a one-line refusal, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from relaybox.domain.money import MAX_TOP_UP, parse_exact_amount, to_units


@pytest.mark.parametrize(
    "text, expected",
    [("25", "25"), ("12.50", "12.5"), ("0.0000001", "0.0000001"), ("0.3", "0.3"), ("100000000000", "100000000000"),
     ("007.1000000", "7.1")],
)
def test_plain_decimals_are_taken_exactly(text, expected):
    amount = parse_exact_amount(text)
    assert amount == Decimal(expected) and to_units(amount) == Decimal(expected) * 10**7


@pytest.mark.parametrize(
    "text",
    ["", " 5", "5 ", "-5", "+5", "0", "0.0", "1e3", "1E3", "0.1e1", "NaN", "inf", "Infinity", "1,5", "1.2.3", ".5",
     "5.", "0x10", "١٢", "５", "0.00000001", "100000000000.0000001", "1_000", "5 EUR", "\x005"],
)
def test_anything_else_is_refused_in_one_line(text):
    with pytest.raises(ValueError) as info:
        parse_exact_amount(text)
    assert "\n" not in str(info.value)


def test_floats_are_refused():
    with pytest.raises(ValueError, match="not float"):
        parse_exact_amount(0.1)  # type: ignore[arg-type]
    assert MAX_TOP_UP * 10**7 < 2**63
