"""Does this text read as an afgørelse? The rule reader behind the decision guard.

Each sentence is searched for the cues of :mod:`bot.domain.guard.lexicon`;
a cue counts unless one of the scopes of :mod:`bot.domain.guard.scopes` in its
sentence turns it into something else (a question, a condition, a decision
still to come, one made before…).
One counted cue makes the text a decision. When no cue counts, the model
(:mod:`bot.domain.guard.model`) scores the whole text and a probability at or
over its threshold makes it a decision too — unless a scope set a cue aside:
the model may not overrule a rule that read the text as a question, a
condition or a decision mentioned (as in triage). Nor may it overrule a rule
that read a whole sentence as a practical arrangement (a ticket to a meeting, a
meeting moved, a form approved: :data:`bot.domain.guard.scopes_r9.ARRANGEMENTS`)
in a text that names no benefit, a cue set aside or not. ``why`` says which cue
counted and where, or the model's probability and strongest words, or which
cues were set aside or which sentence is an arrangement, and why, in words a
caseworker reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.domain.guard import lexicon, lexicon_uk_ar, scopes, scopes_r9, soft
from bot.domain.guard.lexicon import Cue
from bot.domain.guard.model import Model, default_model
from bot.domain.guard.scopes import Scope
from bot.domain.guard.text import sentences

# Danish and English, then Ukrainian and Arabic, then the soft outcomes: every scope may
# govern every cue of its name.
CUES = lexicon.CUES + lexicon_uk_ar.CUES + soft.CUES
SCOPES = scopes.SCOPES + lexicon_uk_ar.SCOPES + scopes_r9.SCOPES
# A benefit named anywhere in the text: no practical arrangement holds the model back.
BENEFIT = re.compile(rf"\b{lexicon_uk_ar.BENEFIT}\b")
NEAR = 40  # characters before a cue in which a possibility ("kan", "måske") governs it


@dataclass(frozen=True, slots=True)
class Reading:
    """What the guard read: a decision or not, and why (plain words)."""

    decision: bool
    why: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """``{"decision", "why"}`` for the CLI and the pages."""
        return {"decision": self.decision, "why": list(self.why)}


def _governs(scope: Scope, sentence: str, match: re.Match[str]) -> bool:
    """Whether ``scope`` turns the cue found at ``match`` in ``sentence`` into no decision."""
    if scope.where == "sentence":
        return scope.pattern.search(sentence) is not None
    if scope.where == "within":
        return scope.pattern.search(sentence[match.start() : match.end()]) is not None
    if scope.where == "after":
        return scope.pattern.search(sentence[match.end() :]) is not None
    before = sentence[: match.start()]
    if scope.where == "near":
        before = before[-NEAR:]
    return scope.pattern.search(before) is not None


def _set_aside(cue: Cue, sentence: str, match: re.Match[str]) -> str | None:
    """The name of the first scope that governs this cue here, or None."""
    for scope in SCOPES:
        if (scope.only and cue.name not in scope.only) or cue.name in scope.skip:
            continue
        if _governs(scope, sentence, match):
            return scope.name
    return None


def _quote(sentence: str, match: re.Match[str]) -> str:
    return sentence[match.start() : match.end()].strip()[:60]


def _arranged(parts: list[str]) -> list[str]:
    """The sentences an arrangement scope reads as a practical arrangement, said for ``why``:
    with no cue counted, the model may not overrule them (see the module docstring). None
    when any sentence names a benefit ("… and your housing benefit goes up"): then the text
    is more than the arrangement, and the model reads it."""
    if any(BENEFIT.search(sentence) for sentence in parts):
        return []
    said: list[str] = []
    for sentence in parts:
        for scope in scopes_r9.ARRANGEMENTS:
            match = scope.pattern.search(sentence)
            if match is not None:
                said.append(
                    f"ikke en afgørelse ({scope.name}; en praktisk aftale, som modellen ikke "
                    f"kan underkende): «{_quote(sentence, match)}»"
                )
                break
    return said


def read(text: str, *, model: Model | None | bool = True) -> Reading:
    """Read ``text`` the way the guard does (see the module docstring).

    ``model``: True for the shipped weights, a :class:`Model`, or None/False for the
    rules alone.
    """
    counted: list[str] = []
    aside: list[str] = []
    parts = sentences(text)
    for sentence in parts:
        for cue in CUES:
            match = cue.pattern.search(sentence)
            if match is None:
                continue
            scope = _set_aside(cue, sentence, match)
            said = f"{cue.name}: «{_quote(sentence, match)}»"
            if scope is None:
                counted.append(said)
            else:
                aside.append(f"ikke en afgørelse ({scope}): «{_quote(sentence, match)}»")
    if counted:
        return Reading(True, counted)
    aside += _arranged(parts)
    chosen = default_model() if model is True else (model or None)
    if chosen is not None and not aside:
        score = chosen.score(text)
        if score.p >= chosen.threshold:
            return Reading(True, [score.why()])
    return Reading(False, aside)
