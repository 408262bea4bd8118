"""A message's text as SMPP parts: data_coding, UDH concatenation, short_message octets.

Pure: the parts come from `domain/segments.py`'s `split_parts`, so relaybox sends
exactly the number of parts it counted and billed.  GSM 03.38 texts go out with
data_coding 0 (the SMSC default alphabet), one octet per septet (`encode_gsm7`;
the SMSC packs them for the air interface); other texts with data_coding 8,
UCS-2 (UTF-16 big-endian; a character outside the BMP is its surrogate pair).
A text of more than one part carries a 6-octet concatenation UDH in each part
(IEI 0x00, 8-bit reference) — the 6 octets that leave 153 septets or 67 UCS-2
units per part, as counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from relaybox.domain.segments import Encoding, analyze, decode_gsm7, encode_gsm7, split_parts

DATA_CODING = {Encoding.GSM7: 0x00, Encoding.UCS2: 0x08}
UDHI = 0x40  # esm_class: short_message starts with a user data header
_IEI_CONCAT_8 = 0x00
_IEI_CONCAT_16 = 0x08


@dataclass(frozen=True, slots=True)
class Part:
    """One submit_sm's short_message with its data_coding and esm_class (UDHI set when it carries a UDH)."""
    number: int  # 1-based
    total: int
    data_coding: int
    esm_class: int
    short_message: bytes


def concat_reference(message_id: int) -> int:
    """The concatenation reference of a message's parts: the same on every (re)submission."""
    return message_id & 0xFF


def encode_parts(text: str, message_id: int) -> list[Part]:
    """A text as submit_sm parts: GSM 03.38 7-bit (data_coding 0) or UCS-2 big-endian (0x08); several parts carry an
    8-bit-reference concatenation UDH (IEI 0x00, 3GPP TS 23.040 §9.2.3.24.1) with the reference from `message_id`.
    """
    info = analyze(text)
    data_coding = DATA_CODING[info.encoding]
    encode = encode_gsm7 if info.encoding is Encoding.GSM7 else (lambda s: s.encode("utf-16-be"))
    pieces = split_parts(text)
    if len(pieces) == 1:
        return [Part(1, 1, data_coding, 0x00, encode(pieces[0]))]
    total = len(pieces)
    reference = concat_reference(message_id)
    return [
        Part(number, total, data_coding, UDHI, bytes((5, _IEI_CONCAT_8, 3, reference, total, number)) + encode(piece))
        for number, piece in enumerate(pieces, start=1)
    ]


@dataclass(frozen=True, slots=True)
class DecodedPart:
    """A received short_message as text, with its concatenation reference, total and number (1-based) when it has one."""
    text: str
    reference: int | None  # None: not a concatenated part
    total: int
    number: int


def decode_part(short_message: bytes, data_coding: int, esm_class: int) -> DecodedPart:
    """The inverse of `encode_parts` for one part (the SMSC simulator and the tests read parts with it)."""
    reference, total, number = None, 1, 1
    payload = short_message
    if esm_class & UDHI and short_message:
        length = short_message[0]
        header = short_message[1 : 1 + length]
        payload = short_message[1 + length :]
        offset = 0
        while offset + 2 <= len(header):
            iei, size = header[offset], header[offset + 1]
            value = header[offset + 2 : offset + 2 + size]
            if iei == _IEI_CONCAT_8 and size == 3:
                reference, total, number = value[0], value[1], value[2]
            elif iei == _IEI_CONCAT_16 and size == 4:
                reference, total, number = int.from_bytes(value[:2], "big"), value[2], value[3]
            offset += 2 + size
    if data_coding == 0x08:
        text = payload.decode("utf-16-be")
    elif data_coding in (0x00, 0x01):
        text = decode_gsm7(payload)
    else:  # 0x03 Latin-1 and anything else: best effort
        text = payload.decode("latin-1")
    return DecodedPart(text, reference, total, number)
