"""Field rules shared by both API families: sender, reference, validity, text."""

from __future__ import annotations

import re

from relaybox.domain.segments import SegmentInfo, analyze, is_too_long
from relaybox.domain.transliterate import transliterate

_ALPHA_SENDER = re.compile(r"[A-Za-z0-9 .\-_&]{3,11}")
_NUMERIC_SENDER = re.compile(r"[0-9]{3,15}")
# The legacy docs show `_` in reference examples, and clients send `-`: both accepted.
_REFERENCE = re.compile(r"[A-Za-z0-9_\-]{1,32}")

DEFAULT_VALIDITY_HOURS = 72
MIN_VALIDITY_HOURS = 1
MAX_VALIDITY_HOURS = 72


class RuleViolation(ValueError):
    """A field breaks a rule; the message says what is wrong with it."""


def check_sender(sender: object) -> str:
    """The sender (originator): 3-11 Latin letters, digits, spaces or `.-_&` (not all digits), or 3-15 digits.
    Raises RuleViolation.
    """
    if not isinstance(sender, str) or not (
        _NUMERIC_SENDER.fullmatch(sender) or (_ALPHA_SENDER.fullmatch(sender) and not sender.isdigit())
    ):
        raise RuleViolation(
            "The sender must be 3-11 Latin letters, digits, spaces or .-_& characters, or 3-15 digits."
        )
    return sender


def check_reference(reference: object) -> str:
    """A message reference: 1-32 of A-Z, a-z, 0-9, `_`, `-`. Raises RuleViolation."""
    if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
        raise RuleViolation("The reference must be 1-32 characters of A-Z, a-z, 0-9, _ or -.")
    return reference


def check_validity(validity: object) -> int:
    """Validity in hours, 1-72 (an int or a digit string); None gives DEFAULT_VALIDITY_HOURS. Raises RuleViolation."""
    if validity is None:
        return DEFAULT_VALIDITY_HOURS
    if isinstance(validity, bool) or not isinstance(validity, int):
        if isinstance(validity, str) and validity.strip().isascii() and validity.strip().isdigit():
            validity = int(validity)
        else:
            raise RuleViolation("The validity must be an integer number of hours from 1 to 72.")
    if not MIN_VALIDITY_HOURS <= validity <= MAX_VALIDITY_HOURS:
        raise RuleViolation("The validity must be an integer number of hours from 1 to 72.")
    return validity


def prepare_text(text: object, transliterate_text: bool = False) -> tuple[str, SegmentInfo]:
    """Return the text as it will be sent and its segment analysis."""
    if not isinstance(text, str) or text == "":
        raise RuleViolation("The text field is required.")
    if transliterate_text:
        text = transliterate(text)
    info = analyze(text)
    if is_too_long(info):
        raise RuleViolation("The text is too long: at most 765 GSM characters or 355 Unicode characters.")
    return text, info
