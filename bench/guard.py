"""Issue 17: the decision guard's figures on the held-out split, and its cost per text.

Targets: decisions caught ≥ 95 %; hard negatives (texts that name a decision,
a refusal or a right without being one) refused ≤ 5 %. Timing: every held-out
text, shuffled, ``ROUNDS`` times, one call at a time, after one warm-up pass.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from bench.common import Row, percentile
from bot.domain.guard import read
from bot.domain.guard.corpus import figures, load

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "tests" / "data" / "guard" / "heldout.jsonl"
ROUNDS = 20


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def run() -> list[Row]:
    """Measure the guard on the held-out split and time it."""
    rows = load(HELDOUT)
    texts = [r["text"] for r in rows]
    results = [read(t) for t in texts]  # warm-up, and the figures
    order = texts * ROUNDS
    random.Random(17).shuffle(order)
    times = []
    clock = time.perf_counter_ns
    for text in order:
        t0 = clock()
        read(text)
        times.append((clock() - t0) / 1000)
    times.sort()
    f = figures(rows, results)
    return [
        Row("decisions caught (held-out)", _pct(f.recall.rate), "≥ 95", "%"),
        Row("hard negatives refused (held-out)", _pct(f.false_refusals_hard.rate), "≤ 5", "%"),
        Row("non-decisions refused (held-out)", _pct(f.false_refusals.rate), "", "%"),
        Row("median per text", round(percentile(times, 50) or 0, 1), "", "µs"),
    ]
