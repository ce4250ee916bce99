"""Spotting CPR numbers and a tenant's sensitive terms before anything goes out by SMS."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sensitivity import contains_sensitive, cpr_century, find_cpr

# ---------------------------------------------------------------- CPR numbers


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("010190-1234", ["010190-1234"]),
        ("0101901234", ["0101901234"]),
        ("010190 1234", ["010190 1234"]),
        ("010190\u20131234", ["010190\u20131234"]),
        ("Mit CPR er 010190-1234, tak.", ["010190-1234"]),
        ("CPR:1505724321/mor og 241205-5678 barn", ["1505724321", "241205-5678"]),
        ("(010190-1234)", ["010190-1234"]),
    ],
)
def test_finds_cpr_numbers(text: str, found: list[str]) -> None:
    """CPR numbers with a hyphen, a space or nothing between the parts are found as written."""
    assert find_cpr(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "310299-1234",  # 31 February
        "300290-1234",  # 30 February
        "320190-1234",  # day 32
        "000190-1234",  # day 0
        "011390-1234",  # month 13
        "010090-1234",  # month 0
        "290297-1234",  # 1997 is no leap year
        "290200-1234",  # 7th digit 1: 1900, no leap year
    ],
)
def test_invalid_dates_are_not_flagged(text: str) -> None:
    """Ten digits whose first six are no real date in the CPR rule's century are not a CPR."""
    assert find_cpr(text) == []


@pytest.mark.parametrize("text", ["290296-1234", "290200-4234", "290200-6234", "290200-9234"])
def test_leap_days_are_flagged(text: str) -> None:
    """29 February in a leap year (1996; 2000 for 7th digit 4-9) is a real date."""
    assert find_cpr(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "12010190-1234",
        "010190-12345",
        "0101901234567",
        "Sag 20240101901234",
        "010190--1234",
        "010190  1234",
        "01-01-90-1234",
        "Ring på +45 20 00 00 01",
        "Mødet er 01.01.2025 kl. 10",
    ],
)
def test_longer_digit_runs_and_other_numbers_are_not_flagged(text: str) -> None:
    """Digits inside a longer run, doubled separators, dates and phone numbers are not CPRs."""
    assert find_cpr(text) == []


@pytest.mark.parametrize(
    ("seventh", "year", "century"),
    [
        (0, 0, 1900),
        (3, 99, 1900),
        (4, 36, 2000),
        (4, 37, 1900),
        (9, 0, 2000),
        (9, 99, 1900),
        (5, 57, 2000),
        (8, 58, 1800),
        (6, 99, 1800),
    ],
)
def test_cpr_century(seventh: int, year: int, century: int) -> None:
    """The birth century follows CPR-kontoret's 7th-digit table."""
    assert cpr_century(seventh, year) == century


def _allowed_seventh_digits(year: int) -> list[int]:
    return [d for d in range(10) if cpr_century(d, year % 100) + year % 100 == year]


_cpr_dates = st.dates(min_value=date(1858, 1, 1), max_value=date(2057, 12, 31))


@st.composite
def valid_cprs(draw: st.DrawFn) -> str:
    """A CPR number whose date and 7th digit agree, in any accepted spelling."""
    born = draw(_cpr_dates)
    seventh = draw(st.sampled_from(_allowed_seventh_digits(born.year)))
    rest = draw(st.integers(0, 999))
    separator = draw(st.sampled_from(["", "-", " "]))
    return f"{born:%d%m%y}{separator}{seventh}{rest:03d}"


_not_digit_end = st.text(max_size=40).filter(lambda t: not t or t[-1] not in "0123456789")
_not_digit_start = st.text(max_size=40).filter(lambda t: not t or t[0] not in "0123456789")


@given(prefix=_not_digit_end, cpr=valid_cprs(), suffix=_not_digit_start)
def test_every_embedded_cpr_is_found(prefix: str, cpr: str, suffix: str) -> None:
    """A valid CPR number in any surrounding text, not touching other digits, is found."""
    assert cpr in find_cpr(prefix + cpr + suffix)


