"""Text no backend can store: NUL characters and lone UTF-16 surrogates.

PostgreSQL refuses U+0000 in `text`/`varchar` ("invalid byte sequence for
encoding UTF8: 0x00") and in `jsonb` ("unsupported Unicode escape sequence"),
and a lone surrogate (U+D800-U+DFFF, e.g. a JSON `"\\ud800"` without its pair)
has no UTF-8 form at all, so neither asyncpg nor sqlite3 can send it.  Every
other character of a Python `str` is valid UTF-8 and storable in both
backends.  SQLite would store a NUL, but the rule is the same on both so that
what a tenant may send does not depend on the backend.

Pure: `unstorable_fields` walks decoded JSON (or any dicts, lists and strings)
and names each value or key that breaks the rule, with the field path the One
API reports and the legacy error code of the field (`FIELD_CODES`).
"""

from __future__ import annotations

import re

#: NUL and every UTF-16 surrogate code point (a pair decodes to one character, so what is left is lone).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

#: Legacy error code of a field named so (both families' names), for a value it cannot store.
#: Fields not listed are legacy 7 (invalid parameters); a key that cannot be stored is 24 (invalid payload).
FIELD_CODES: dict[str, int] = {
    "text": 26, "body": 26,  # empty or too long text
    "sender": 25, "originator": 25,  # invalid originator
    "reference": 27, "reference_id": 27,  # invalid reference
    "msisdn": 21, "phone": 21, "number": 21,  # invalid phone
    "tariff": 6, "tariff_code": 6,  # invalid tariff
    "validity": 28,  # invalid validity
    "send_time": 10, "start_at": 10,  # invalid send time
    "task_id": 29,  # invalid task id
}
INVALID_PARAMETERS = 7
INVALID_PAYLOAD = 24

MESSAGE = "The {name} field contains a character that cannot be stored (NUL or an unpaired UTF-16 surrogate)."


def is_storable(text: str) -> bool:
    """False when `text` holds a NUL or a lone surrogate."""
    return _UNSTORABLE.search(text) is None


def printable(text: str) -> str:
    """`text` with its unstorable characters written as `\\uXXXX` (to name a key in an error)."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def field_code(path: str) -> int:
    """The legacy error code for an unstorable value at `path` (e.g. `phones.3.reference` is 27)."""
    for part in reversed(path.split(".")):
        if not part.isdigit():
            return FIELD_CODES.get(part, INVALID_PARAMETERS)
    return INVALID_PARAMETERS


def unstorable_fields(value: object, path: str = "") -> list[tuple[str, int]]:
    """Every (field path, legacy code) under `value` whose string or key cannot be stored, in document order.

    Paths are dotted with list indexes as numbers (`messages.0.text`), as the One API reports
    them.  Iterative, so that a document nested as deep as a JSON parser allows cannot exhaust
    the interpreter's stack.
    """
    found: list[tuple[str, int]] = []
    stack: list[tuple[str, object]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if not is_storable(item):
                found.append((where or "body", field_code(where)))
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                name = key if isinstance(key, str) else str(key)
                child_path = f"{where}.{printable(name)}" if where else printable(name)
                if not is_storable(name):
                    found.append((child_path, INVALID_PAYLOAD))
                    continue
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(f"{where}.{i}" if where else str(i), child) for i, child in enumerate(item)]))
    return found


def bracket_path(name: str) -> str:
    """A query parameter's name as a field path: `filter[reference_id]` is `filter.reference_id`."""
    return printable(name).replace("][", ".").replace("[", ".").replace("]", "")
