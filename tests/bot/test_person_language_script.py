"""The script a family writes in (bot.domain.person_language.written_in, wrote_otherwise):
Cyrillic reads as Ukrainian and Arabic letters as Arabic when they are at least half of the
letters; Latin letters are never guessed."""

from __future__ import annotations

import pytest

from bot.domain.person_language import written_in, wrote_otherwise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Привіт, коли буде зустріч?", "uk"),
        ("Здравствуйте! Когда встреча?", "uk"),  # Russian: Cyrillic all the same
        ("مرحبا، متى الموعد؟", "ar"),
        ("سلام، کی جلسه است؟", "ar"),  # Persian letters are Arabic script
        ("ﻣﺮﺣﺒﺎ", "ar"),  # presentation forms
        ("Hej, hvornår hører jeg noget?", None),
        ("Hi, when is the meeting?", None),
        ("Marhaba, shlonak? 3ayez a3raf el maw3ed", None),  # Arabizi: never guessed
        ("Pryvit, koly bude zustrich?", None),  # Ukrainian in Latin letters
        ("", None),
        ("12:30 !!! 😊 20 12 34 01", None),  # no letters
    ],
)
def test_written_in_reads_the_script(text: str, expected: str | None) -> None:
    """Cyrillic is uk, Arabic script is ar, Latin letters and no letters are None."""
    assert written_in(text) == expected


def test_half_the_letters_is_enough_and_less_is_not() -> None:
    """A mixed text counts at 50 % of its letters; digits and punctuation do not count."""
    assert written_in("abcd абвг 123456789 !!!") == "uk"  # 4 of 8 letters
    assert written_in("abcde абвг") is None  # 4 of 9
    assert written_in("Ok, Ann. دقيقة") == "ar"  # 5 of 10
    assert written_in("Ok, Anna. دقيقة") is None  # 5 of 11
    assert written_in("Meeting 10:00 ok? نعم") is None  # 3 of 12


def test_wrote_otherwise_only_when_the_sms_language_differs() -> None:
    """A hint only when the letters point to a language other than the SMS language."""
    assert wrote_otherwise("Привіт", "da") == "uk"
    assert wrote_otherwise("Привіт", "en") == "uk"
    assert wrote_otherwise("مرحبا", "da") == "ar"
    assert wrote_otherwise("Привіт", "uk") is None
    assert wrote_otherwise("مرحبا", "ar") is None
    assert wrote_otherwise("مرحبا", "uk") == "ar"
    assert wrote_otherwise("Hello", "da") is None
    assert wrote_otherwise(None, "da") is None
