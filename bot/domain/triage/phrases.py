"""Phrase patterns, written the way a person would, compiled once and found fast.

A pattern is words separated by single spaces, in ordinary spelling (it is
normalised like the text: folded, squeezed). Inside a word: ``*`` is any
ending ("slå*" finds slår, slået), ``?`` makes the letter or group before it
optional, ``(a|b)`` is a choice. A word ``~`` stands for up to three words that
are not a negation ("vil ~ dø" finds "vil bare gerne dø", not "vil ikke dø").
``^`` at the start and ``$`` at the end tie the pattern to the clause's edges.

Patterns are tried only where a word is the pattern's first word (or, when
the pattern starts with an optional group, the word after it), or starts
with the same two letters as a pattern whose first word is a stem or a choice
(Arabic words also after a clitic: و, ف, ب, ل, ك, ال), so the cost per SMS
grows with its words, not with the size of the lexicon.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.domain.triage.text import Clause, normal_pattern

_CLITIC1 = frozenset("وفبلك")
# Spoken short forms a pattern word also stands for ("ikke" is also written "ik").
_SPOKEN = {"ike": "(ike|ik)", "dont": "(dont|do not)"}


@dataclass(frozen=True, slots=True)
class Phrase:
    """One lexicon entry: what it means (`tag`), how grave (`level`), its language."""

    tag: str
    level: str
    lang: str
    pattern: str


@dataclass(frozen=True, slots=True)
class PhraseHit:
    """A phrase found in one clause, at words ``start``..``end`` (end exclusive)."""

    phrase: Phrase
    clause: int
    start: int
    end: int
    text: str


def _word_regex(word: str) -> str:
    return word.replace("*", r"\w*")


def compile_pattern(pattern: str, gap_block: str) -> tuple[re.Pattern[str], list[str]]:
    """The regex for one pattern and the two-letter keys its first word can start with."""
    norm = normal_pattern(pattern)
    anchored = norm.startswith("^")
    words = [_SPOKEN.get(w, w) for w in _split(norm.lstrip("^"))]
    gap = rf"(?:(?!(?:{gap_block})\b)\S+ ){{0,3}}"
    out = "^" if anchored else ""
    for k, word in enumerate(words):
        last = k == len(words) - 1
        if word == "~":
            out += gap
            continue
        end = word.endswith("$")
        body = _word_regex(word.rstrip("$"))
        out += body + (r"(?!\w)" + ("$" if end else "") if last else " ")
    return re.compile(out), _keys(words[0])


def _split(pattern: str) -> list[str]:
    """Words at the top level: a space inside a group ("(min søn|barnet)") stays in it."""
    words, depth, start = [], 0, 0
    for i, ch in enumerate(pattern):
        depth += (ch == "(") - (ch == ")")
        if ch == " " and depth == 0:
            words.append(pattern[start:i])
            start = i + 1
    return [*words, pattern[start:]]


def _keys(first: str) -> list[str]:
    """Where a pattern's first word is looked up: the whole word when it is plain
    ("han"), else its first two letters ("sl" for "slå*"); one key per choice of a
    leading group ("(han|hun)" → "han", "hun"), and for an optional leading group
    also the keys of what follows it ("(jeg )?vil" → "jeg", "vil"; "(u)?tryg" →
    "utryg", "tryg"). Two-letter keys start with "\x00"."""
    if first.startswith("("):
        close = first.index(")")
        rest = first[close + 1 :]
        optional = rest.startswith("?")
        if optional:
            rest = rest[1:]
        keys: set[str] = set()
        for alt in first[1:close].split("|"):
            # A choice with a space in it ends a word: "(ude |ud )?på" starts with "ude" or "ud".
            keys.update(_keys(alt.split(" ")[0] if " " in alt else alt + rest))
        if optional and rest:
            keys.update(_keys(rest))
        return sorted(keys)
    word = first.rstrip("$")
    if word and not any(c in word for c in "*?()|"):
        return [word]
    head = re.match(r"\w{2}", first)
    if head is None:
        raise ValueError(f"a pattern must start with a whole word or two letters: {first!r}")
    return ["\x00" + head.group()]


class PhraseIndex:
    """Phrases by the two letters they start with; finds them clause by clause."""

    def __init__(self, phrases: Iterable[Phrase], gap_block: str) -> None:
        self._by_key: dict[str, list[tuple[re.Pattern[str], Phrase]]] = {}
        for phrase in phrases:
            regex, keys = compile_pattern(phrase.pattern, gap_block)
            for key in keys:
                self._by_key.setdefault(key, []).append((regex, phrase))

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def find(self, clauses: tuple[Clause, ...]) -> Iterator[PhraseHit]:
        """Every phrase found, with where; one phrase may be found more than once."""
        by_key = self._by_key
        for c, clause in enumerate(clauses):
            text = clause.text
            pos = 0
            for i, word in enumerate(text.split(" ")):
                for off in _offsets(word):
                    stem = word[off:]
                    for regex, phrase in (
                        *by_key.get(stem, ()),
                        *by_key.get("\x00" + stem[:2], ()),
                    ):
                        m = regex.match(text, pos + off)
                        if m is not None:
                            end = i + text.count(" ", pos, m.end()) + 1
                            yield PhraseHit(phrase, c, i, end, m.group())
                pos += len(word) + 1


def _offsets(word: str) -> tuple[int, ...]:
    """Where a word's stem may start: at once, or after an Arabic clitic and article."""
    if len(word) < 3 or word[0] < "\u0600":
        return (0,)
    if len(word) == 3:
        # "وما", "ومش": a clitic on a two-letter word ("وما رجع" is "ما رجع").
        return (0, 1) if word[0] in _CLITIC1 else (0,)
    if word.startswith("ال"):
        return (0, 2)
    if word[0] in _CLITIC1:
        # "والله" is و + ال + له, not the stem "ه" (a squeezed laugh): a stem has two letters.
        return (0, 3) if word[1:3] == "ال" and len(word) > 4 else (0, 1)
    return (0,)
