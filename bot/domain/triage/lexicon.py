"""The curated lexicon: every language's phrases in one index, and the scope words.

One pass over an SMS finds risk phrases, idioms that void them, scope markers
(past, quotation, hypothetical, topic, joke) and intent paraphrases together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

from bot.domain.triage import lex_ar, lex_da, lex_en, lex_uk
from bot.domain.triage.phrases import Phrase, PhraseIndex
from bot.domain.triage.text import normal_pattern

LANGUAGES: tuple[ModuleType, ...] = (lex_da, lex_en, lex_uk, lex_ar)
INTENT_ORDER = ("STOP", "FLYT", "AFLYS", "STATUS", "START", "OK")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Everything the reader looks up, built once per process."""

    index: PhraseIndex
    negators: frozenset[str]
    neg_after: frozenset[str]
    neg_after_except: frozenset[str]
    neg_adverbs: frozenset[str]
    starters: frozenset[str]
    keywords: dict[str, tuple[str, str]]  # normal form -> (intent, language)
    polite: frozenset[str]
    # Each language's negators; a phrase is negated only by its own language's (Danish "lå"
    # and "må" fold to "la" and "ma", which are Arabic negators written in Latin letters).
    negators_by_lang: dict[str, frozenset[str]] = field(default_factory=dict)
    farewells: frozenset[str] = frozenset()  # risk patterns a greeting sets aside, as written
    alone: frozenset[str] = frozenset()  # risk patterns a short, arranged time lowers, as written


def _words(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normal_pattern(w) for w in words)


def phrases() -> list[Phrase]:
    """Every phrase of every language (risk, idiom, scope, intent), as written."""
    out: list[Phrase] = []
    for mod in LANGUAGES:
        lang = mod.LANG
        for tag, level, patterns in mod.RISK:
            out += [Phrase(tag, level, lang, p) for p in patterns]
        out += [Phrase("idiom", "block", lang, p) for p in mod.BLOCK]
        for kind, patterns in mod.SCOPE:
            out += [Phrase(kind, "scope", lang, p) for p in patterns]
        for intent, patterns in mod.INTENTS.items():
            out += [Phrase(intent, "intent", lang, p) for p in patterns]
    return out


def keywords() -> dict[str, tuple[str, str]]:
    """Intent keywords in their normal form: exact replies that act at once."""
    out: dict[str, tuple[str, str]] = {}
    for mod in LANGUAGES:
        for intent, words in mod.KEYWORDS.items():
            for word in words:
                out.setdefault(normal_pattern(word), (intent, mod.LANG))
    return out


def _negators_by_lang() -> dict[str, frozenset[str]]:
    """Each language's negators, and (under "") those for a municipality's own word: the
    Danish and English ones and any not written in Latin letters ("ikke akut", "مش عاجل")."""
    out = {m.LANG: _words(m.NEGATORS) for m in LANGUAGES}
    foreign = {w for ws in out.values() for w in ws if not w.isascii()}
    out[""] = out[lex_da.LANG] | out[lex_en.LANG] | foreign
    return out


@cache
def lexicon() -> Lexicon:
    """The lexicon (compiled on first use: about a thousand patterns)."""
    gap_block = "|".join(
        sorted({normal_pattern(w) for m in LANGUAGES for w in m.NEGATORS}, key=len, reverse=True)
    )
    return Lexicon(
        index=PhraseIndex(phrases(), gap_block),
        negators=frozenset().union(*(_words(m.NEGATORS) for m in LANGUAGES)),
        neg_after=frozenset().union(*(_words(m.NEG_AFTER) for m in LANGUAGES)),
        neg_after_except=frozenset().union(*(_words(m.NEG_AFTER_EXCEPT) for m in LANGUAGES)),
        neg_adverbs=frozenset().union(*(_words(m.NEG_ADVERBS) for m in LANGUAGES)),
        starters=frozenset().union(*(_words(m.STARTERS) for m in LANGUAGES)),
        keywords=keywords(),
        polite=frozenset().union(*(_words(m.POLITE) for m in LANGUAGES)),
        negators_by_lang=_negators_by_lang(),
        farewells=frozenset(p for m in LANGUAGES for p in m.FAREWELL),
        alone=frozenset(p for m in LANGUAGES for p in m.ALONE),
    )
