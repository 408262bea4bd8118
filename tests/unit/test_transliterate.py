"""Tests for relaybox.domain.transliterate."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaybox.domain.segments import GSM7_BASIC, GSM7_EXTENSION, Encoding, analyze
from relaybox.domain.transliterate import transliterate

CYRILLIC = [chr(cp) for cp in range(0x0400, 0x0460)] + ["Ґ", "ґ"]
GREEK_LOWER = [chr(cp) for cp in range(0x03B1, 0x03CA) if unicodedata.category(chr(cp)) == "Ll"]
LATIN_ACCENTED = [chr(cp) for cp in range(0x00C0, 0x0180) if chr(cp).isalpha()]
TYPOGRAPHY = list("“”„‘’«»–—…\u00a0")
GSM = sorted(GSM7_BASIC | GSM7_EXTENSION)

convertible_text = st.text(
    alphabet=st.sampled_from(GSM + CYRILLIC + GREEK_LOWER + LATIN_ACCENTED + TYPOGRAPHY),
    max_size=200,
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Привіт, світ!", "Privit, svit!"),
        ("Щука", "Shchuka"),
        ("ЩИ", "SHCHI"),
        ("ОБЖ", "OBZH"),
        ("Жанна", "Zhanna"),
        ("жук цирк час шум щи юла яма йод", "zhuk tsirk chas shum shchi yula yama yod"),
        ("подъезд, мышь, это, ёлка", "podezd, mysh, eto, yolka"),
        ("Їжак, єнот, ґанок, м’ясо", "Yizhak, yenot, ganok, m'yaso"),
        ("Ўладзімір", "Uladzimir"),
        ("Ђорђе Љубљана Његош Ћирилица Џеп", "Djordje Ljubljana Njegosh Cirilitsa Dzep"),
        ("Ѓорѓи Ќерка ѕвезда ј", "Gjorgji Kjerka dzvezda j"),
        ("καλημέρα", "kalimera"),
        ("ψυχή θάλασσα", "psychi thalassa"),
        ("ΑΘΗΝΑ", "AΘHNA"),
        ("Łódź Čeština Œuvre ą ę ś ź ż", "Lodz Cestina Oeuvre a e s z z"),
        ("“Hi” — ‘it’s’ «ok» „ja“ – …", "\"Hi\" - 'it's' \"ok\" \"ja\" - ..."),
        ("a\u00a0b\u202fc\td\ne", "a b c\td\ne"),
        ("e\u0301", "é"),
    ],
)
def test_examples(source: str, expected: str) -> None:
    assert transliterate(source) == expected


def test_gsm_letters_are_kept() -> None:
    text = "é è ñ ü ä ö à ù ì ò Ç å ø æ ß Ø Å Æ É Ä Ö Ñ Ü Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ € [ ] { } ~ ^ | \\"
    assert transliterate(text) == text


def test_unmapped_characters_are_left_alone() -> None:
    assert transliterate("Hi 🙂 漢字") == "Hi 🙂 漢字"
    assert transliterate("مرحبا") == "مرحبا"


def test_meaning_changing_folds_are_avoided() -> None:
    assert transliterate("10² ½") == "10² ½"
    assert transliterate("5µg") == "5ug"
    assert transliterate("ﬁne Ａ") == "fine A"


def test_cyrillic_message_becomes_gsm7_and_cheaper() -> None:
    text = "Ваш код подтверждения: 4821. Никому его не сообщайте, даже сотрудникам банка."
    before, after = analyze(text), analyze(transliterate(text))
    assert before.encoding is Encoding.UCS2
    assert after.encoding is Encoding.GSM7
    assert after.parts == 1 < before.parts


@given(convertible_text)
def test_convertible_text_becomes_gsm7(text: str) -> None:
    assert analyze(transliterate(text)).encoding is Encoding.GSM7


@given(st.text(alphabet=GSM, max_size=200))
def test_gsm_text_is_unchanged(text: str) -> None:
    assert transliterate(text) == text


@given(st.text(max_size=200))
def test_idempotent(text: str) -> None:
    once = transliterate(text)
    assert transliterate(once) == once
