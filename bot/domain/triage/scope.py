"""Scope: is a frightening phrase said about now, by the writer, in earnest?

A phrase found is set aside, with the reason, when it is

- inside an idiom ("dø af grin", "killing me", "slog op med"),
- negated: a negation up to three words before it ("det er ikke akut",
  "not urgent at all", "це не терміново", "مش مستعجل"), or, in Danish, right
  after the verb ("det haster ikke", "han slår ikke"; but "slår ikke kun mig"),
- in the past: the sentence dates it ("for fem år siden", "last year",
  "минулого року", "من زمان") or says it is over ("det er slut nu"),
- quoted: the sentence refers to a letter or asks what a word means ("i
  brevet står der", "what does … mean"), or the phrase is in quotation marks
  not introduced by a speech verb ("han sagde "jeg slår dig"" still counts),
- hypothetical: "hvis / if / якщо / اذا" before it in a question ("hvem
  ringer jeg til hvis det haster?"); not an "if" inside the phrase itself ("hvad
  sker der med børnene hvis jeg ikke er her mere"),
- about something else: a series, the news, a school project, a game, a
  street ("Voldgade"), the police returning a wallet, or a joke (a laugh after the
  risk, "haha", 😂, or "for sjov", "jk"; a laugh before it is nervous, not a joke);
  an animal or a sport only when the risk is about it ("hunden bløder", "slog
  sig til fodbold"), not when it is where a real event happened ("bidt af en
  hund og bløder meget", "ikke kommet hjem fra fodbold"),
- but never a joke nor a hypothetical when the writer says it is meant, anywhere in
  the message ("spørger for mig selv", "asking because I took them", "not jk"),
- a farewell that is a greeting: "tak for alt" next to a season's greeting or
  thanks for the help ("tak for alt, god jul", "tak for alt i år"; not
  "tak for alt. jeg kan ikke mere").

A child alone (akut) is only a concern when the writer asks about a short,
arranged time ("må min søn være alene en time efter skole?"): see `lowered`.

Negations that belong to the risk itself ("vil ikke leve", "not safe",
"ingen mad") are part of the phrase, so they do not cancel it.
"""

from __future__ import annotations

from bot.domain.triage.lexicon import Lexicon
from bot.domain.triage.phrases import PhraseHit
from bot.domain.triage.text import QUOTE, Reading

_STREET = ("vej", "gade", "gaden", "alle", "straede", "stien", "plads", "street", "lane", "road")
# An English street name: the risk word is its first word.
_STREET_AFTER = frozenset({"street", "st", "road", "rd", "lane", "avenue", "ave", "close"})
_POLICE_TAGS = frozenset({"politi", "police"})
_THREAT_TAGS = frozenset({"vold", "violence"})
# Where an activity happens: "slog mig til fodbold", "hurt at football" (not "fra", "efter").
_AT = frozenset({"i", "til", "under", "pa", "in", "at", "during", "playing"})
# A laugh makes a joke of what came before it ("jeg slår ham ihjel hvis han spiser min kage
# haha"), not of what follows: "haha he said he'll kill me tonight" is nervous, not joking.
_LAUGHS = frozenset(
    {"haha*", "hehe*", "lol", "lmao", "emojilaugh", "ههه", "хаха*", "ахах*", "емодзі"}
)


def _and_then(word: str) -> bool:
    """An Arabic word joined to "و" (and) starts a new statement: "ولا اكل والولاد جوعانين"."""
    return len(word) > 3 and word[0] == "و" and word[1] >= "\u0600"


