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
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.replace("aa", "a").replace("oe", "o")


def _close(a: str, b: str) -> bool:
    """At most one edit (insert, delete, substitute, swap) apart."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _word_matches(word: str, term: str) -> bool:
    if word == term:
        return True
    if len(term) >= 5:
        # Compounds: "selvmordstanker" starts with "selvmord"; one slip allowed.
        if word.startswith(term) or _close(word, term):
            return True
        return len(word) > len(term) and _close(word[: len(term)], term)
    return False


@dataclass(frozen=True, slots=True)
class Triage:
    urgent: bool
    matched: tuple[str, ...]


class Triager:
    """Matches a municipality's urgent words and risk phrases."""

    def __init__(
        self, urgent: Iterable[str] = DEFAULT_URGENT, risk: Iterable[str] = DEFAULT_RISK
    ) -> None:
        self._terms = [(term, [w for w in _WORD.findall(fold(term))]) for term in (*urgent, *risk)]

    def __call__(self, text: str) -> Triage:
        words = _WORD.findall(fold(text))
        matched = [term for term, parts in self._terms if parts and self._found(words, parts)]
        return Triage(bool(matched), tuple(matched))

    @staticmethod
    def _found(words: list[str], parts: list[str]) -> bool:
        n = len(parts)
        joined_term = "".join(parts)
        for i in range(len(words)):
            window = words[i : i + n]
            if len(window) == n and all(
                _word_matches(w, p) if k == n - 1 else (w == p or (len(p) >= 5 and _close(w, p)))
                for k, (w, p) in enumerate(zip(window, parts, strict=True))
            ):
                return True
            # Spacing: "selv mord", "h aster" — up to three words written apart.
            for span in (2, 3):
                glued = "".join(words[i : i + span])
                if len(words[i : i + span]) == span and _word_matches(glued, joined_term):
                    return True
        return False
