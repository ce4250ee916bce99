"""Triage: does a citizen's SMS need a person now, soon, or not; and is it a reply?

A reader, not a word list (issue #16): a normal form that never joins words
across punctuation, a curated lexicon of risk expressions in Danish, English,
Ukrainian and Arabic (also in Latin letters), scope rules for negation, past,
quotation, hypotheticals and topic, and a small linear model over character
and word n-grams that generalises past the lexicon. Two levels: ``akut``
(pages someone) and ``bekymring`` (a same-day concern). Intents (STOP, START,
OK, FLYT, AFLYS, STATUS) from exact keywords or natural phrasing; urgency
always wins over an intent. Every result says why.

Each municipality can still add its own words; they match as they always did
(tolerant to case, diacritics, spacing, compounds and one slip of the finger).
"""

from __future__ import annotations

from bot.domain.triage.reader import DEFAULT_RISK, DEFAULT_URGENT, Triage, Triager
from bot.domain.triage.terms import _close
from bot.domain.triage.text import fold

__all__ = ["DEFAULT_RISK", "DEFAULT_URGENT", "Triage", "Triager", "_close", "fold"]
