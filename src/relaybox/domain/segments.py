"""GSM 03.38 / UCS-2 detection and SMS part counting.

An SMS body is 140 octets. With the GSM 03.38 default alphabet (data_coding 0)
that is 160 septets; otherwise the text goes out as UCS-2 and holds 70 UTF-16
code units. A longer text is sent as several parts, each carrying a 6-octet
concatenation UDH, which leaves 153 septets or 67 UCS-2 units per part.

Two details make a plain ``ceil(n / 153)`` wrong in rare cases, and this
module handles both the same way in :func:`analyze` and :func:`split_parts`:

* A GSM extension character (``€``, ``[``, ...) is sent as ESC plus a septet.
  The two septets must stay in one part, or the phone shows garbage.
* A character outside the BMP (most emoji) is a UTF-16 surrogate pair; the two
  units must stay in one part.

When such a character would straddle a part boundary the part ends one unit
early and the character starts the next part. Parts are therefore counted by
greedy packing, not by division, so that ``len(split_parts(t)) ==
analyze(t).parts`` holds for every text and what we bill is what we send.

The module is pure: no I/O, standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "MAX_GSM7_SEPTETS",
    "MAX_UCS2_UNITS",
    "Encoding",
    "SegmentInfo",
    "analyze",
    "decode_gsm7",
    "encode_gsm7",
    "gsm7_septets",
    "is_too_long",
    "split_parts",
]


class Encoding(StrEnum):
    """How a text is put on the wire (SMPP data_coding 0 or 8)."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"


_ESC = 0x1B

# The GSM 03.38 basic table in code-point order: the index of a character is
# its septet value. Position 0x1B is ESC (escape to the extension table) and
# is a placeholder here, not a usable character.
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(_BASIC_TABLE) == 128

# The extension table: septet value after ESC -> character.
_EXTENSION_TABLE: dict[int, str] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_BASIC_CODE: dict[str, int] = {ch: code for code, ch in enumerate(_BASIC_TABLE) if code != _ESC}
_EXTENSION_CODE: dict[str, int] = {ch: code for code, ch in _EXTENSION_TABLE.items()}

#: The 127 usable characters of the GSM 03.38 basic table (128 positions minus ESC).
GSM7_BASIC: frozenset[str] = frozenset(_BASIC_CODE)
#: Extension-table characters; each costs two septets (ESC + code).
GSM7_EXTENSION: frozenset[str] = frozenset(_EXTENSION_CODE)

_SINGLE_LIMIT: dict[Encoding, int] = {Encoding.GSM7: 160, Encoding.UCS2: 70}
_MULTI_LIMIT: dict[Encoding, int] = {Encoding.GSM7: 153, Encoding.UCS2: 67}

#: Longest text we accept, in septets (5 concatenated GSM-7 parts).
MAX_GSM7_SEPTETS = 765
#: Longest text we accept, in UTF-16 code units.
MAX_UCS2_UNITS = 355


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """What a text costs on the wire.

    ``units`` is septets for GSM7 (extension characters count 2) and UTF-16
    code units for UCS2 (a non-BMP character such as an emoji counts 2).
    """

    encoding: Encoding
    units: int
    parts: int


def _detect(text: str) -> Encoding:
    if all(ch in _BASIC_CODE or ch in _EXTENSION_CODE for ch in text):
        return Encoding.GSM7
    return Encoding.UCS2


