"""Properties of the triage reader, over many generated messages (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.triage import Triager
from bot.domain.triage.lexicon import LANGUAGES

TRIAGE = Triager()
WORDS_ONLY = Triager(model=None)  # matches are words and phrases; the model scores the whole
RANK = {None: 0, "bekymring": 1, "akut": 2}
CORPUS = Path(__file__).resolve().parents[1] / "data" / "triage" / "train.jsonl"
ROWS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
URGENT = [r["text"] for r in ROWS if r["urgent"]]
WORDS = sorted({w for r in ROWS for w in r["text"].split()} | {"tak", "skal", "selv", "mord"})
NEGATIONS = [
    "det er ikke sådan at {}",
    "ikke {}",
    "it is not true that {}",
    "not {}",
    "не {}",
    "це неправда що {}",
    "مش {}",
    "ما {}",
]
KEYWORDS = [(i, w) for m in LANGUAGES for i, ws in m.KEYWORDS.items() for w in ws]
SETTINGS = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(st.sampled_from(URGENT), st.sampled_from(NEGATIONS))
def test_negating_an_urgent_sentence_never_makes_it_more_urgent(text: str, negation: str) -> None:
    """Wrapping an urgent message in a negation never raises its level."""
    assert RANK[TRIAGE(negation.format(text)).level] <= RANK[TRIAGE(text).level]


@SETTINGS
@given(
    st.sampled_from(WORDS) | st.text(min_size=1, max_size=12),
    st.sampled_from(WORDS) | st.text(min_size=1, max_size=12),
    st.sampled_from([".", ",", "!", "?", ";", ":", " -", "…", "؟", "،"]),
)
def test_punctuation_between_two_words_never_creates_a_match(a: str, b: str, stop: str) -> None:
    """'a. b' matches nothing that 'a' alone or 'b' alone does not ('Tak. Skal' is no 'tæsk')."""
    joined = set(WORDS_ONLY(f"{a}{stop} {b}").matched)
    assert joined <= set(WORDS_ONLY(a).matched) | set(WORDS_ONLY(b).matched)


def _dress(word: str, flips: list[bool], accents: list[bool], left: str, right: str) -> str:
    out = []
    for i, ch in enumerate(word):
        ch = ch.swapcase() if flips[i % len(flips)] else ch
        out.append(ch + ("\u0301" if accents[i % len(accents)] and ch.isalpha() else ""))
    return left + "".join(out) + right


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(KEYWORDS),
    st.lists(st.booleans(), min_size=1, max_size=8),
    st.lists(st.booleans(), min_size=1, max_size=8),
    st.text(alphabet=" \t\n\u00a0\u200f", max_size=4),
    st.text(alphabet=" \t\n\u00a0\u200e", max_size=4),
)
def test_every_intent_keyword_acts_in_any_case_diacritics_and_whitespace(
    keyword: tuple[str, str], flips: list[bool], accents: list[bool], left: str, right: str
) -> None:
    """Each keyword in each language is an exact intent, however it is cased, accented or padded."""
    intent, word = keyword
    result = TRIAGE(_dress(word, flips, accents, left, right))
    assert (result.intent, result.intent_exact, result.urgent) == (intent, True, False)


BAD = [
    "",
    "   ",
    "\u200f\u200e\u202b\u2067",
    "😀😀😀🙈",
    "0123456789",
    "1" * 1600,
    "a" * 1600,
    "ø" * 1600,
    "ha " * 533,
    "\u200fمرحبا\u200f",
    "\x00\x01",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BAD) | st.text(max_size=2000))
def test_bad_input_gives_a_clear_result_and_never_raises(text: str) -> None:
    """Empty, huge, emoji-only, digit-only, right-to-left or random text: a whole result, never an error."""
    result = TRIAGE(text)
    assert isinstance(result.urgent, bool) and result.urgent == (result.level == "akut")
    assert result.level in RANK and result.intent in (None, *{i for i, _ in KEYWORDS})
    assert result.why and json.dumps(result.as_json())
