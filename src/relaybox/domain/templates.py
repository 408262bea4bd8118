"""Personalised texts: `{field}` placeholders filled per contact (sends to contact lists).

The rules (docs/sending-to-lists.md):

- `{name}` stands for the value of the account's custom contact field called `name`, matched
  exactly (case and spaces included).  A name is 1-64 characters (the length of a field name)
  and contains no brace and no line break.
- `{{` is a literal `{` and `}}` a literal `}`.
- Any other brace (`{` that does not open a placeholder, `{}` , a `}` alone) is an error: the
  text is refused with the character position, rather than sent with a stray brace.
- A field that exists but has no value for a contact (or an empty one) is replaced by the empty
  string.  Whether a field exists is the caller's check (`Template.fields`), made once per
  request against the account's fields, so that an unknown field is refused before anything
  is sent.
- A value is inserted as it is: braces inside a value are not placeholders.

Pure: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Longest placeholder name (store/tables.py `contact_fields.name`).
MAX_NAME = 64


class TemplateError(ValueError):
    """The text is not a valid template; the message says where and why."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.position = position  # 0-based index of the offending character


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A `{name}` in a template: the custom contact field to fill in."""
    name: str


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed text: literal pieces and placeholders, in order."""

    pieces: tuple[str | Placeholder, ...]

    @property
    def fields(self) -> frozenset[str]:
        """The field names the text refers to."""
        return frozenset(p.name for p in self.pieces if isinstance(p, Placeholder))

    @property
    def is_constant(self) -> bool:
        """True when the text has no placeholder: every contact gets the same text."""
        return not any(isinstance(p, Placeholder) for p in self.pieces)

    def render(self, values: Mapping[str, str | None]) -> str:
        """The text for one contact; a name missing from `values` (or None) gives ''."""
        return "".join(p if isinstance(p, str) else (values.get(p.name) or "") for p in self.pieces)


def parse_template(text: str) -> Template:
    """Parse `text` into a Template.

    Raises TemplateError for an unmatched `{` or `}`, an empty `{}`, a name longer than
    MAX_NAME characters or holding a line break.
    """
    pieces: list[str | Placeholder] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                literal.append("{")
                i += 2
                continue
            end = text.find("}", i + 1)
            inner = text[i + 1:end] if end != -1 else ""
            if end == -1 or "{" in inner:
                raise TemplateError(
                    f"Unmatched '{{' at character {i + 1}: write '{{{{' for a literal brace.", i)
            if not inner:
                raise TemplateError(f"Empty placeholder '{{}}' at character {i + 1}.", i)
            if len(inner) > MAX_NAME or "\n" in inner or "\r" in inner:
                raise TemplateError(
                    f"The placeholder at character {i + 1} is not a field name (at most {MAX_NAME} "
                    "characters on one line); write '{{' for a literal brace.", i)
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(Placeholder(inner))
            i = end + 1
        elif ch == "}":
            if text.startswith("}}", i):
                literal.append("}")
                i += 2
                continue
            raise TemplateError(f"Unmatched '}}' at character {i + 1}: write '}}}}' for a literal brace.", i)
        else:
            # copy the run of ordinary characters in one slice
            j = i + 1
            while j < n and text[j] not in "{}":
                j += 1
            literal.append(text[i:j])
            i = j
    if literal:
        pieces.append("".join(literal))
    return Template(tuple(pieces))
