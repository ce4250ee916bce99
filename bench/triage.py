"""Issue 16: the SMS reader's cost per message and its figures on the held-out split
and on the probe split (a writer the reader never saw: the honest figure).

Targets: triage + intent ≤ 200 µs median per SMS on one core (the inbound path
reads every SMS; the group commit files about 1,000 SMS/s on one worker);
urgent recall ≥ 98 % in each language; false alarms on hard negatives ≤ 10 %;
intents read right ≥ 95 %; ordinary messages read as an intent ≤ 2 %; model
files ≤ 20 MB. Timing: every held-out message, in a shuffled order, ``ROUNDS``
times, one call at a time, after one warm-up pass (the lexicon compiles once
per process, which is not per-SMS cost).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from bench.common import Row, percentile
from bot.domain.triage import Triager
from bot.domain.triage.corpus import LANGS, load, measure
from bot.domain.triage.model import MODEL_PATH

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "tests" / "data" / "triage" / "heldout.jsonl"
PROBES = ("probe4", "probe5")  # writers the reader never saw, committed before their rounds
ROUNDS = 20


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def run() -> list[Row]:
    """Time the reader and measure it on the held-out split."""
    rows = load(HELDOUT)
    triager = Triager()
    texts = [r["text"] for r in rows]
    results = [triager(t) for t in texts]  # warm-up, and the figures
    order = texts * ROUNDS
    random.Random(16).shuffle(order)
    times = []
    clock = time.perf_counter_ns
    for text in order:
        t0 = clock()
        triager(text)
        times.append((clock() - t0) / 1000)
    times.sort()
    figures = measure(rows, results)
    out = [
        Row("median per SMS", round(percentile(times, 50) or 0, 1), "≤ 200", "µs"),
        Row("p99 per SMS", round(percentile(times, 99) or 0, 1), "", "µs"),
        Row("model file", round(MODEL_PATH.stat().st_size / 1e6, 2), "≤ 20", "MB"),
    ]
    splits = [("held-out", figures)]
    for name in PROBES:
        probe = load(HELDOUT.with_name(f"{name}.jsonl"))
        splits.append((name, measure(probe, [triager(r["text"]) for r in probe])))
    for split, figs in splits:
        for lang in LANGS:
            out.append(
                Row(f"{split}: urgent recall {lang}", _pct(figs[lang].recall.rate), "≥ 98", "%")
            )
        alls = figs["all"]
        out += [
            Row(
                f"{split}: false alarms on hard negatives",
                _pct(alls.false_alarms.rate),
                "≤ 10",
                "%",
            ),
            Row(f"{split}: intents read right", _pct(alls.intents.rate), "≥ 95", "%"),
            Row(
                f"{split}: ordinary read as an intent",
                _pct(alls.ordinary_as_intent.rate),
                "≤ 2",
                "%",
            ),
            Row(f"{split}: concerns caught (bekymring or akut)", _pct(alls.concern.rate), "", "%"),
        ]
    return out


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run()))
