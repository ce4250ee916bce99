"""The reader on the probe split: the figures reached, so a regression fails.

The probe splits (tests/data/triage/probe4.jsonl and probe5.jsonl; README.md there) were
written by a sixth and a seventh writer who never saw the reader, its lexicon or its corpus,
each committed before anything was changed for it; only their aggregate figures are read,
a few times per round, and they are never used to tune the reader. (The earlier probe splits, read the same way
in the third and fourth rounds, were then added to the training split.)

Measured after issue #16's fifth round (twice: after the retrained model, then after
the lexicon; before the round in brackets; targets after the semicolon): urgent recall
da 50/54 (49), en 29/32 (28), uk 29/30 (26), ar 26/29 (25) (≥ 98 % each: not met);
false alarms on hard negatives 7/80 (6) (≤ 10 %: met); intents 43/50 (38) (≥ 95 %: not
met); ordinary messages read as an intent 0/125 (0) (≤ 2 %: met). After the sixth round: probe3 urgent da 50, en 30, uk 28, ar 26, 7/80, 44/50, 0/125;
probe4 (before the round: da 46, en 24, uk 27, ar 21 of 54, 32, 29, 29; 7/79; 43/50; 0/126)
da 48, en 25, uk 27, ar 23; 6/79; 45/50; 0/126. In the seventh round probe3 joined the
training split; probe5 (before the round: da 40, en 29, uk 29, ar 23 of 52, 32, 30, 28;
12/80; 40/48; 2/125). After the seventh round: probe4 da 50, en 25, uk 27, ar 24; 7/79;
46/50; 0/126; probe5 da 45, en 30, uk 29, ar 24; 10/80 (over the 10 % target); 44/48; 2/125;
with the model's veto, 6/79 and 8/80, recall as before; with the intent round, intents 47/50
and 45/48.
The floors say
how far the reader is from the targets on messages it has not seen; they are not the
targets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.triage import Triager
from bot.domain.triage.corpus import LANGS, Figures, evaluate, load

DATA = Path(__file__).resolve().parents[1] / "data" / "triage"
PROBE = DATA / "probe5.jsonl"
PROBES = ("probe4", "probe5")
# What each probe reads at now: urgent recall per language, hard negatives paged, intents.
RECALL = {
    "probe4": {"da": 50, "en": 25, "uk": 27, "ar": 24},
    "probe5": {"da": 45, "en": 30, "uk": 29, "ar": 24},
}
FALSE_ALARMS = {"probe4": 6, "probe5": 8}
INTENTS = {"probe4": 47, "probe5": 45}


@pytest.fixture(scope="module")
def all_figures() -> dict[str, dict[str, Figures]]:
    triage = Triager()
    return {name: evaluate(load(DATA / f"{name}.jsonl"), triage) for name in PROBES}


def test_the_probe_split_has_every_kind_in_every_language() -> None:
    """315 messages (of 320 written; five equal to an earlier split's were dropped): urgent,
    hard negatives, intents and ordinary ones in each of the four languages."""
    rows = load(PROBE)
    assert len(rows) == 315
    assert sum(r["hard_negative"] for r in rows) >= len(rows) / 4
    ids = [r["id"] for r in rows]
    assert ids == sorted(set(ids)) and all(i.startswith("probe5-") for i in ids)
    for lang in LANGS:
        mine = [r for r in rows if r["lang"] == lang]
        assert any(r["urgent"] for r in mine) and any(r["intent"] for r in mine)
        assert any(not (r["urgent"] or r["intent"] or r["hard_negative"]) for r in mine)


def _plain(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def test_the_probe_split_shares_no_message_with_the_training_split() -> None:
    """No probe text is also a training text, even written with other case or punctuation."""
    train = {_plain(r["text"]) for r in load(DATA / "train.jsonl")}
    for name in PROBES:
        assert not [r["id"] for r in load(DATA / f"{name}.jsonl") if _plain(r["text"]) in train]


@pytest.mark.parametrize("probe", PROBES)
@pytest.mark.parametrize("lang", LANGS)
def test_probe_recall_per_language_does_not_fall(
    all_figures: dict[str, dict[str, Figures]], probe: str, lang: str
) -> None:
    """Urgent probe messages read as akut: no fewer than measured after the sixth round."""
    f = all_figures[probe][lang]
    assert f.recall.hits >= RECALL[probe][lang], str(f.recall)


@pytest.mark.parametrize("probe", PROBES)
def test_probe_false_alarms_intents_and_ordinary_replies_do_not_worsen(
    all_figures: dict[str, dict[str, Figures]], probe: str
) -> None:
    """Hard negatives paged, intents read right, ordinary messages read as an intent: as measured."""
    f = all_figures[probe]["all"]
    assert f.false_alarms.hits <= FALSE_ALARMS[probe], str(f.false_alarms)
    assert f.intents.hits >= INTENTS[probe], str(f.intents)
    assert f.ordinary_as_intent.hits <= 2, str(f.ordinary_as_intent)


@pytest.mark.parametrize(
    "text",
    ["se her", "Se her 📷", "her er billedet", "jeg er her nu", "her til morgen var vi hos lægen"],
)
def test_everyday_danish_her_is_not_urgent(text: str) -> None:
    """Danish "her" (here) is not the English "her" of a threat: no page for a photo's caption."""
    assert not Triager()(text).urgent
