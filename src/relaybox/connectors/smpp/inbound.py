"""Mobile-originated deliver_sm: its text and concatenation, as an `Inbound` report.  Pure.

A deliver_sm is an MO when its esm_class message type (bits 5-2, SMPP 3.4 §5.2.12) is 0000
("default message type"); receipts and notifications are receipts.py's.  Read here:

- **Text** by data_coding (§5.2.19): 0 the SMSC default alphabet, read as GSM 03.38 one octet per
  septet (as relaybox submits; an octet above 0x7F makes the part Latin-1 instead); 1 IA5 (ASCII);
  3 Latin-1 (ISO-8859-1); 8 UCS-2 (UTF-16 big-endian: surrogate pairs, as phones send emoji);
  2 and 4 binary (shown as hexadecimal); 6 Cyrillic (ISO-8859-5), 7 Latin/Hebrew (ISO-8859-8);
  the GSM 03.38 data coding groups 0x10-0x3F and 0xF0-0xFF by their alphabet bits.  Anything else
  is read as Latin-1.  The octets are `short_message`, or the `message_payload` TLV when it is
  empty.
- **Concatenation**: a user data header (esm_class UDHI, 0x40) with IEI 0x00 (8-bit reference)
  or 0x08 (16-bit reference); or the `sar_msg_ref_num`, `sar_total_segments` and
  `sar_segment_seqnum` TLVs (§5.3.2.22-24).  A header that claims more octets than there are,
  a part number of 0 or above the total, or a total of 0 makes the message one piece (its octets
  kept as they came) rather than a part that can never complete.
"""

from __future__ import annotations

from dataclasses import dataclass

from relaybox.domain.segments import decode_gsm7

UDHI = 0x40
TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_MESSAGE_PAYLOAD = 0x0424

_CODECS = {1: "ascii", 3: "latin-1", 6: "iso8859-5", 7: "iso8859-8"}


def is_mobile_originated(esm_class: int) -> bool:
    """esm_class message type 0000: neither a receipt nor a notification (SMPP 3.4 §5.2.12)."""
    return (esm_class >> 2) & 0x0F == 0


@dataclass(frozen=True, slots=True)
class MoText:
    """An MO deliver_sm's text, the encoding its data_coding named, and its concatenation info."""
    text: str
    encoding: str  # gsm7 | ucs2 | latin1 | ascii | binary | cyrillic | hebrew
    reference: int | None = None
    total: int = 1
    number: int = 1


def _alphabet(data_coding: int) -> str:
    """gsm7 | 8bit | ucs2 | codec name, from data_coding."""
    if data_coding == 0:
        return "gsm7"
    if data_coding in (2, 4):
        return "8bit"
    if data_coding == 8:
        return "ucs2"
    if data_coding in _CODECS:
        return _CODECS[data_coding]
    if 0x10 <= data_coding <= 0x3F or 0x40 <= data_coding <= 0x7F:  # general data coding (with class / compressed)
        return ("gsm7", "8bit", "ucs2", "gsm7")[(data_coding >> 2) & 0x03]
    if 0xF0 <= data_coding <= 0xFF:  # data coding / message class: bit 2 8-bit, else default alphabet
        return "8bit" if data_coding & 0x04 else "gsm7"
    if 0xE0 <= data_coding <= 0xEF:  # message waiting indication, UCS-2
        return "ucs2"
    return "latin-1"


def decode_text(payload: bytes, data_coding: int) -> tuple[str, str]:
    """(text, encoding name) of a part's octets after any UDH (see the module docstring)."""
    alphabet = _alphabet(data_coding)
    if alphabet == "gsm7":
        try:
            return decode_gsm7(payload), "gsm7"
        except ValueError:
            return payload.decode("latin-1"), "latin1"
    if alphabet == "ucs2":
        return payload.decode("utf-16-be", errors="replace"), "ucs2"
    if alphabet == "8bit":
        return payload.hex(), "binary"
    names = {"ascii": "ascii", "latin-1": "latin1", "iso8859-5": "cyrillic", "iso8859-8": "hebrew"}
    return payload.decode(alphabet, errors="replace"), names[alphabet]


def _udh_concat(header: bytes) -> tuple[int, int, int] | None:
    offset = 0
    found = None
    while offset + 2 <= len(header):
        iei, size = header[offset], header[offset + 1]
        value = header[offset + 2 : offset + 2 + size]
        if len(value) < size:
            return None
        if iei == 0x00 and size == 3:
            found = (value[0], value[1], value[2])
        elif iei == 0x08 and size == 4:
            found = (int.from_bytes(value[:2], "big"), value[2], value[3])
        offset += 2 + size
    return found


def _int(value: bytes | None) -> int | None:
    return int.from_bytes(value, "big") if value else None


def read_mo(short_message: bytes, esm_class: int, data_coding: int, tlvs: dict[int, bytes]) -> MoText:
    """The text and concatenation of an MO deliver_sm (`tlvs`: tag -> value)."""
    octets = short_message or tlvs.get(TLV_MESSAGE_PAYLOAD) or b""
    payload = octets
    concat: tuple[int, int, int] | None = None
    if esm_class & UDHI and octets:
        length = octets[0]
        if 1 + length <= len(octets):
            concat = _udh_concat(octets[1 : 1 + length])
            payload = octets[1 + length :]
    if concat is None:
        reference = _int(tlvs.get(TLV_SAR_MSG_REF_NUM))
        total = _int(tlvs.get(TLV_SAR_TOTAL_SEGMENTS))
        number = _int(tlvs.get(TLV_SAR_SEGMENT_SEQNUM))
        if reference is not None and total is not None and number is not None:
            concat = (reference, total, number)
    text, encoding = decode_text(payload, data_coding)
    if concat is None:
        return MoText(text, encoding)
    reference, total, number = concat
    if total <= 1 or not 1 <= number <= total:
        return MoText(text, encoding)
    return MoText(text, encoding, reference, total, number)
