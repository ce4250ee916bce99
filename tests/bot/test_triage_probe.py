"""The reader on the probe split: the figures reached, so a regression fails.

The probe split (tests/data/triage/README.md) was written by a third writer
before anything was changed for it, and is never used to tune the reader (only
its aggregate figures are read). Floors, at the reader after issue #16's second
round (targets in brackets): urgent recall da 31 of 40, en 19 of 23, uk 17 of
23, ar 20 of 23 (≥ 98 % each: far from met); false alarms on hard negatives 13
of 72 (≤ 10 %: not met); intents 25 of 34 (≥ 95 %: not met); ordinary messages
read as an intent 0 of 97 (≤ 2 %). A third round (character n-grams in the
model) raised recall to 92 of 109 but paged everyday Danish ("se her", "her er
billedet": the English "her" of "he hit her") and read a quarter of the held-out
concerns as akut; it was taken back (the README says more). The floors say how
far the reader is from the targets on messages it has not seen; they are not
the targets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.triage import Triager
from bot.domain.triage.corpus import LANGS, Figures, evaluate, load

PROBE = Path(__file__).resolve().parents[1] / "data" / "triage" / "probe.jsonl"
RECALL = {"da": 31, "en": 19, "uk": 17, "ar": 20}


@pytest.fixture(scope="module")
def figures() -> dict[str, Figures]:
    return evaluate(load(PROBE), Triager())


def test_the_probe_split_has_every_kind_in_every_language() -> None:
    """240 messages: urgent, hard negatives, intents and ordinary ones in each of the four languages."""
    rows = load(PROBE)
    assert len(rows) == 240
    assert sum(r["hard_negative"] for r in rows) >= len(rows) / 4
    assert [r["id"] for r in rows] == [f"probe-{i:04d}" for i in range(1, 241)]
    for lang in LANGS:
        mine = [r for r in rows if r["lang"] == lang]
        assert any(r["urgent"] for r in mine) and any(r["intent"] for r in mine)
        assert any(not (r["urgent"] or r["intent"] or r["hard_negative"]) for r in mine)


def test_the_probe_split_shares_no_message_with_the_training_split() -> None:
    """No probe text is also a training text (the training split grows; the probe must stay unseen)."""
    train = {r["text"] for r in load(PROBE.with_name("train.jsonl"))}
    assert not [r["id"] for r in load(PROBE) if r["text"] in train]


@pytest.mark.parametrize("lang", LANGS)
def test_probe_recall_per_language_does_not_fall(figures: dict[str, Figures], lang: str) -> None:
    """Urgent probe messages read as akut: no fewer than measured at the end of the second round."""
    assert figures[lang].recall.hits >= RECALL[lang], str(figures[lang].recall)


def test_probe_false_alarms_intents_and_ordinary_replies_do_not_worsen(
    figures: dict[str, Figures],
) -> None:
    """Hard negatives paged, intents read right, ordinary messages read as an intent: as measured."""
    f = figures["all"]
    assert f.false_alarms.hits <= 13, str(f.false_alarms)
    assert f.intents.hits >= 25, str(f.intents)
    assert f.ordinary_as_intent.hits <= 0, str(f.ordinary_as_intent)


@pytest.mark.parametrize(
    "text",
    ["se her", "Se her 📷", "her er billedet", "jeg er her nu", "her til morgen var vi hos lægen"],
)
def test_everyday_danish_her_is_not_urgent(text: str) -> None:
    """Danish "her" (here) is not the English "her" of a threat: no page for a photo's caption."""
    assert not Triager()(text).urgent
