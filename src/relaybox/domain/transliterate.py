"""Transliteration to the GSM 03.38 alphabet.

One Cyrillic or accented letter turns a whole message into UCS-2, which cuts a
part from 160 to 70 characters and can more than double the price. When a
customer asks for it, :func:`transliterate` rewrites the text so that it fits
the GSM alphabet where it reasonably can, and leaves alone what it cannot
(emoji, CJK, ...), so the result is never worse than the input.

Mapping choices:

* Cyrillic uses one informal scheme for Russian, Ukrainian, Belarusian,
  Serbian and Macedonian, because the language of a message is unknown:
  ж→zh, х→kh, ц→ts, ч→ch, ш→sh, щ→shch, ю→yu, я→ya, й→y, ы→y, ё→yo, э→e,
  ь and ъ dropped. Ukrainian і→i, ї→yi, є→ye, ґ→g; Belarusian ў→u; Serbian
  and Macedonian ђ→dj, ј→j, љ→lj, њ→nj, ћ→c, џ→dz, ѓ→gj, ќ→kj, ѕ→dz.
* и→i and г→g for every language. Ukrainian official romanisation would give
  и→y and г→h, but the same letters are far more common in Russian text,
  where y and h read wrong; so "Привіт" becomes "Privit".
* Capitals keep their case: Щ→Shch, but in an all-caps word ЩИ→SHCHI.
* Greek lower case goes to Latin (α→a, β→v, θ→th, χ→ch, ψ→ps, ...). Greek
  capitals that the GSM alphabet lacks look exactly like Latin ones (Α, Β,
  Ε, ...), which is why GSM omitted them, so they map to those; Δ Φ Γ Λ Ω Π
  Ψ Σ Θ Ξ are GSM characters and stay.
* Other letters with diacritics that are not GSM characters lose their marks
  (ą→a, č→c, ő→o), by NFKD, plus a few letters that have no decomposition
  (ł→l, đ→d, œ→oe, þ→th). Characters that already are GSM (é, ñ, ü, Ç, ø,
  æ, ß, ...) are kept.
* Typographic quotes become " or ', dashes become -, … becomes ..., and
  every Unicode space becomes a plain space. Tabs, line breaks and other
  whitespace are kept as they are.
* Compatibility forms are folded (ﬁ→fi, full-width Ａ→A) but not
  superscripts, subscripts or fractions, since 10² must not become 102; the
  micro sign µ becomes u (µg→ug), not m, for the same reason.
"""

from __future__ import annotations

import unicodedata

from relaybox.domain.segments import GSM7_BASIC, GSM7_EXTENSION

__all__ = ["transliterate"]

_GSM = GSM7_BASIC | GSM7_EXTENSION

_CYRILLIC_LOWER: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo",
    "ж": "zh", "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Ukrainian
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
    # Belarusian
    "ў": "u",
    # Serbian, Macedonian
    "ђ": "dj", "ј": "j", "љ": "lj", "њ": "nj", "ћ": "c", "џ": "dz",
    "ѓ": "gj", "ќ": "kj", "ѕ": "dz",
}  # fmt: skip

_GREEK_LOWER: dict[str, str] = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i",
    "θ": "th", "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x",
    "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y",
    "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}  # fmt: skip

# Greek capitals missing from GSM, to their Latin look-alikes.
_GREEK_UPPER: dict[str, str] = {
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K",
    "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip

# Latin letters that NFKD does not reduce to GSM characters.
_LATIN_EXTRA: dict[str, str] = {
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D",
    "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ŀ": "l", "Ŀ": "L",
    "ı": "i", "ĸ": "k", "ŋ": "n", "Ŋ": "N", "ŉ": "'n",
    "œ": "oe", "Œ": "Oe", "þ": "th", "Þ": "Th",
}  # fmt: skip

_PUNCTUATION: dict[str, str] = {
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"',
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "‹": "'", "›": "'",
    "ʼ": "'", "´": "'", "`": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "µ": "u",
}  # fmt: skip

_LOWER: dict[str, str] = {**_CYRILLIC_LOWER, **_GREEK_LOWER}

# Case-sensitive table: lower case as is, upper case capitalised (Щ→Shch).
# All-caps context is handled in _map_letter.
_TABLE: dict[str, str] = {
    **_LOWER,
    **{ch.upper(): latin.capitalize() for ch, latin in _CYRILLIC_LOWER.items()},
    **_GREEK_UPPER,
    **_LATIN_EXTRA,
    **_PUNCTUATION,
}

# NFKD tags whose folding keeps the meaning; <super>, <sub>, <fraction>,
# <circle> and the like are left alone.
_SAFE_COMPAT_TAGS = frozenset({"<compat>", "<font>", "<wide>", "<narrow>", "<noBreak>", "<square>"})


def _is_gsm(text: str) -> bool:
    return all(ch in _GSM for ch in text)


def _is_upper_letter(ch: str | None) -> bool:
    return ch is not None and ch.isalpha() and ch.isupper()


def _map_letter(ch: str, prev: str | None, nxt: str | None) -> str | None:
    """Table lookup, upper-casing a multi-letter capital inside an all-caps word."""
    latin = _TABLE.get(ch)
    if latin is None or len(latin) < 2 or not ch.isupper():
        return latin
    if nxt is not None and nxt.isalpha():
        all_caps = nxt.isupper()
    else:
        all_caps = _is_upper_letter(prev)
    return latin.upper() if all_caps else latin


def _fold(ch: str) -> str | None:
    """Strip diacritics and compatibility forms, if that yields GSM characters."""
    decomposition = unicodedata.decomposition(ch)
    if not decomposition:
        return None
    tag = decomposition.split()[0]
    if tag.startswith("<") and tag not in _SAFE_COMPAT_TAGS:
        return None
    pieces = []
    for piece in unicodedata.normalize("NFKD", ch):
        if unicodedata.combining(piece):
            continue
        pieces.append(_TABLE.get(piece, piece))
    folded = "".join(pieces)
    # A lone spacing accent (¨, ¸) would fold to a bare space: keep it instead.
    if not folded.strip() or not _is_gsm(folded):
        return None
    return folded


def _convert(ch: str, prev: str | None, nxt: str | None) -> str:
    if ch in _GSM:
        return ch
    mapped = _map_letter(ch, prev, nxt)
    if mapped is not None:
        return mapped
    if unicodedata.category(ch) == "Zs":
        return " "
    folded = _fold(ch)
    return folded if folded is not None else ch


def transliterate(text: str) -> str:
    """Rewrite ``text`` with GSM 03.38 characters wherever a mapping exists.

    Characters with no sensible GSM form (emoji, CJK, ...) are kept, so a
    message that is UCS-2 only because of Cyrillic, Greek or accented letters
    becomes GSM-7, and any other message is at least no worse.
    """
    # Compose first so that "e" + combining acute becomes the GSM "é".
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    base_was_gsm = False
    size = len(text)
    for index, ch in enumerate(text):
        if unicodedata.combining(ch):
            # A leftover mark (e.g. a stress mark on Cyrillic) sits on a base we
            # already made GSM: drop it. On other scripts it carries meaning.
            if not base_was_gsm:
                out.append(ch)
            continue
        prev = text[index - 1] if index > 0 else None
        nxt = text[index + 1] if index + 1 < size else None
        converted = _convert(ch, prev, nxt)
        out.append(converted)
        base_was_gsm = _is_gsm(converted)
    return "".join(out)
