"""The municipality's own words (and the defaults), matched as they always were.

Tolerant to case, Danish letters and diacritics (å/aa/a, ø/oe/o, æ/ae),
spacing ("selv mord"), compounds ("selvmordstanker") and one slip of the
finger in terms of seven letters or more ("selvmrod"); a term of five or six
letters forgives only two letters swapped or one too many ("hatser",
"politti"), since one letter changed or dropped makes everyday words of it
("kaster", "halter", "true"). What changed
with the reader: words written apart are joined only inside one clause (never
across a full stop or a comma), and a joined run must match a term whole (with
one slip), not as the start of a compound: "Tak. Skal" and "tak skal" are no
longer a misspelt "tæsk".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.triage.text import Reading, fold

_WORD_SPLIT = re.compile(r"\w+")


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


# Ordinary words one slip from a default term, or starting with one: never a match
# unless written exactly as a term ("babyen hoster" is not "haster"; "politik" not "politi").
NOT_TERMS = frozenset(
    {
        "hoster",
        "hostede",
        "hosten",
        "taenker",
        "taenke",
        "taenkte",
        "politik",
        "politiker",
        "politikere",
        "politisk",
        "politibetjent",
        "politibetjente",
        "politimand",
        "politiskolen",
        "politiske",
        "traer",
        "truet",
        "trues",
        "tasker",
        "tasken",
        "laster",
        "faster",
        "paster",
        "masker",
        "haste",
        "hastig",
        "hastigt",
        "hastighed",
        "akutte",
        "vilence",
        "violent",
    }
)


# Below this many letters a term forgives only two letters swapped or one letter too many:
# one letter changed or missing turns "haster" into "kaster", "halter" or "easter", and
# "truer" into "true"; everyday words, not slips.
_SHORT = 7


def _word_matches(word: str, term: str, *, compounds: bool = True) -> bool:
    if word == term:
        return True
    n = len(term)
    if n < 5 or len(word) < n - 1 or word in NOT_TERMS:
        return False
    if len(word) > n + 1 and n < 8:
        # A compound of a short term must start with it exactly: "selvmordstanker", but not
        # "taenker" (one slip from "tæsk" + "er").
        return compounds and word.startswith(term)
    if n < _SHORT:
        # The term with one letter too many ("politti", "politiet" starts a compound), or
        # two letters swapped. A slip and an ending together is two changes to a short
        # word: "taenkt" is not "tæsk" + "t".
        if len(word) == n + 1:
            return _close(word, term)
        return len(word) == n and _swapped(word, term)
    # Compounds: "selvmordstanker" starts with "selvmord"; one slip allowed.
    return _close(word, term) or (compounds and len(word) > n and _close(word[:n], term))


def _swapped(a: str, b: str) -> bool:
    """Two neighbouring letters swapped, the rest alike ("hatser", "plotiti")."""
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


class _Lookup:
    """Which of some terms a word matches (as `_word_matches` says), without trying each term.

    A match is the term itself, or — for a term of five letters or more — one
    slip away from it, or a compound starting with it or one slip from it. One
    slip cannot change both ends of a word this long, so a match shares its
    first letter with the term, or its last letter with the term's last (at
    the end of the word, or where the term would end in a compound). Only the
    terms indexed under those letters are tried.
    """

    def __init__(self, terms: list[str], *, compounds: bool = True) -> None:
        self._terms = terms
        self._compounds = compounds
        self._memo: dict[str, frozenset[int]] = {}
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
        memo = self._memo.get(word)
        if memo is None:
            if len(self._memo) > 20_000:  # bounded: a long stream of new words
                self._memo.clear()
            memo = self._memo[word] = frozenset(self._find(word))
        return set(memo)

    def _find(self, word: str) -> set[int]:
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
            if _word_matches(word, self._terms[i], compounds=self._compounds):
                hits.add(i)
        return hits


@dataclass(frozen=True, slots=True)
class TermHit:
    """One term found: which, in which clause, and the words it covers."""

    term: str
    clause: int
    start: int
    end: int  # exclusive


class Terms:
    """Matches a list of words and phrases (each municipality's, and the defaults)."""

    def __init__(self, terms: Iterable[str]) -> None:
        parts = [(t, p) for t in terms if (p := _WORD_SPLIT.findall(fold(t)))]
        self.names = [t for t, _ in parts]
        self._parts = [p for _, p in parts]
        # The last word of each term, matched word by word (earlier words are checked in
        # place); the whole term glued, matched whole against words written apart.
        self._last = _Lookup([p[-1] for p in self._parts])
        self._joined = _Lookup(["".join(p) for p in self._parts], compounds=False)

    def find(self, reading: Reading) -> list[TermHit]:
        """Every term in the message, each at most once, in no particular order."""
        found: dict[int, TermHit] = {}
        for c, clause in enumerate(reading.clauses):
            words = clause.words
            for j, word in enumerate(words):
                for i in self._last(word):
                    if i not in found and self._before(words, j, self._parts[i]):
                        found[i] = TermHit(self.names[i], c, j - len(self._parts[i]) + 1, j + 1)
            # Spacing: "selv mord", "h aster" — up to three words written apart, one clause.
            for k in range(len(words) - 1):
                for width in (2, 3):
                    if k + width <= len(words):
                        for i in self._joined("".join(words[k : k + width])):
                            found.setdefault(i, TermHit(self.names[i], c, k, k + width))
        return list(found.values())

    @staticmethod
    def _before(words: tuple[str, ...], j: int, parts: list[str]) -> bool:
        """The term's other words stand right before ``words[j]``, each exact or one slip off."""
        start = j - len(parts) + 1
        return start >= 0 and all(
            w == p or (len(p) >= 5 and _close(w, p))
            for w, p in zip(words[start:j], parts[:-1], strict=True)
        )
