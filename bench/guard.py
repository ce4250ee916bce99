"""Issue 17: the decision guard's figures on the held-out split and on a third writer's
probe split (texts written by someone who never saw the guard: the honest figure), and
its cost per text.

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
PROBES = ("probe4", "probe5")  # writers the guard never saw, committed before their rounds
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
    out = []
    splits = [("held-out", figures(rows, results))]
    for name in PROBES:
        probe = load(HELDOUT.with_name(f"{name}.jsonl"))
        splits.append((name, figures(probe, [read(r["text"]) for r in probe])))
    for split, f in splits:
        out += [
            Row(f"decisions caught ({split})", _pct(f.recall.rate), "≥ 95", "%"),
            Row(f"hard negatives refused ({split})", _pct(f.false_refusals_hard.rate), "≤ 5", "%"),
            Row(f"non-decisions refused ({split})", _pct(f.false_refusals.rate), "", "%"),
        ]
    return [*out, Row("median per text", round(percentile(times, 50) or 0, 1), "", "µs")]
