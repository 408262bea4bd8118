"""Files of the people's commands: numbers read from a CSV (`relaybox send --csv`) and messages
written to one (`relaybox messages --export`), both streamed row by row (constant memory)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from relaybox.client.models import Message

#: Header names taken for the phone and the reference columns (case-insensitive).
PHONE_HEADERS = ("phone", "number", "msisdn", "phone_number", "mobile")
REFERENCE_HEADERS = ("reference", "reference_id", "ref")


class CsvProblem(ValueError):
    """A numbers file that cannot be sent: `line` is the 1-based line of the file (0 for the file)."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True)
class Row:
    """One recipient of a numbers file: `line` in the file, `phone` as written, `reference` or None."""

    line: int
    phone: str
    reference: str | None


def _digits(phone: str) -> str:
    return phone.strip().lstrip("+").replace(" ", "").replace("-", "").replace(".", "").replace("(", "").replace(")", "")


def _looks_like_phone(cell: str) -> bool:
    digits = _digits(cell)
    return digits.isascii() and digits.isdigit()


def read_numbers(path: Path) -> Iterator[Row]:
    """The recipients of a CSV file, one per non-empty line, read lazily.

    The phone is the column headed phone/number/msisdn/phone_number/mobile, or the first column;
    the reference (optional) the column headed reference/reference_id/ref, or the second column of
    a file without a header.  A first line whose phone cell is not digits is taken as the header.
    Raises CsvProblem for a header without a phone column, or a phone that is not 1–15 digits
    (after dropping `+`, spaces, dashes, dots and brackets) — before the server would refuse it.
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        phone_col, ref_col = 0, None
        for line_no, cells in enumerate(reader, start=1):
            if not cells or all(not c.strip() for c in cells):
                continue
            if line_no == 1 and not _looks_like_phone(cells[0]):
                names = [c.strip().lower() for c in cells]
                phone_col = next((names.index(n) for n in PHONE_HEADERS if n in names), -1)
                if phone_col < 0:
                    raise CsvProblem(1, f"no phone column in the header (name one of: {', '.join(PHONE_HEADERS)})")
                ref_col = next((names.index(n) for n in REFERENCE_HEADERS if n in names), None)
                continue
            if line_no == 1 and len(cells) > 1:
                ref_col = 1
            phone = cells[phone_col].strip() if phone_col < len(cells) else ""
            digits = _digits(phone)
            if not (digits.isascii() and digits.isdigit() and len(digits) <= 15):
                raise CsvProblem(line_no, f"{phone!r} is not a phone number (1 to 15 digits)")
            reference = cells[ref_col].strip() if ref_col is not None and ref_col < len(cells) else ""
            yield Row(line_no, digits, reference or None)


def chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """`rows` in lists of at most `size` (one campaign each)."""
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


#: Columns of `relaybox messages --export`; times UTC as `YYYY-MM-DD HH:MM:SS`, price in `currency`.
EXPORT_COLUMNS = ("id", "campaign_id", "reference_id", "phone", "sender", "status", "type", "source", "country",
                  "parts", "validity", "price", "currency", "created_at", "sent_at", "delivered_at", "text")


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def export_row(m: Message) -> list[str]:
    """One message as a line of the export (EXPORT_COLUMNS)."""
    amount = m.amount
    values = (
        m.id, m.campaign_id, m.reference_id, m.phone, m.sender, m.status, m.type, m.source, m.country, m.parts,
        m.validity, amount.value if amount else None, amount.currency if amount else None,
        _time(m.created_at), _time(m.sent_at), _time(m.delivered_at), m.text,
    )
    return ["" if v is None else str(v) for v in values]
