"""The reader on the probe split: the figures reached, so a regression fails.

The probe split (tests/data/triage/probe3.jsonl; README.md there) was written by a
fifth writer who never saw the reader, its lexicon or its corpus, and committed before
anything was changed for it; only its aggregate figures are read, once per round,
and it is never used to tune the reader. (The earlier probe splits, read the same way
in the third and fourth rounds, were then added to the training split.)

Measured after issue #16's fifth round (twice: after the retrained model, then after
the lexicon; before the round in brackets; targets after the semicolon): urgent recall
da 50/54 (49), en 29/32 (28), uk 29/30 (26), ar 26/29 (25) (≥ 98 % each: not met);
false alarms on hard negatives 7/80 (6) (≤ 10 %: met); intents 43/50 (38) (≥ 95 %: not
met); ordinary messages read as an intent 0/125 (0) (≤ 2 %: met). The floors say how far the reader is from the targets on messages it
has not seen; they are not the targets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.triage import Triager
from bot.domain.triage.corpus import LANGS, Figures, evaluate, load

DATA = Path(__file__).resolve().parents[1] / "data" / "triage"
PROBE = DATA / "probe3.jsonl"
RECALL = {"da": 50, "en": 29, "uk": 29, "ar": 26}


@pytest.fixture(scope="module")
def figures() -> dict[str, Figures]:
    return evaluate(load(PROBE), Triager())


def test_the_probe_split_has_every_kind_in_every_language() -> None:
    """320 messages: urgent, hard negatives, intents and ordinary ones in each of the four languages."""
    rows = load(PROBE)
    assert len(rows) == 320
    assert sum(r["hard_negative"] for r in rows) >= len(rows) / 4
    assert [r["id"] for r in rows] == [f"probe3-{i:04d}" for i in range(1, 321)]
    for lang in LANGS:
        mine = [r for r in rows if r["lang"] == lang]
        assert any(r["urgent"] for r in mine) and any(r["intent"] for r in mine)
        assert any(not (r["urgent"] or r["intent"] or r["hard_negative"]) for r in mine)


def _plain(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def test_the_probe_split_shares_no_message_with_the_training_split() -> None:
    """No probe text is also a training text, even written with other case or punctuation."""
    train = {_plain(r["text"]) for r in load(DATA / "train.jsonl")}
    assert not [r["id"] for r in load(PROBE) if _plain(r["text"]) in train]


@pytest.mark.parametrize("lang", LANGS)
def test_probe_recall_per_language_does_not_fall(figures: dict[str, Figures], lang: str) -> None:
    """Urgent probe messages read as akut: no fewer than measured after the fifth round."""
    assert figures[lang].recall.hits >= RECALL[lang], str(figures[lang].recall)


def test_probe_false_alarms_intents_and_ordinary_replies_do_not_worsen(
    figures: dict[str, Figures],
) -> None:
    """Hard negatives paged, intents read right, ordinary messages read as an intent: as measured."""
    f = figures["all"]
    assert f.false_alarms.hits <= 7, str(f.false_alarms)
    assert f.intents.hits >= 43, str(f.intents)
    assert f.ordinary_as_intent.hits <= 2, str(f.ordinary_as_intent)


@pytest.mark.parametrize(
    "text",
    ["se her", "Se her 📷", "her er billedet", "jeg er her nu", "her til morgen var vi hos lægen"],
)
def test_everyday_danish_her_is_not_urgent(text: str) -> None:
    """Danish "her" (here) is not the English "her" of a threat: no page for a photo's caption."""
    assert not Triager()(text).urgent
