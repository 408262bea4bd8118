"""The contact book's pure rules (domain/contacts.py): phones, names, typed values, search criteria."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from relaybox.domain import contacts as rules
from relaybox.domain.contacts import CONTACT_SEARCH, LIST_SEARCH, STOPLIST_SEARCH, CriterionProblem
from relaybox.domain.rules import RuleViolation


@pytest.mark.parametrize("value, expected", [
    (380971234567, 380971234567), ("+380971234567", 380971234567), ("+3306 12345678".replace(" ", ""), 33612345678),
    (447700900123, 447700900123),
])
def test_contact_phones_are_e164(value, expected):
    assert rules.contact_phone(value) == expected


@pytest.mark.parametrize("value", [12, "abc", 38097123, "", None, True, 6823456, "+1 650 253 0000", 10**16])
def test_bad_contact_phones(value):
    with pytest.raises(RuleViolation):
        rules.contact_phone(value)


@pytest.mark.parametrize("kind, value, stored", [
    ("text", "Ann", "Ann"), ("text", "", None), ("text", None, None), ("text", 42, "42"),
    ("number", " 42 ", "42"), ("number", "-3.5", "-3.5"), ("number", ".5", ".5"), ("number", 7, "7"),
    ("date", "1994-05-01", "1994-05-01"), ("date", "2018-12-24T10:00:00+02:00", "2018-12-24 08:00:00"),
    ("date", "2018-12-24 10:00:00", "2018-12-24 10:00:00"),
])
def test_field_values(kind, value, stored):
    assert rules.field_value(kind, value) == stored


@pytest.mark.parametrize("kind, value", [
    ("number", "forty"), ("number", "1e5"), ("number", "1,5"), ("number", "9" * 41), ("date", "1994-02-30"),
    ("date", "yesterday"), ("text", "x" * 256), ("text", "a\x00b"), ("text", "\ud800"), ("text", True),
    ("text", ["a"]), ("text", {"a": 1}),
])
def test_bad_field_values(kind, value):
    with pytest.raises(RuleViolation):
        rules.field_value(kind, value)


def test_names():
    assert rules.check_list_name("VIP") == "VIP"
    assert rules.check_field_name("first name") == "first name"
    for bad in ("ab", "x" * 51, "   ", 3, None):
        with pytest.raises(RuleViolation):
            rules.check_list_name(bad)
    for bad in ("", "{name}", "a}b", "tab\there", "y" * 31):
        with pytest.raises(RuleViolation):
            rules.check_field_name(bad)
    assert rules.check_description(None) is None
    with pytest.raises(RuleViolation):
        rules.check_description("")


def test_criteria():
    c = rules.criterion("id", ">", "17", CONTACT_SEARCH, {})
    assert (c.field, c.operator, c.value) == ("id", ">", 17)
    c = rules.criterion("phone", None, "+380971234567", CONTACT_SEARCH, {})
    assert (c.operator, c.value) == ("like", "380971234567")
    c = rules.criterion("phone", "=", "+3306 12345678".replace(" ", ""), CONTACT_SEARCH, {})
    assert c.value == 33612345678
    c = rules.criterion("4", "<=", "10.5", CONTACT_SEARCH, {4: "number"})
    assert (c.field, c.value) == (4, Decimal("10.5"))
    c = rules.criterion("5", None, "Ann", CONTACT_SEARCH, {5: "text"})
    assert (c.field, c.operator, c.value) == (5, "like", "Ann")
    c = rules.criterion("created_at", ">=", "2026-01-01", CONTACT_SEARCH, {})
    assert c.value == datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.criterion("type", None, "rcs", STOPLIST_SEARCH).value == "rcs"
    assert rules.criterion("items", ">", "0", LIST_SEARCH).value == 0


@pytest.mark.parametrize("field, operator, value, part", [
    ("colour", "=", "x", "field"), ("4", "=", "x", "field"), ("", "=", "x", "field"), (None, None, "x", "field"),
    ("phone", ">", "1", "operator"), ("id", "like", "1", "operator"), ("id", "<>", "1", "operator"),
    ("id", "=", "abc", "value"), ("id", "=", None, "value"), ("created_at", "=", "soon", "value"),
    ("5", ">", "x", "value"), ("phone", "=", "12", "value"), ("group_id", ">", "1", "operator"),
])
def test_bad_criteria(field, operator, value, part):
    with pytest.raises(CriterionProblem) as problem:
        rules.criterion(field, operator, value, CONTACT_SEARCH, {5: "number"})
    assert problem.value.part == part


def test_like_patterns_take_wildcards_literally():
    assert rules.like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