def _costs(text: str, encoding: Encoding) -> list[int]:
    """Units per character: the indivisible pieces that parts are packed from."""
    if encoding is Encoding.GSM7:
        return [2 if ch in _EXTENSION_CODE else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _part_bounds(costs: list[int], encoding: Encoding) -> list[tuple[int, int]]:
    """Split character indices into parts by greedy packing.

    A character that does not fit whole into the current part opens the next
    one, so a part may end one unit short of the limit. This is the single
    source of truth for both counting and splitting.
    """
    if sum(costs) <= _SINGLE_LIMIT[encoding]:
        return [(0, len(costs))]
    limit = _MULTI_LIMIT[encoding]
    bounds: list[tuple[int, int]] = []
    start = 0
    used = 0
    for index, cost in enumerate(costs):
        if used + cost > limit:
            bounds.append((start, index))
            start, used = index, 0
        used += cost
    bounds.append((start, len(costs)))
    return bounds


def analyze(text: str) -> SegmentInfo:
    """Pick the encoding for ``text`` and count its units and parts.

    GSM7 when every character is in the basic or extension table, else UCS2.
    Empty text is one part; rejecting empty messages is the caller's job.
    Parts come from the same greedy packing as :func:`split_parts`, which
    equals ``ceil(units / 153)`` (or ``/ 67``) unless a two-unit character
    falls on a part boundary, in which case it may be one more.
    """
    encoding = _detect(text)
    costs = _costs(text, encoding)
    return SegmentInfo(
        encoding=encoding,
        units=sum(costs),
        parts=len(_part_bounds(costs, encoding)),
    )


def is_too_long(info: SegmentInfo) -> bool:
    """True when the text exceeds the platform's maximum message length."""
    limit = MAX_GSM7_SEPTETS if info.encoding is Encoding.GSM7 else MAX_UCS2_UNITS
    return info.units > limit


def split_parts(text: str) -> list[str]:
    """Split ``text`` into the parts it is sent as.

    One part when it fits in 160 septets / 70 UCS-2 units; otherwise parts of
    at most 153 septets / 67 units, never cutting an extension character or a
    surrogate pair in two (such a part ends one unit early). Joining the parts
    gives back ``text``, and ``len(split_parts(t)) == analyze(t).parts``.
    """
    encoding = _detect(text)
    bounds = _part_bounds(_costs(text, encoding), encoding)
    return [text[start:end] for start, end in bounds]


def gsm7_septets(text: str) -> int:
    """Septets needed for ``text`` in GSM-7; ValueError if it is not GSM-7."""
    return len(encode_gsm7(text))


def encode_gsm7(text: str) -> bytes:
    """Encode to unpacked GSM 03.38: one byte per septet, ESC before extensions.

    This is the form SMPP uses for data_coding 0. Raises UnicodeEncodeError
    (a ValueError) for a character outside the GSM alphabet.
    """
    out = bytearray()
    for index, ch in enumerate(text):
        code = _BASIC_CODE.get(ch)
        if code is not None:
            out.append(code)
            continue
        code = _EXTENSION_CODE.get(ch)
        if code is None:
            raise UnicodeEncodeError(
                "gsm7", text, index, index + 1, "character not in the GSM 03.38 alphabet"
            )
        out += bytes((_ESC, code))
    return bytes(out)


def decode_gsm7(data: bytes) -> str:
    """Decode unpacked GSM 03.38 bytes; the inverse of :func:`encode_gsm7`.

    Inbound traffic is not always tidy, so this follows the receiver rules of
    GSM 03.38 instead of failing: ESC followed by a code with no extension
    character shows the basic-table character, and ESC ESC (reserved for a
    further extension table) or a trailing lone ESC shows a space. Bytes
    above 0x7F raise UnicodeDecodeError (a ValueError).
    """
    out: list[str] = []
    index = 0
    size = len(data)
    while index < size:
        code = data[index]
        if code > 0x7F:
            raise UnicodeDecodeError("gsm7", bytes(data), index, index + 1, "byte is not a septet")
        if code != _ESC:
            out.append(_BASIC_TABLE[code])
            index += 1
            continue
        if index + 1 >= size:
            out.append(" ")
            break
        follow = data[index + 1]
        if follow > 0x7F:
            raise UnicodeDecodeError(
                "gsm7", bytes(data), index + 1, index + 2, "byte is not a septet"
            )
        if follow == _ESC:
            out.append(" ")
        else:
            out.append(_EXTENSION_TABLE.get(follow, _BASIC_TABLE[follow]))
        index += 2
    return "".join(out)
