"""Delivery receipts as SMSCs really write them, and their message ids in every form.  Pure.

Each case is a receipt in the style of one SMSC or SMPP stack (the Appendix B text of
SMPP 3.4 as Logica/OpenSMPP, Kannel, Jasmin, Cloudhopper and vendors bend it), text
only or with the `receipted_message_id` / `message_state` TLVs.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaybox.connectors.smpp.message_ids import fold, receipt_keys, submit_key
from relaybox.connectors.smpp.receipts import (
    decode_receipt_text,
    encode_receipt_text,
    parse_receipt,
    receipt_fields,
    receipt_text,
)
from relaybox.domain.status import MessageStatus

D, U, E, F, K = (MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.EXPIRED,
                 MessageStatus.FAILED, MessageStatus.UNKNOWN)

#: (style, short_message, receipted_message_id TLV, message_state TLV, data_coding,
#:  expected (message_id, stat, status, err))
CASES = [
    ("SMPP 3.4 Appendix B / Logica",
     b"id:0123456789 sub:001 dlvrd:001 submit date:0610191018 done date:0610191018 stat:DELIVRD err:000 "
     b"text:Hello world", None, None, 0, ("0123456789", "DELIVRD", D, "000")),
    ("echoed text with a misleading stat and id",
     b"id:77 sub:001 dlvrd:000 submit date:2611251200 done date:2611251201 stat:UNDELIV err:001 "
     b"text:ok stat:DELIVRD id:99", None, None, 0, ("77", "UNDELIV", U, "001")),
    ("echoed text saying stat:DELIVRD without a space before it",
     b"id:78 sub:001 dlvrd:000 submit date:2611251200 done date:2611251201 stat:EXPIRED err:000 text:stat:DELIVRD",
     None, None, 0, ("78", "EXPIRED", E, "000")),
    ("Kannel, capital Text:",
     b"id:3f2a sub:001 dlvrd:001 submit date:2611251200 done date:2611251201 stat:DELIVRD err:000 Text:hi there",
     None, None, 0, ("3f2a", "DELIVRD", D, "000")),
    ("Jasmin: uuid ids, receipt TLVs",
     b"id:2e8b5a77-63a4-4c0d-9f1a-9b3e3c6e2a11 sub:001 dlvrd:001 submit date:261125120000 "
     b"done date:261125120105 stat:DELIVRD err:000 text:",
     b"2e8b5a77-63a4-4c0d-9f1a-9b3e3c6e2a11\x00", bytes([2]), 0,
     ("2e8b5a77-63a4-4c0d-9f1a-9b3e3c6e2a11", "DELIVRD", D, "000")),
    ("Cloudhopper: 12-digit dates with seconds",
     b"id:0000012345 sub:001 dlvrd:000 submit date:261125120030 done date:261125120145 stat:UNDELIV err:012 "
     b"text:Your code is", None, None, 0, ("0000012345", "UNDELIV", U, "012")),
    ("OpenSMPP-style, every name in capitals",
     b"ID:A1B2C3 SUB:001 DLVRD:001 SUBMIT DATE:2611251200 DONE DATE:2611251201 STAT:DELIVRD ERR:000 TEXT:x",
     None, None, 0, ("A1B2C3", "DELIVRD", D, "000")),
    ("mixed case names (Stat:, Err:)",
     b"Id:5150 Sub:001 Dlvrd:000 Submit Date:2611251200 Done Date:2611251201 Stat:Rejectd Err:045 Text:x",
     None, None, 0, ("5150", "REJECTD", F, "045")),
    ("fields in another order",
     b"stat:EXPIRED err:000 submit date:2611251200 id:991 done date:2611251301 dlvrd:000 sub:001 text:late",
     None, None, 0, ("991", "EXPIRED", E, "000")),
    ("only the id and the state",
     b"id:44 stat:DELIVRD", None, None, 0, ("44", "DELIVRD", D, None)),
    ("extra vendor fields (mcc, mnc, imsi) between the standard ones",
     b"id:812 sub:001 dlvrd:001 mcc:255 mnc:03 submit date:2611251200 done date:2611251201 stat:DELIVRD "
     b"err:000 imsi:255031234567890 text:x", None, None, 0, ("812", "DELIVRD", D, "000")),
    ("extra spaces around values, empty optional fields",
     b"id: 612   sub:  dlvrd: submit date:   done date: stat:  UNDELIVERABLE   err: 069 text: x",
     None, None, 0, ("612", "UNDELIV", U, "069")),
    ("underscored date names, DELIVERED spelled out",
     b"id:70 sub:001 dlvrd:001 submit_date:2611251200 done_date:2611251201 stat:DELIVERED err:0 text:",
     None, None, 0, ("70", "DELIVRD", D, "0")),
    ("message_state TLV wins over a text that disagrees",
     b"id:71 sub:001 dlvrd:000 submit date:2611251200 done date:2611251201 stat:UNDELIV err:001 text:x",
     b"71\x00", bytes([2]), 0, ("71", "DELIVRD", D, "001")),
    ("receipted_message_id TLV in hex, text id in decimal: the TLV wins",
     b"id:4660 sub:001 dlvrd:001 submit date:2611251200 done date:2611251201 stat:DELIVRD err:000 text:x",
     b"1234\x00", None, 0, ("1234", "DELIVRD", D, "000")),
    ("TLVs only, no text at all",
     b"", b"ABCDEF01\x00", bytes([5]), 0, ("ABCDEF01", "UNDELIV", U, None)),
    ("a UCS-2 receipt (data_coding 8) echoing Cyrillic",
     "id:8080 sub:001 dlvrd:001 submit date:2611251200 done date:2611251201 stat:DELIVRD err:000 "
     "text:Привет stat:UNDELIV".encode("utf-16-be"), None, None, 8, ("8080", "DELIVRD", D, "000")),
    ("a GSM 03.38 receipt echoing é and € (octets above 0x1F and ESC)",
     b"id:9 sub:001 dlvrd:001 submit date:2611251200 done date:2611251201 stat:DELIVRD err:000 text:caf\x05 \x1be",
     None, None, 0, ("9", "DELIVRD", D, "000")),
    ("ACCEPTD: an intermediate notice, no status change",
     b"id:300 sub:001 dlvrd:000 submit date:2611251200 done date:2611251200 stat:ACCEPTD err:000 text:x",
     None, None, 0, ("300", "ACCEPTD", None, "000")),
    ("ENROUTE by message_state TLV 1",
     b"", b"301\x00", bytes([1]), 0, ("301", "ENROUTE", None, None)),
    ("ACCEPTED spelled out is the same intermediate state",
     b"id:302 stat:ACCEPTED err:000", None, None, 0, ("302", "ACCEPTD", None, "000")),
    ("a numeric stat (the message_state number in the text)",
     b"id:303 sub:001 dlvrd:001 stat:2 err:000 text:", None, None, 0, ("303", "DELIVRD", D, "000")),
    ("UNKNOWN and DELETED",
     b"id:304 stat:UNKNOWN err:000 text:stat:DELETED", None, None, 0, ("304", "UNKNOWN", K, "000")),
    ("aggregator style: alphanumeric id, submitdate/donedate without a space, zero done date",
     b"id:0118Z-0122I-2309U-57DGB sub:000 dlvrd:000 submitdate:180122230957 donedate:000000000000 "
     b"stat:REJECTD err:375 text:", None, None, 0, ("0118Z-0122I-2309U-57DGB", "REJECTD", F, "375")),
    ("an unknown message_state value falls back to the text",
     b"id:305 stat:DELETED err:000", None, bytes([99]), 0, ("305", "DELETED", U, "000")),
]


@pytest.mark.parametrize(("style", "text", "receipted", "state", "coding", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_receipt_variants(style, text, receipted, state, coding, expected):
    parsed = parse_receipt(text, receipted, state, coding)
    assert parsed is not None, style
    assert (parsed.message_id, parsed.stat, parsed.status, parsed.error) == expected


def test_the_echoed_text_never_supplies_the_fields():
    """The fault: the whole receipt was searched and the last `stat:` won."""
    text = b"id:12 sub:001 dlvrd:000 submit date:2611251200 done date:2611251201 stat:UNDELIV err:001 text:stat:DELIVRD"
    parsed = parse_receipt(text, None, None)
    assert parsed.status is MessageStatus.UNDELIVERED and parsed.message_id == "12"
    # and a receipt whose fields are only in the echoed text names nothing
    assert parse_receipt(b"sub:001 text:id:12 stat:DELIVRD", None, None) is None
    assert parse_receipt(b"id:12 text:stat:DELIVRD", None, None) is None


def test_counts_dates_and_text():
    parsed = parse_receipt(
        b"id:1 sub:003 dlvrd:002 submit date:2611251200 done date:261125120159 stat:DELIVRD err:000 text:Hi: there",
        None, None,
    )
    assert (parsed.submitted, parsed.delivered) == (3, 2)
    assert parsed.submit_date == datetime(2026, 11, 25, 12, 0)
    assert parsed.done_date == datetime(2026, 11, 25, 12, 1, 59)
    assert parsed.text == "Hi: there"
    bad = parse_receipt(b"id:1 submit date:2613251200 done date:26112512 stat:DELIVRD", None, None)
    assert bad.submit_date is None and bad.done_date is None  # month 13; 8 digits
    joined = parse_receipt(b"id:1 submitdate:180122230957 donedate:000000000000 stat:REJECTD", None, None)
    assert joined.submit_date == datetime(2018, 1, 22, 23, 9, 57) and joined.done_date is None


def test_no_id_or_no_known_state_is_not_a_receipt():
    assert parse_receipt(b"stat:DELIVRD err:000", None, None) is None
    assert parse_receipt(b"id:1 stat:WHATEVER", None, None) is None
    assert parse_receipt(b"", None, None) is None
    assert receipt_fields("id:1 foo:bar stat:DELIVRD")["foo"] == "bar"


@pytest.mark.parametrize("text", ["hello", "café € [x] ~^|", "Привет", "🙂 ok", "@£$¥"])
def test_simulator_receipt_text_decodes_by_its_declared_coding(text):
    """Receipts of `relaybox smsc` in GSM 03.38 when the text allows, else UCS-2 — never Latin-1."""
    body = receipt_text("000000000A", "DELIVRD", submitted="2611251200", done="2611251201", text=text)
    coding, octets = encode_receipt_text(body)
    gsm = all(ch not in text for ch in "Привет🙂")
    assert coding == (0 if gsm else 8)
    assert decode_receipt_text(octets, coding) == body
    parsed = parse_receipt(octets, None, None, coding)
    assert (parsed.message_id, parsed.status, parsed.text) == ("000000000A", MessageStatus.DELIVERED, text[:20])


# -- message ids ------------------------------------------------------------------------------

#: (format, submit_sm_resp id, receipt id): the receipt finds its message.
SAME_MESSAGE = [
    ("auto", "0000000006", "6"),
    ("auto", "6", "0000000006"),
    ("auto", "00ABCDEF", "abcdef"),
    ("auto", "abcdef", "ABCDEF"),
    ("auto", "2e8b5a77-63A4", "2E8B5A77-63a4"),
    ("auto", "0", "0000"),
    ("hex", "0000001A2B", "1a2b"),
    ("decimal", "000123", "123"),
    ("hex-decimal", "1A2B3C", "1715004"),
    ("hex-decimal", "001a2b3c", "0001715004"),
    ("hex-decimal", "10", "16"),
    ("decimal-hex", "1715004", "1A2B3C"),
    ("decimal-hex", "16", "10"),
    ("decimal-hex", "0000000016", "0x10".removeprefix("0x")),
    ("as-is", "AbC-007", "AbC-007"),
]


@pytest.mark.parametrize(("fmt", "submitted", "received"), SAME_MESSAGE)
def test_receipt_id_finds_its_submit_id(fmt, submitted, received):
    key, _ = receipt_keys(received, fmt)
    assert key == submit_key(submitted, fmt)


#: auto: the other base is a converted form, tried only later and only onto a waiting message.
CONVERTED = [
    ("1A2B3C", "1715004"),  # submit hex, receipt decimal
    ("000001A2B3C", "01715004"),
    ("1715004", "1a2b3c"),  # submit decimal, receipt hex
    ("26", "1A"),
    ("1a", "26"),
    ("16", "10"),  # digits only both ways: ambiguous, so only ever a converted form
]


@pytest.mark.parametrize(("submitted", "received"), CONVERTED)
def test_auto_finds_the_other_base_as_a_converted_form(submitted, received):
    key, converted = receipt_keys(received, "auto")
    assert key != submit_key(submitted) and submit_key(submitted) in converted


@pytest.mark.parametrize(("fmt", "submitted", "received"), [
    ("as-is", "0000000006", "6"),
    ("as-is", "abc", "ABC"),
    ("hex", "1A", "26"),
    ("decimal", "26", "1a"),
    ("hex-decimal", "10", "10"),  # 0x10 is 16, not 10
    ("decimal-hex", "10", "10"),
])
def test_forced_formats_do_not_match_other_forms(fmt, submitted, received):
    key, converted = receipt_keys(received, fmt)
    assert key != submit_key(submitted, fmt) and converted == ()


def test_id_forms_edge_cases():
    assert fold(" 00Ab\x00junk") == "ab"
    assert submit_key("") == "" and receipt_keys("")[0] == ""
    huge = "9" * 60  # no int() of absurdly long ids
    assert receipt_keys(huge) == (huge, ()) and submit_key(huge, "hex-decimal") == huge
    assert receipt_keys("not-a-number!", "decimal-hex") == ("not-a-number!", ())


# -- hostile input -------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=300),
    st.one_of(st.none(), st.binary(max_size=70)),
    st.one_of(st.none(), st.binary(max_size=2)),
    st.sampled_from([0, 1, 3, 8, 0xF0]),
)
def test_any_octets_parse_or_are_refused_never_raise(text, receipted, state, coding):
    parsed = parse_receipt(text, receipted, state, coding)
    if parsed is not None:
        assert parsed.message_id and parsed.stat
        key, converted = receipt_keys(parsed.message_id)
        assert len(key) <= len(parsed.message_id) and all(len(c) <= 64 for c in converted)
