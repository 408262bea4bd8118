"""Personalised texts (domain/templates.py)."""

from __future__ import annotations

import pytest

from relaybox.domain.templates import MAX_NAME, Placeholder, TemplateError, parse_template


def test_placeholders_are_replaced_per_contact():
    t = parse_template("Hi {name}, your code is {code}.")
    assert t.fields == {"name", "code"}
    assert not t.is_constant
    assert t.render({"name": "Olena", "code": "42"}) == "Hi Olena, your code is 42."
    assert t.render({"name": "Bob", "code": "7"}) == "Hi Bob, your code is 7."


def test_missing_or_empty_value_is_the_empty_string():
    t = parse_template("Hi {name}!")
    assert t.render({}) == "Hi !"
    assert t.render({"name": ""}) == "Hi !"
    assert t.render({"name": None}) == "Hi !"


def test_doubled_braces_are_literal():
    t = parse_template("{{name}} is {name}; }} and {{")
    assert t.fields == {"name"}
    assert t.render({"name": "Ann"}) == "{name} is Ann; } and {"


def test_text_without_placeholders_is_constant():
    t = parse_template("Plain text, no braces.")
    assert t.is_constant and t.fields == frozenset()
    assert t.render({"x": "y"}) == "Plain text, no braces."
    assert parse_template("").pieces == ()


def test_names_are_exact():
    t = parse_template("{First Name}{ name }{Ім'я}")
    assert t.pieces == (Placeholder("First Name"), Placeholder(" name "), Placeholder("Ім'я"))


def test_values_are_not_interpreted():
    assert parse_template("{a}").render({"a": "{b} }} {{"}) == "{b} }} {{"


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("Hello {name", 6, "Unmatched '{'"),
        ("Hello {", 6, "Unmatched '{'"),
        ("a {b {c} d", 2, "Unmatched '{'"),
        ("50% off}", 7, "Unmatched '}'"),
        ("x {} y", 2, "Empty placeholder"),
        ("{" + "n" * (MAX_NAME + 1) + "}", 0, "not a field name"),
        ("{line\nbreak}", 0, "not a field name"),
    ],
)
def test_bad_braces_are_refused_with_their_position(text, position, fragment):
    with pytest.raises(TemplateError) as info:
        parse_template(text)
    assert info.value.position == position
    assert fragment in str(info.value)
    assert f"character {position + 1}" in str(info.value)


def test_longest_name_is_accepted():
    name = "n" * MAX_NAME
    assert parse_template("{" + name + "}").fields == {name}


def test_round_trip_of_escaped_literal_text():
    # Any text becomes a template of itself once its braces are doubled.
    for raw in ["{", "}", "{}", "a{b}c", "}{", "{{}}", "plain"]:
        escaped = raw.replace("{", "{{").replace("}", "}}")
        t = parse_template(escaped)
        assert t.is_constant
        assert t.render({}) == raw
