"""RCS sends: the content and its SMS fallback are checked here (domain/rcs.py); the
messages are then priced (the `rcs` rate of their country) and written by the
same code as SMS (services/sending.py), so that RCS gets the same all-or-nothing
acceptance, reservation, duplicate detection and group commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from relaybox.domain.rcs import check_options, check_sms_fallback, summary_text
from relaybox.errors import FieldError, LegacyCode
from relaybox.services.sending import SendOptions

#: Legacy codes of the fallback SMS's fields (the legacy API cannot send RCS, but
#: every FieldError carries one).
_CODES = {"text": LegacyCode.INVALID_TEXT, "sender": LegacyCode.INVALID_ORIGINATOR, "validity": LegacyCode.INVALID_VALIDITY}


@dataclass(frozen=True, slots=True)
class FallbackInput:
    """The alternative SMS as the client gave it (`alternative_channel.sms`, or `sms` of messages/send)."""

    path: str
    text: object
    sender: object
    validity: object = None
    transliterate: bool = False
    check_stop_list: bool = True  # leave the fallback out for a phone on the SMS stop list


def rcs_send_options(
    content: object,
    *,
    content_path: str = "options",
    fallback: FallbackInput | None = None,
    validity: object = None,
    start_at: object = None,
    callback_url: str | None = None,
    check_stop_list: bool = True,
) -> tuple[SendOptions, str]:
    """Check an RCS request's content and fallback; return the send options and the message text.

    Nothing raises here: the problems travel in `SendOptions.content_errors`
    and are reported with the recipients' errors, all at once.
    """
    checked, problems = check_options(content, content_path)
    sms = None
    if fallback is not None:
        sms, more = check_sms_fallback(
            fallback.text, fallback.sender, fallback.validity, fallback.path, transliterate=fallback.transliterate
        )
        problems += more
        if sms is not None:
            sms = replace(sms, check_stop_list=fallback.check_stop_list)
    errors = tuple(
        FieldError(path, message, _CODES.get(path.rsplit(".", 1)[-1], LegacyCode.INVALID_PARAMETERS))
        for path, message in problems
    )
    options = SendOptions(
        validity=validity,
        start_at=start_at,
        callback_url=callback_url,
        channel="rcs",
        rcs_options=checked,
        fallback=sms,
        content_errors=errors,
        stop_list="rcs" if check_stop_list else None,
    )
    return options, summary_text(checked or {})
