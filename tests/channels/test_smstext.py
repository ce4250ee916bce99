"""SMS encoding and segment counting (GSM 03.38 / UCS-2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.smstext import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsText,
    TooManySegments,
    analyse,
    check_fits,
    is_gsm7,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsText("GSM-7", 0, 1, 160)),
        ("a" * 160, SmsText("GSM-7", 160, 1, 160)),
        ("a" * 161, SmsText("GSM-7", 161, 2, 153)),
        ("a" * 306, SmsText("GSM-7", 306, 2, 153)),
        ("a" * 307, SmsText("GSM-7", 307, 3, 153)),
        ("Hej Søren, mødet er på Åboulevarden. Æbler!", SmsText("GSM-7", 43, 1, 160)),
        ("ΔΦΓΛΩΠΨΣΘΞ @£$¥ §¿¡", SmsText("GSM-7", 19, 1, 160)),
        ("€" * 80, SmsText("GSM-7", 160, 1, 160)),
        ("€" * 81, SmsText("GSM-7", 162, 2, 153)),
        ("[]{}^~|\\\f€", SmsText("GSM-7", 20, 1, 160)),
        ("Привіт", SmsText("UCS-2", 6, 1, 70)),
        ("ç", SmsText("UCS-2", 1, 1, 70)),
        ("ł" * 70, SmsText("UCS-2", 70, 1, 70)),
        ("ł" * 71, SmsText("UCS-2", 71, 2, 67)),
        ("ł" * 134, SmsText("UCS-2", 134, 2, 67)),
        ("ł" * 135, SmsText("UCS-2", 135, 3, 67)),
        ("🙂" * 35, SmsText("UCS-2", 70, 1, 70)),
    ],
)
def test_known_examples(text: str, expected: SmsText) -> None:
    """Known texts get the encoding, unit count and segment count the GSM specs give."""
    assert analyse(text) == expected


def test_escape_pair_is_never_split() -> None:
    """A € straddling the 153-septet boundary moves whole to the next part, costing a segment."""
    assert analyse("a" * 306).segments == 2
    straddling = "a" * 152 + "€" + "a" * 152
    assert analyse(straddling) == SmsText("GSM-7", 306, 3, 153)


def test_surrogate_pair_is_never_split() -> None:
    """An emoji straddling the 67-unit boundary moves whole to the next part."""
    straddling = "ł" * 66 + "🙂" + "ł" * 66
    assert analyse(straddling) == SmsText("UCS-2", 134, 3, 67)


def test_danish_letters_are_gsm7_but_c_cedilla_lowercase_is_not() -> None:
    """æøåÆØÅ are in the basic set; lowercase ç, é's cousins ú and á are not."""
    assert is_gsm7("æøåÆØÅéÉÇ")
    assert not is_gsm7("ç") and not is_gsm7("ú") and not is_gsm7("á")


def test_tables_have_the_specified_sizes() -> None:
    """The basic table has 127 characters (128 less escape), the extension 10, no overlap."""
    assert (len(GSM7_BASIC), len(GSM7_EXTENSION)) == (127, 10)
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert "\x1b" not in GSM7_BASIC


def test_forced_encoding() -> None:
    """UCS-2 can be forced on GSM-7 text; GSM-7 cannot be forced on text outside it."""
    assert analyse("a" * 71, "UCS-2") == SmsText("UCS-2", 71, 2, 67)
    with pytest.raises(ValueError):
        analyse("ł", "GSM-7")


def test_check_fits_returns_the_analysis() -> None:
    """A text within the limit is returned analysed."""
    assert check_fits("a" * 459, 3) == SmsText("GSM-7", 459, 3, 153)


def test_check_fits_says_how_many_segments() -> None:
    """A text over the limit raises TooManySegments naming the count, not the text."""
    with pytest.raises(TooManySegments) as caught:
        check_fits("hemmelig " * 52, 3)
    message = str(caught.value)
    assert "4 SMS segments" in message and "at most 3" in message
    assert "hemmelig" not in message
    assert (caught.value.segments, caught.value.max_segments) == (4, 3)


def test_check_fits_refuses_nonsense_limit() -> None:
    """A limit below one segment is a programming error."""
    with pytest.raises(ValueError):
        check_fits("x", 0)


_gsm_chars = st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION))
_any_chars = st.one_of(_gsm_chars, st.characters(codec="utf-8"))
_texts = st.text(_any_chars, max_size=400)
_gsm_texts = st.text(_gsm_chars, max_size=400)


@given(head=st.one_of(_texts, _gsm_texts), tail=st.one_of(_texts, _gsm_texts))
def test_segments_are_monotone_in_length(head: str, tail: str) -> None:
    """Adding text never lowers the segment count, even when it switches the encoding."""
    assert analyse(head + tail).segments >= analyse(head).segments


@given(text=st.one_of(_texts, _gsm_texts))
def test_gsm7_iff_every_char_in_gsm_tables(text: str) -> None:
    """A text is GSM-7 exactly when every character is in the basic or extension table."""
    expected = all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)
    assert (analyse(text).encoding == "GSM-7") is expected


@given(text=st.one_of(_texts, _gsm_texts))
def test_units_and_segments_are_consistent(text: str) -> None:
    """Units match the encoding's cost; the segments hold them and no fewer would."""
    result = analyse(text)
    if result.encoding == "GSM-7":
        assert result.units == len(text) + sum(ch in GSM7_EXTENSION for ch in text)
        single, part = 160, 153
    else:
        assert result.units == len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
    if result.units <= single:
        assert (result.segments, result.per_segment) == (1, single)
    else:
        assert result.per_segment == part
        assert -(-result.units // part) <= result.segments <= -(-result.units // (part - 1))