class Scope:
    """The scope markers of one message, asked about each phrase found in it."""

    def __init__(self, reading: Reading, lex: Lexicon, markers: list[PhraseHit]) -> None:
        self._reading = reading
        self._lex = lex
        self._blocks = [m for m in markers if m.phrase.level == "block"]
        # "asking for me", "not jk": the writer means it, wherever in the message it is said.
        self._earnest = any(m.phrase.tag == "earnest" for m in markers)
        self._by_sentence: dict[int, list[PhraseHit]] = {}
        for m in markers:
            if m.phrase.level == "scope":
                self._by_sentence.setdefault(reading.clauses[m.clause].sentence, []).append(m)

    def reason(
        self, clause: int, start: int, end: int, tag: str, pattern: str = "", lang: str = ""
    ) -> str | None:
        """Why a phrase at these words does not count, or None when it does (``lang``: the
        phrase's language, whose negators count; "" for a municipality's own word)."""
        if any(b.clause == clause and b.start < end and start < b.end for b in self._blocks):
            return "idiom"
        words = self._reading.clauses[clause].text.split(" ")
        negators = self._lex.negators_by_lang.get(lang, self._lex.negators)
        if self._negated(words, start, end, negators):
            return "negated"
        if any(len(w) > len(s) + 2 and w.endswith(s) for w in words[start:end] for s in _STREET):
            return "street name"
        if end < len(words) and words[end] in _STREET_AFTER:
            return "street name"  # "we live on Violet Street 4" (not "followed me down the lane")
        if pattern in self._lex.farewells and self._greeted(clause):
            return "greeting"
        return self._sentence_reason(clause, start, end, tag, words)

    def lowered(self, pattern: str) -> bool:
        """A child alone, asked about for a short, arranged time: a concern, not akut ("is my
        son ok home alone for an hour after school?"); never at night, for days, for a baby
        or a small child, or when nobody came."""
        if pattern not in self._lex.alone:
            return False
        kinds = {m.phrase.tag for ms in self._by_sentence.values() for m in ms}
        asked = "permission" in kinds or any(c.question for c in self._reading.clauses)
        return asked and "short_time" in kinds and "unsafe_alone" not in kinds

    def _greeted(self, clause: int) -> bool:
        """A season's greeting or thanks for the help in this sentence or one next to it:
        "tak for alt, god jul", "tak for alt i år", "Tak for alt. Vi ses i januar"."""
        sentence = self._reading.clauses[clause].sentence
        return any(
            m.phrase.tag == "greeting"
            for s in (sentence - 1, sentence, sentence + 1)
            for m in self._by_sentence.get(s, ())
        )

    def _about(self, clause: int, start: int, end: int, words: list[str]) -> bool:
        """A risk about an animal or a sport: the activity word is its subject, next to it
        ("hunden bløder", "katten er død"), or where it happened ("slog mig til fodbold").
        Not where a real event merely took place or came from: "bidt af en hund og bløder
        meget", "ikke kommet hjem fra fodbold"."""
        for m in self._by_sentence.get(self._reading.clauses[clause].sentence, ()):
            if m.phrase.tag != "activity" or m.clause != clause:
                continue
            between = words[m.end : start]
            if 0 <= start - m.end <= 1 and not set(between) & self._lex.starters:
                return True
            if 1 <= m.start - end <= 3 and words[m.start - 1] in _AT:
                return True
        return False

    def _negated(self, words: list[str], start: int, end: int, negators: frozenset[str]) -> bool:
        lex = self._lex
        # A risk that is itself a negation ("ні грошей ні їжі", "لا مصاري ولا اكل") is not
        # cancelled by one before it: Ukrainian and Arabic stack negations for emphasis.
        before = () if words[start] in lex.negators else words[max(0, start - 3) : start]
        for w in reversed(before):
            if w in negators:
                return True
            if w in lex.starters or _and_then(w):
                break
        after = words[end : end + 3]
        if after and after[0] in lex.neg_adverbs:
            after = after[1:]
        return (
            bool(after)
            and after[0] in lex.neg_after
            and not (len(after) > 1 and after[1] in lex.neg_after_except)
        )

    def _sentence_reason(
        self, clause: int, start: int, end: int, tag: str, words: list[str]
    ) -> str | None:
        sentence = self._reading.clauses[clause].sentence
        kinds: dict[str, PhraseHit] = {}
        for m in self._by_sentence.get(sentence, ()):
            kinds.setdefault(m.phrase.tag, m)  # the first of each kind: markers come in order
        jokes = [
            m
            for m in self._by_sentence.get(sentence, ())
            if m.phrase.tag == "joke"
            and (m.phrase.pattern not in _LAUGHS or (m.clause, m.start) > (clause, start))
        ]
        return (
            self._marked(kinds, start, words, joke=bool(jokes) and not self._earnest)
            or self._about_something(kinds, clause, start, end, tag, words)
            or (None if self._earnest else self._hypothetical(kinds, clause, start, end, tag))
        )

    @staticmethod
    def _marked(
        kinds: dict[str, PhraseHit], start: int, words: list[str], *, joke: bool
    ) -> str | None:
        """Past, quoted or a joke (a laugh after the risk, or "for sjov", "jk"): the
        sentence's markers say so."""
        if "past" in kinds:
            return "past"
        if "docref" in kinds:
            return "quoted"
        if words[:start].count(QUOTE) % 2 == 1 and "speech" not in kinds:
            return "quoted"
        if joke:
            return "joke"
        return None

    def _about_something(
        self,
        kinds: dict[str, PhraseHit],
        clause: int,
        start: int,
        end: int,
        tag: str,
        words: list[str],
    ) -> str | None:
        """A topic (a film, the news, a lost wallet returned), or an animal or sport the risk
        is about."""
        if "topic" in kinds or (tag in _POLICE_TAGS and "police_ok" in kinds):
            return "topic"
        if "activity" in kinds and self._about(clause, start, end, words):
            return "topic"
        return None

    def _hypothetical(
        self, kinds: dict[str, PhraseHit], clause: int, start: int, end: int, tag: str
    ) -> str | None:
        hypo = kinds.get("hypo")
        if hypo is not None and hypo.clause == clause and start <= hypo.start < end:
            return None  # the "if" is the phrase's own: "what happens to the kids if I'm gone"
        speech = kinds.get("speech")
        if (
            tag in _THREAT_TAGS
            and speech is not None
            and hypo is not None
            and (speech.clause, speech.start) < (hypo.clause, hypo.start)
        ):
            hypo = None  # "he said if I go to you, he'll kill me": a threat, reported
        if hypo is not None and (hypo.clause, hypo.start) <= (clause, start):
            # A question about what to do if …, or the short condition of an if-clause itself
            # ("hvis det bliver akut, ringer jeg"); not a threat that happens to start with if.
            asked = self._reading.clauses[clause].question or "question" in kinds
            if asked or (hypo.clause == clause and start - hypo.end <= 3):
                return "hypothetical"
        return None
