"""Spotting content that must not travel by SMS.

Two checks, both deliberately generous (a false alarm costs a notice instead
of an SMS; a miss leaks personal data):

* ``find_cpr``: Danish CPR numbers (personnummer), ``DDMMYY-XXXX``,
  ``DDMMYYXXXX`` or ``DDMMYY XXXX``, when ``DDMMYY`` is a real date.
* ``contains_sensitive``: a tenant's list of sensitive words and phrases,
  matched whole-word, ignoring case and diacritics.

No modulus-11 check is made: CPR numbers issued since 2007 need not pass it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Final

# Digits are ASCII on purpose: \d would also match other scripts' digits.
# The separator may be a hyphen (or a typographic dash) or a space (or NBSP).
_CPR: Final = re.compile(
    r"(?<![0-9])"
    r"(?P<day>[0-9]{2})(?P<month>[0-9]{2})(?P<year>[0-9]{2})"
    r"[-\u2010\u2011\u2013 \u00a0]?"
    r"(?P<serial>[0-9]{4})"
    r"(?![0-9])"
)


def cpr_century(seventh_digit: int, year: int) -> int:
    """The century of a CPR number's birth year, from its 7th digit (CPR-kontoret's rule).

    Args:
        seventh_digit: The first digit of the serial number, 0-9.
        year: The two-digit birth year, 0-99.

    Returns:
        1800, 1900 or 2000.
    """
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if year <= 36 else 1900
    return 2000 if year <= 57 else 1800


def _is_cpr_date(day: int, month: int, year: int, seventh_digit: int) -> bool:
    # Only 29 February depends on the century, and only for year 00 (1800 and
    # 1900 are not leap years, 2000 is); there the rule always picks 2000 for
    # digits 4-9, so "valid in the rule's century" and "valid in some century
    # the digit allows" agree.
    try:
        date(cpr_century(seventh_digit, year) + year, month, day)
    except ValueError:
        return False
    return True


def find_cpr(text: str) -> list[str]:
    """Find Danish CPR numbers in a text.

    A match is six digits forming a real date (``DDMMYY``, century from the 7th
    digit), an optional hyphen or space, and four digits, not part of a longer
    run of digits.

    Args:
        text: Any text, e.g. an outgoing SMS body.

    Returns:
        Every CPR number found, exactly as written in the text, in order.
    """
    found = []
    for match in _CPR.finditer(text):
        if _is_cpr_date(
            int(match["day"]),
            int(match["month"]),
            int(match["year"]),
            int(match["serial"][0]),
        ):
            found.append(match.group(0))
    return found


# Letters that Unicode does not decompose into a base letter plus a mark.
_FOLD: Final = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "þ": "th", "ł": "l", "đ": "d", "ı": "i"}
)
_WORD: Final = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    """Case- and diacritics-folded words of ``text``.

    ``Å`` folds to ``a`` and the older Danish spelling ``aa`` does too, so
    ``Århus`` and ``Aarhus`` are the same word.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.translate(_FOLD).replace("aa", "a")
    # Underscore is a word character to \w but a separator to a reader.
    return _WORD.findall(folded.replace("_", " "))


def _word_hit(word: str, term: str, *, last: bool) -> bool:
    """Danish inflects and compounds: "anbringelsen", "alkoholmisbrug" hold their term.

    A single word of five letters or more matches anywhere inside a word; a
    shorter one, or a phrase's last word, matches the start of a word; a
    phrase's other words match whole words. Erring towards a notice is safe.
    """
    if not last:
        return word == term
    return word.startswith(term) or (len(term) >= 5 and term in word)


def _contains_run(haystack: list[str], needle: list[str]) -> bool:
    width = len(needle)
    if width == 1:
        return any(_word_hit(w, needle[0], last=True) for w in haystack)
    return any(
        all(_word_hit(haystack[i + k], needle[k], last=k == width - 1) for k in range(width))
        for i in range(len(haystack) - width + 1)
    )


def contains_sensitive(text: str, terms: Iterable[str]) -> bool:
    """Whether ``text`` contains any of a tenant's sensitive words or phrases.

    Matching ignores case, diacritics (``ø`` = ``o``, ``å`` = ``a`` = ``aa``)
    and the punctuation or spacing between the words of a phrase, and allows
    Danish inflection and compounds: ``"misbrug"`` matches ``"Misbrug."``,
    ``"misbruget"`` and ``"alkoholmisbrug"``; ``"hiv"`` matches ``"hiv-test"``
    but not ``"arkivet"``.

    Args:
        text: The text to check, e.g. an outgoing SMS body.
        terms: Sensitive words and phrases; blank ones are ignored.

    Returns:
        True if at least one term occurs.
    """
    words = _words(text)
    if not words:
        return False
    for term in terms:
        needle = _words(term)
        if needle and _contains_run(words, needle):
            return True
    return False
