"""The triage reader: level (akut / bekymring / none), intent, and why.

Order of reading, for every SMS:

1. `read` splits and normalises it (text.py);
2. one pass finds the municipality's own words (terms.py) and every lexicon
   phrase, idiom and scope marker (lexicon.py);
3. each risk found is kept or set aside by the scope rules (scope.py);
4. the model (model.py) scores the whole message; it can raise a message the
   lexicon missed, but not one whose only risk words were set aside; and when it
   is nearly sure (p(akut) under its ``veto`` threshold, chosen in training so
   that at most ``MAX_VETO_LOST`` of urgent training messages are lost) that a
   message a lexicon phrase would page is not urgent, the message is a concern
   (top of the owner's inbox, same-day reply-by) instead of a page. A
   municipality's own words are never vetoed;
5. an intent is read only when the message is not `akut`: urgency always wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.domain.triage.lexicon import INTENT_ORDER, Lexicon, lexicon
from bot.domain.triage.model import Model, default_model, features, word_features
from bot.domain.triage.phrases import PhraseHit
from bot.domain.triage.scope import Scope
from bot.domain.triage.terms import Terms
from bot.domain.triage.text import Reading, read

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

AKUT = "akut"
BEKYMRING = "bekymring"
_RANK = {None: 0, BEKYMRING: 1, AKUT: 2}
MAX_CHARS = 1600  # a concatenated SMS is at most ten parts; beyond that is not an SMS


@dataclass(frozen=True, slots=True)
class Triage:
    """What triage read in one SMS.

    ``urgent`` and ``matched`` are what callers always had: urgent is level
    ``akut``; matched names the municipality's words found or, when none, the
    lexicon phrases that made it urgent or a concern ("vold: kniv", as the
    message wrote them, normalised) or "model akut". Callers file it in the
    case journal ("Udløst af: …"); like the message, it is never logged.
    """

    urgent: bool
    matched: tuple[str, ...]
    level: str | None = None
    intent: str | None = None
    intent_exact: bool = False  # True: an exact keyword (acts at once); False: a paraphrase
    why: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        """The result as one JSON object (the `triage classify` output, without the id)."""
        return {
            "urgent": self.urgent,
            "level": self.level,
            "intent": self.intent,
            "intent_source": None
            if self.intent is None
            else ("keyword" if self.intent_exact else "paraphrase"),
            "matched": list(self.matched),
            "why": list(self.why),
        }


class Triager:
    """Reads a municipality's SMS: its own urgent and risk words, the lexicon and the model."""

    def __init__(
        self,
        urgent: Iterable[str] = DEFAULT_URGENT,
        risk: Iterable[str] = DEFAULT_RISK,
        *,
        model: Model | None | bool = True,
    ) -> None:
        self._terms = Terms([*urgent, *risk])
        self._lex: Lexicon = lexicon()
        self._model = default_model() if model is True else (model or None)

    def __call__(self, text: str) -> Triage:
        reading = read(text[:MAX_CHARS] if len(text) > MAX_CHARS else text)
        if not reading.clauses:
            return Triage(False, (), why=("no words",))
        lex = self._lex
        hits = list(lex.index.find(reading.clauses))
        scope = Scope(reading, lex, hits)
        level, live, set_aside, why = self._risk(reading, scope, hits)
        # The model's features, read once for its questions (veto, urgency and intent).
        words = None if self._model is None else word_features(reading, lex.negators)
        feats = None if words is None else features(reading, lex.negators, words)
        level = self._vetoed(feats, level, why)
        intent, exact = (
            (None, False) if level == AKUT else self._intent(reading, hits, scope, words, why)
        )
        level, why = self._with_model(
            feats, level, bool(set_aside) and not live, why, replied=intent is not None
        )
        if level == AKUT:
            intent, exact = None, False
        if intent is not None:
            why.append(f"intent {intent} ({'keyword' if exact else 'paraphrase'})")
        why += [f"set aside {w!r}: {r}" for w, r in dict(set_aside).items()]
        if not why:
            why.append("no risk and no reply found")
        if level == AKUT and not live:
            live = [w.split(" (", 1)[0] for w in why if w.startswith("model")]
        matched = tuple(live) if level else ()
        return Triage(level == AKUT, matched, level, intent, exact, tuple(why))

    def _risk(
        self, reading: Reading, scope: Scope, hits: list[PhraseHit]
    ) -> tuple[str | None, list[str], list[tuple[str, str]], list[str]]:
        level: str | None = None
        terms: list[str] = []
        phrases: list[str] = []  # "tag: words", for the caseworker's "Udløst af"
        seen: set[str] = set()
        set_aside: list[tuple[str, str]] = []
        why: list[str] = []
        for t in self._terms.find(reading):
            tag = "politi" if t.term == "politi" else "term"
            reason = scope.reason(t.clause, t.start, t.end, tag)
            if reason:
                set_aside.append((t.term, reason))
            else:
                level = AKUT
                terms.append(t.term)
                why.append(f"word {t.term!r}")
        for h in hits:
            if h.phrase.level not in (AKUT, BEKYMRING) or h.phrase.pattern in seen:
                continue
            seen.add(h.phrase.pattern)
            reason = scope.reason(
                h.clause, h.start, h.end, h.phrase.tag, h.phrase.pattern, h.phrase.lang
            )
            if reason:
                set_aside.append((h.phrase.pattern, reason))
                continue
            grade = h.phrase.level
            if grade == AKUT and scope.lowered(h.phrase.pattern):
                grade = BEKYMRING  # a short, arranged time alone, asked about
            # `matched` is filed in the case journal (with the message), never logged.
            phrases.append(f"{h.phrase.tag}: {h.text}")
            why.append(f"phrase {h.phrase.pattern!r} ({h.phrase.lang}, {h.phrase.tag}, {grade})")
            if _RANK[grade] > _RANK[level]:
                level = grade
        return level, terms or phrases, set_aside, why

    def _vetoed(self, feats: list[str] | None, level: str | None, why: list[str]) -> str | None:
        """``level``, or a concern when it is akut through lexicon phrases only (never a
        municipality's own word) and the model is nearly sure the page is wrong."""
        if self._model is None or feats is None or level != AKUT:
            return level
        if any(w.startswith("word ") for w in why):
            return level
        s = self._model.score(feats)
        if s.akut >= self._model.veto_at:
            return AKUT
        why.append(f"model veto: a concern, not a page (p={s.akut:.3f})")
        return BEKYMRING

    def _with_model(
        self,
        feats: list[str] | None,
        level: str | None,
        only_set_aside: bool,
        why: list[str],
        *,
        replied: bool = False,
    ) -> tuple[str | None, list[str]]:
        if self._model is None or feats is None or level == AKUT or only_set_aside:
            return level, why
        s = self._model.score(feats)
        raised: str | None = None
        # A reply that reads as an intent ("I don't think I'll make it tonight") is not paged
        # on the model's word alone: without a risk phrase it is at most a concern.
        if s.akut >= self._model.akut_at and not replied:
            raised = AKUT
        elif s.akut >= self._model.akut_at and level is None:
            raised = BEKYMRING
        elif s.concern >= self._model.concern_at and level is None:
            raised = BEKYMRING
        if raised is not None:
            top = ", ".join(repr(f) for f in s.top) or "no single feature"
            why.append(f"model {raised} (p={s.akut:.2f}/{s.concern:.2f}; strongest {top})")
            return raised, why
        return level, why

    def _intent(
        self,
        reading: Reading,
        hits: list[PhraseHit],
        scope: Scope,
        words: list[str] | None,
        why: list[str],
    ) -> tuple[str | None, bool]:
        exact = self._keyword(reading)
        if exact is not None:
            return exact, True
        # A negated, past, quoted or hypothetical OK is none ("ikke ok", "hvis det er ok"); a
        # laugh sets a risk aside as a joke but leaves a reply a reply ("ok vi ses tirsdag 😂").
        found = {
            h.phrase.tag
            for h in hits
            if h.phrase.level == "intent"
            and (
                h.phrase.tag != "OK"
                or scope.reason(h.clause, h.start, h.end, "OK", lang=h.phrase.lang)
                in (None, "joke")
            )
        }
        phrased = next((i for i in INTENT_ORDER if i in found), None)
        if phrased is not None or words is None or self._model is None:
            return phrased, False
        # No phrase says it: the model may read the reply (a paraphrase, never a keyword).
        guess = self._model.intent(words)
        if guess is None:
            return None, False
        why.append(f"model intent {guess.intent} (p={guess.p:.2f})")
        return guess.intent, False

    def _keyword(self, reading: Reading) -> str | None:
        words = reading.squeezed.split(" ")
        if len(words) > 6:
            return None
        polite = self._lex.polite
        keywords = self._lex.keywords
        # Greetings and thanks (one or two words) around a keyword ("stop tak", "hej STOP",
        # "STOP لو سمحت") do not hide it.
        for a in range(3):
            if a and " ".join(words[:a]) not in polite:
                continue
            for b in range(3):
                rest = words[a : len(words) - b]
                if rest and (not b or " ".join(words[len(words) - b :]) in polite):
                    hit = keywords.get(" ".join(rest))
                    if hit is not None:
                        return hit[0]
        return None
