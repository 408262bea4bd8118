"""RCS content rules (domain/rcs.py) and the RCS money and fallback rules (domain/status.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaybox.domain.rcs import (
    FALLBACK_AFTER,
    MAX_CARDS,
    MAX_SUGGESTIONS,
    check_agent,
    check_options,
    check_sms_fallback,
    fallback_due,
    first_suggestion,
    is_web_url,
    summary_text,
)
from relaybox.domain.rules import RuleViolation
from relaybox.domain.status import FINAL, Channel, MessageStatus, refundable

statuses = st.sampled_from(list(MessageStatus))


def card(**extra) -> dict:
    return {"text": "Hello", **extra}


def link(**extra) -> dict:
    return {"text": "Go", "url": "https://example.com/", **extra}


def paths(raw, path="options") -> set[str]:
    return {p for p, _ in check_options(raw, path)[1]}


# -- content that is accepted ----------------------------------------------------------


def test_text_only():
    assert check_options({"text": "Hello! ☺️"}) == ({"text": "Hello! ☺️"}, [])


def test_cards_are_normalised_with_suggestion_types():
    raw = {
        "cards": [
            {
                "title": "The message",
                "text": "Hello",
                "media": {"url": "https://domain.com/video.mp4", "extra": 1},
                "suggestions": [
                    {"text": "Go to site", "url": "https://domain.com/", "postback_data": "site"},
                    {"text": "Call us", "phone": "+380991112233"},
                ],
                "unknown": "ignored",
            },
            {"media": {"url": "http://domain.com/a.png"}},
        ]
    }
    content, problems = check_options(raw)
    assert problems == []
    assert content == {
        "cards": [
            {
                "title": "The message",
                "text": "Hello",
                "media": {"url": "https://domain.com/video.mp4"},
                "suggestions": [
                    {"type": "link", "text": "Go to site", "url": "https://domain.com/", "postback_data": "site"},
                    {"type": "call", "text": "Call us", "phone": "380991112233"},
                ],
            },
            {"media": {"url": "http://domain.com/a.png"}},
        ]
    }


def test_explicit_types_and_integer_call_numbers():
    content, problems = check_options(
        {"cards": [card(suggestions=[{"type": "call", "text": "Call", "phone": 380991112233}])]}
    )
    assert problems == [] and content["cards"][0]["suggestions"][0]["phone"] == "380991112233"


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("+3800991112233", "380991112233"),  # Ukraine's trunk prefix after the country code is dropped
        ("+330612345678", "33612345678"),  # France
        (68271234, "68271234"),  # Cook Islands: a whole number of 8 digits
        ("+390612345678", "390612345678"),  # Italy keeps its leading 0
    ],
)
def test_call_numbers_are_stored_in_e164(written, stored):
    content, problems = check_options({"cards": [card(suggestions=[{"type": "call", "text": "Call", "phone": written}])]})
    assert problems == [] and content["cards"][0]["suggestions"][0]["phone"] == stored


def test_text_and_cards_together():
    # The official client's model of the `rcs` object of /api/messages/send requires both.
    content, problems = check_options({"text": "Hi", "cards": [card()], "sender": "agent"}, "rcs")
    assert problems == [] and set(content) == {"text", "cards"}


def test_limits_are_inclusive():
    raw = {
        "text": "x" * 160,
        "cards": [
            card(title="t" * 200, text="y" * 1000, suggestions=[link(text="b" * 25, postback_data="p" * 25)] * MAX_SUGGESTIONS)
        ] * MAX_CARDS,
    }
    assert check_options(raw)[1] == []


def test_text_is_counted_in_utf16_units():
    assert check_options({"text": "😀" * 80})[1] == []
    assert paths({"text": "😀" * 81}) == {"options.text"}


# -- content that is refused, with its path -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, {"options"}),
        ({"text": None, "cards": None}, {"options"}),
        ("Hello", {"options"}),
        ({"text": ""}, {"options.text"}),
        ({"text": 5}, {"options.text"}),
        ({"text": "x" * 161}, {"options.text"}),
        ({"cards": []}, {"options.cards"}),
        ({"cards": {"text": "a"}}, {"options.cards"}),
        ({"cards": [card()] * (MAX_CARDS + 1)}, {"options.cards"}),
        ({"cards": ["card"]}, {"options.cards.0"}),
        ({"cards": [{"title": "Only a title"}]}, {"options.cards.0"}),
        ({"cards": [card(title="t" * 201)]}, {"options.cards.0.title"}),
        ({"cards": [card(text="y" * 1001)]}, {"options.cards.0.text"}),
        ({"cards": [card(media="https://x.test/a.png")]}, {"options.cards.0.media"}),
        ({"cards": [card(media={"url": "ftp://x.test/a.png"})]}, {"options.cards.0.media.url"}),
        ({"cards": [card(media={"url": "x.test/a.png"})]}, {"options.cards.0.media.url"}),
        ({"cards": [card(media={})]}, {"options.cards.0.media.url"}),
        ({"cards": [card(suggestions=[link()] * (MAX_SUGGESTIONS + 1))]}, {"options.cards.0.suggestions"}),
        ({"cards": [card(suggestions=link())]}, {"options.cards.0.suggestions"}),
        ({"cards": [card(suggestions=["Go"])]}, {"options.cards.0.suggestions.0"}),
        ({"cards": [card(suggestions=[link(type="reply")])]}, {"options.cards.0.suggestions.0.type"}),
        ({"cards": [card(suggestions=[{"text": "Go"}])]}, {"options.cards.0.suggestions.0.type"}),
        ({"cards": [card(suggestions=[link(phone="380991112233")])]}, {"options.cards.0.suggestions.0.type"}),
        ({"cards": [card(suggestions=[link(text="b" * 26)])]}, {"options.cards.0.suggestions.0.text"}),
        ({"cards": [card(suggestions=[link(text="")])]}, {"options.cards.0.suggestions.0.text"}),
        ({"cards": [card(suggestions=[link(url="javascript:alert(1)")])]}, {"options.cards.0.suggestions.0.url"}),
        ({"cards": [card(suggestions=[link(type="link", url=None)])]}, {"options.cards.0.suggestions.0.url"}),
        ({"cards": [card(suggestions=[link(postback_data="p" * 26)])]}, {"options.cards.0.suggestions.0.postback_data"}),
        ({"cards": [card(suggestions=[{"text": "Call", "phone": "12345"}])]}, {"options.cards.0.suggestions.0.phone"}),
        ({"cards": [card(suggestions=[{"type": "call", "text": "Call", "phone": "38099abc2233"}])]},
         {"options.cards.0.suggestions.0.phone"}),
    ],
)
def test_bad_content(raw, expected):
    content, problems = check_options(raw)
    assert content is None
    assert {p for p, _ in problems} == expected
    assert all(isinstance(message, str) and message for _, message in problems)


def test_every_problem_is_reported_at_once():
    raw = {
        "text": "",
        "cards": [
            {"title": "No body"},
            card(media={"url": "ftp://x"}, suggestions=[link(type="reply"), link(url="mailto:a@b.c")]),
        ],
    }
    assert paths(raw, "rcs") == {
        "rcs.text",
        "rcs.cards.0",
        "rcs.cards.1.media.url",
        "rcs.cards.1.suggestions.0.type",
        "rcs.cards.1.suggestions.1.url",
    }


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com", True),
        ("HTTP://example.com/a?b=c#d", True),
        ("https://" + "a" * 992, True),  # 1000 characters
        ("https://" + "a" * 993, False),
        ("https://exa mple.com", False),
        ("https://", False),
        ("//example.com", False),
        ("file:///etc/passwd", False),
        ("", False),
        (None, False),
        (5, False),
    ],
)
def test_web_urls(url, ok):
    assert is_web_url(url) is ok


@pytest.mark.parametrize("sender", ["rcs_sender", "A", "Acme Bank — offers", "a" * 40])
def test_good_agent(sender):
    assert check_agent(sender) == sender


@pytest.mark.parametrize("sender", ["", " ", "a" * 41, "tab\tbed", None, 5])
def test_bad_agent(sender):
    with pytest.raises(RuleViolation):
        check_agent(sender)


def test_summary_text_and_first_suggestion():
    assert summary_text({"text": "Hi", "cards": [card(text="Card")]}) == "Hi"
    assert summary_text({"cards": [{"media": {"url": "https://x"}}, card(title="T", text="Body")]}) == "Body"
    assert summary_text({"cards": [{"title": "T", "media": {"url": "https://x"}}]}) == "T"
    assert summary_text({"cards": [{"media": {"url": "https://x"}}]}) == ""
    content, _ = check_options({"cards": [card(), card(suggestions=[link(postback_data="p"), link()])]})
    assert first_suggestion(content) == {"type": "link", "text": "Go", "url": "https://example.com/", "postback_data": "p"}
    assert first_suggestion({"text": "Hi"}) is None and first_suggestion(None) is None


# -- the SMS fallback ---------------------------------------------------------------


def test_sms_fallback_is_checked_by_the_sms_rules():
    fallback, problems = check_sms_fallback("Hello by SMS", "relaybox", None, "alternative_channel.sms")
    assert problems == []
    assert (fallback.text, fallback.sender, fallback.encoding, fallback.parts, fallback.validity) == (
        "Hello by SMS", "relaybox", "gsm7", 1, 72
    )
    assert fallback.priced(0, 350_000) == {
        "text": "Hello by SMS", "sender": "relaybox", "encoding": "gsm7", "parts": 1, "validity": 72,
        "tariff_code": 0, "price": 350_000, "check_stop_list": True,
    }
    long_text, _ = check_sms_fallback("Привет " * 30, "relaybox", 24, "sms")
    assert (long_text.encoding, long_text.parts, long_text.validity) == ("ucs2", 4, 24)
    transliterated, _ = check_sms_fallback("Привет " * 30, "relaybox", 24, "sms", transliterate=True)
    assert (transliterated.encoding, transliterated.parts) == ("gsm7", 2)


def test_bad_sms_fallback():
    fallback, problems = check_sms_fallback("x" * 766, "x", 0, "alternative_channel.sms")
    assert fallback is None
    assert {p for p, _ in problems} == {
        "alternative_channel.sms.text", "alternative_channel.sms.sender", "alternative_channel.sms.validity"
    }
    assert {p for p, _ in check_sms_fallback("", "relaybox", 73, "sms")[1]} == {"sms.text", "sms.validity"}


def test_fallback_follows_the_undeliverable_rcs_statuses():
    assert fallback_due(MessageStatus.NOT_SERVICE_USER)
    assert fallback_due(MessageStatus.UNDELIVERED) and fallback_due(MessageStatus.EXPIRED)
    for status in (MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.FAILED, MessageStatus.UNKNOWN):
        assert not fallback_due(status)
    assert FALLBACK_AFTER <= FINAL


# -- money: RCS is paid only when delivered -------------------------------------------------


def test_rcs_refunds():
    rcs = Channel.RCS
    for end in (MessageStatus.NOT_SERVICE_USER, MessageStatus.UNDELIVERED, MessageStatus.EXPIRED,
                MessageStatus.UNKNOWN):
        assert refundable(MessageStatus.SENT, end, rcs), end
    assert refundable(MessageStatus.SENDING, MessageStatus.FAILED, rcs)
    assert refundable(MessageStatus.ACCEPTED, MessageStatus.EXPIRED, rcs)
    assert not refundable(MessageStatus.SENT, MessageStatus.DELIVERED, rcs)
    assert not refundable(MessageStatus.DELIVERED, MessageStatus.READ, rcs)
    assert not refundable(MessageStatus.SENT, MessageStatus.READ, rcs)
    # the same moves on SMS: paid once an operator took the message
    assert not refundable(MessageStatus.SENT, MessageStatus.UNDELIVERED)
    assert not refundable(MessageStatus.SENT, MessageStatus.EXPIRED)


@given(st.lists(statuses, max_size=12))
def test_an_rcs_message_is_refunded_at_most_once_and_only_if_not_delivered(reports):
    from relaybox.domain.status import can_transition

    current, refunds = MessageStatus.ACCEPTED, 0
    for new in reports:
        if can_transition(current, new, Channel.RCS):
            refunds += refundable(current, new, Channel.RCS)
            current = new
    assert refunds <= 1
    assert refunds == (current in FINAL and current not in (MessageStatus.DELIVERED, MessageStatus.READ))
