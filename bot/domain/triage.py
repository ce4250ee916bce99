"""Urgent triage: does a citizen's SMS say it is urgent, or name a risk?

Matching is tolerant to case, Danish letters and other diacritics (å/aa/a,
ø/oe/o, æ/ae), spacing ("selv mord"), compounds ("selvmordstanker") and one
slip of the finger in longer words ("selvmrod", "politti"). Each municipality
can add its own words; these defaults cover Danish, English, Ukrainian and
Arabic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_URGENT = (
    "akut",
    "haster",
    "det haster",
    "hurtigt svar",
    "urgent",
    "emergency",
    "терміново",
    "срочно",
    "عاجل",
)
DEFAULT_RISK = (
    "selvmord",
    "tage mit liv",
    "vold",
    "slår",
    "slog mig",
    "tæsk",
    "truer",
    "politi",
    "misbrug",
    "voldtægt",
    "suicide",
    "violence",
)

_WORD = re.compile(r"\w+", re.UNICODE)
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ß": "ss"})


def fold(text: str) -> str:
    """Lower-case, Danish letters and diacritics folded, 'aa'/'oe' treated as å/ø."""
    text = text.lower().translate(_FOLD)
    if not text.isascii():  # ASCII has no diacritics to strip
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return text.replace("aa", "a").replace("oe", "o")


def _close(a: str, b: str) -> bool:
    """At most one edit (insert, delete, substitute, swap) apart."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if la - lb > 1 or lb - la > 1:
        return False
    # One edit cannot change both ends of strings this long: most words stop here.
    if la >= 3 and lb >= 3 and a[0] != b[0] and a[-1] != b[-1]:
        return False
    if la == lb:
        i = 0  # the first difference (a != b)
        while a[i] == b[i]:
            i += 1
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one letter swapped for another
        # Two neighbours swapped, the rest alike.
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    short, long_ = (a, b) if la < lb else (b, a)
    # The first difference is the one letter the longer word has in excess.
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return long_[i + 1 :] == short[i:]


def _word_matches(word: str, term: str) -> bool:
    if word == term:
        return True
    n = len(term)
    if n < 5 or len(word) < n - 1:
        return False
    # Compounds: "selvmordstanker" starts with "selvmord"; one slip allowed.
    return _close(word, term) or (len(word) > n and _close(word[:n], term))


@dataclass(frozen=True, slots=True)
class Triage:
    urgent: bool
    matched: tuple[str, ...]


class _Lookup:
    """Which of some terms a word matches (as `_word_matches` says), without trying each term.

    A match is the term itself, or — for a term of five letters or more — one
    slip away from it, or a compound starting with it or one slip from it. One
    slip cannot change both ends of a word this long, so a match shares its
    first letter with the term, or its last letter with the term's last (at
    the end of the word, or where the term would end in a compound). Only the
    terms indexed under those letters are tried.
    """

    def __init__(self, terms: list[str]) -> None:
        self._terms = terms
        self._exact: dict[str, list[int]] = {}
        self._ends: dict[tuple[int, str], list[int]] = {}  # (0, first) | (-1, last)
        self._cut: dict[tuple[int, str], list[int]] = {}  # (length, last)
        for i, term in enumerate(terms):
            self._exact.setdefault(term, []).append(i)
            if len(term) >= 5:
                self._ends.setdefault((0, term[0]), []).append(i)
                self._ends.setdefault((-1, term[-1]), []).append(i)
                self._cut.setdefault((len(term), term[-1]), []).append(i)
        self._lengths = sorted({n for n, _ in self._cut})

    def __call__(self, word: str) -> set[int]:
        hits = set(self._exact.get(word, ()))
        size = len(word)
        if size < 4 or not self._lengths:
            return hits
        tried = {*self._ends.get((0, word[0]), ()), *self._ends.get((-1, word[-1]), ())}
        for n in self._lengths:
            if n >= size:
                break
            tried.update(self._cut.get((n, word[n - 1]), ()))
        tried -= hits  # each term tried once
        for i in tried:
            if _word_matches(word, self._terms[i]):
                hits.add(i)
        return hits


class Triager:
    """Matches a municipality's urgent words and risk phrases."""

    def __init__(
        self, urgent: Iterable[str] = DEFAULT_URGENT, risk: Iterable[str] = DEFAULT_RISK
    ) -> None:
        terms = [(term, parts) for term in (*urgent, *risk) if (parts := _WORD.findall(fold(term)))]
        self._names = [term for term, _ in terms]
        self._parts = [parts for _, parts in terms]
        # The last word of each term, matched word by word (earlier words are checked in
        # place); the whole term glued, matched against words written apart.
        self._last = _Lookup([parts[-1] for parts in self._parts])
        self._joined = _Lookup(["".join(parts) for parts in self._parts])

    def __call__(self, text: str) -> Triage:
        words = _WORD.findall(fold(text))
        found: set[int] = set()
        for j, word in enumerate(words):
            for i in self._last(word):
                if i not in found and self._before(words, j, self._parts[i]):
                    found.add(i)
        # Spacing: "selv mord", "h aster" — up to three words written apart.
        for k in range(len(words) - 1):
            found |= self._joined(words[k] + words[k + 1])
            if k + 2 < len(words):
                found |= self._joined(words[k] + words[k + 1] + words[k + 2])
        matched = tuple(self._names[i] for i in sorted(found))
        return Triage(bool(matched), matched)

    @staticmethod
    def _before(words: list[str], j: int, parts: list[str]) -> bool:
        """The term's other words stand right before ``words[j]``, each exact or one slip off."""
        start = j - len(parts) + 1
        return start >= 0 and all(
            w == p or (len(p) >= 5 and _close(w, p))
            for w, p in zip(words[start:j], parts[:-1], strict=True)
        )