@given(
    day=st.integers(0, 99),
    month=st.integers(0, 99),
    year=st.integers(0, 99),
    serial=st.integers(0, 9999),
    separator=st.sampled_from(["", "-", " "]),
)
def test_only_real_dates_are_flagged(
    day: int, month: int, year: int, serial: int, separator: str
) -> None:
    """Ten digits are flagged exactly when DDMMYY is a real date in the 7th digit's century."""
    text = f"{day:02d}{month:02d}{year:02d}{separator}{serial:04d}"
    try:
        date(cpr_century(serial // 1000, year) + year, month, day)
    except ValueError:
        real = False
    else:
        real = True
    assert find_cpr(text) == ([text] if real else [])


@given(text=st.text(alphabet="0123456789 -aZ.", max_size=60))
def test_every_match_is_a_real_date(text: str) -> None:
    """Whatever the text, each match is ten digits (one separator at most) with a real date."""
    for match in find_cpr(text):
        digits = "".join(ch for ch in match if ch.isdigit())
        assert len(digits) == 10 and len(match) in (10, 11)
        day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
        date(cpr_century(int(digits[6]), year) + year, month, day)


# ---------------------------------------------------------------- sensitive terms


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Mødet handler om ALKOHOL.", ["alkohol"]),
        ("Vi har talt om alkohol-misbrug i familien", ["misbrug"]),
        ("Anbringelse på Børnehjemmet Søndergård", ["bornehjemmet sondergard"]),
        ("Anbringelse på Bornehjemmet Sondergard", ["Børnehjemmet Søndergård"]),
        ("Psykiatrien i Århus ringer", ["aarhus"]),
        ("Indlagt på psykiatrisk   afdeling, stue 3", ["Psykiatrisk afdeling"]),
        ("Indlagt på psykiatrisk\nafdeling", ["psykiatrisk afdeling"]),
        ("Brev fra Straße", ["strasse"]),
        ("Samtale om anbringelse", ["skilsmisse", "anbringelse"]),
        ("Crème brûlée", ["creme brulee"]),
        ("Vi har talt om alkoholmisbrug", ["misbrug"]),
        ("Om Anbringelsen af din datter", ["anbringelse"]),
        ("Resultatet af hiv-testen", ["hiv"]),
    ],
)
def test_sensitive_terms_are_found(text: str, terms: list[str]) -> None:
    """Terms match words, inflections and compounds, ignoring case, diacritics and spacing."""
    assert contains_sensitive(text, terms)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Dokumenterne ligger i arkivet", ["hiv"]),
        ("Mødet er flyttet", ["abort"]),
        ("afdeling psykiatrisk", ["psykiatrisk afdeling"]),
        ("Alt er godt", []),
        ("Alt er godt", ["", "   ", "!!"]),
        ("", ["alkohol"]),
    ],
)
def test_non_matches(text: str, terms: list[str]) -> None:
    """Short terms inside other words, reversed phrases, blank terms and empty text do not match."""
    assert not contains_sensitive(text, terms)


def test_terms_may_be_any_iterable() -> None:
    """Terms can come from a generator, read once."""
    assert contains_sensitive("Samtale om misbrug", (t for t in ["vold", "misbrug"]))


_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå", min_size=1, max_size=10)


@given(
    before=st.lists(_words, max_size=5),
    term=st.lists(_words, min_size=1, max_size=3),
    after=st.lists(_words, max_size=5),
    upper=st.booleans(),
)
def test_embedded_term_is_always_found(
    before: list[str], term: list[str], after: list[str], upper: bool
) -> None:
    """A term placed among other words, in any case, is found."""
    phrase = " ".join(term)
    shown = phrase.upper() if upper else phrase
    text = ", ".join([*before, shown, *after]) + "."
    assert contains_sensitive(text, [phrase])
