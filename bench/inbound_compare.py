"""``python -m bench inbound --compare signing|triage``: what one part of the inbound path costs.

Targets: the inbound benchmark's share of the raw ceiling falls by no more than
3 points with journal signing on (issue #18), and by no more than 5 points with
triage and intent reading on (issue #16).

The run: the inbound benchmark's world (``bench.inbound``: a fresh database,
one seeded municipality, wrk, the Twilio stand-in), then pairs of closed loops
of one worker of ``bench.serve``, relay on, with the part on and with it off
(``--journal-unsigned``, ``--triage-off``), each pair after its own raw ceiling
and each run on the seeded state. The order within a pair alternates (on, off;
off, on; …) so that a machine drifting over the minutes weighs on both sides
alike. Each SMS ends with its sender's name (``Webhooks(greeting=True)``):
with the full run's seven texts over and over, the intent reading's cache
(``bot.domain.readings.default_triage``) would answer for most SMS, as it never does
for real ones (``TOVHOLDER_BENCH_GREETING=0`` sends those seven texts). On a
shared 2-core machine one run's rate says little, so the figures
are medians: each side's share of its pair's ceiling, and the points the part
costs (its share off minus its share on in each pair; the median of those is
held to the target, the medians' difference is shown beside it), with the
spread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.common import Row, fmt
from bench.inbound import Bench, Checked, Settings, open_bench, say, warn_if_busy
from bench.wrk import ensure_wrk


@dataclass(frozen=True)
class Comparison:
    """A part of the inbound path that ``bench.serve`` can switch off, and its target."""

    part: str
    switch: str  # bench.serve's option that switches it off
    most_points: float  # the share of the raw ceiling it may cost
    issue: int


COMPARISONS = {
    "signing": Comparison("journal signing", "--journal-unsigned", 3.0, 18),
    "triage": Comparison("triage + intent reading", "--triage-off", 5.0, 16),
}


@dataclass(frozen=True)
class Pair:
    """One raw ceiling and the two runs measured after it."""

    ceiling: Checked
    on: Checked
    off: Checked

    def share(self, run: Checked) -> float:
        rate = self.ceiling.result.rate
        return 100 * run.result.rate / rate if rate > 0 else 0.0


@dataclass(frozen=True)
class Summary:
    """A comparison's pairs in figures: shares in per cent of each pair's own ceiling."""

    on: list[float]
    off: list[float]
    ceilings: list[float]

    @classmethod
    def of(cls, pairs: Sequence[Pair]) -> Summary:
        return cls(
            [p.share(p.on) for p in pairs],
            [p.share(p.off) for p in pairs],
            [p.ceiling.result.rate for p in pairs],
        )

    @property
    def pair_points(self) -> list[float]:
        """What the part costs in each pair: its share off minus its share on."""
        return [off - on for on, off in zip(self.on, self.off, strict=True)]

    @property
    def points(self) -> float:
        """What the part costs: the median of the pairs' points. Each pair shares a ceiling and
        a minute of the machine, so this moves less with the load than the medians' difference."""
        return statistics.median(self.pair_points)


def _spread(values: Iterable[float | None]) -> str:
    found = [v for v in values if v is not None]
    return f"{fmt(min(found))}–{fmt(max(found))}" if found else "—"


def _median(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None


def rows(c: Comparison, pairs: Sequence[Pair]) -> list[Row]:
    """The table: each side's median share, the points between them, and the spreads."""
    s = Summary.of(pairs)
    n = len(pairs)
    runs = [r for p in pairs for r in (p.ceiling, p.on, p.off)]
    on, off = statistics.median(s.on), statistics.median(s.off)
    out = [
        Row(f"raw ceiling, median of {n}", statistics.median(s.ceilings), "", "msg/s"),
        Row(f"share of the raw ceiling, {c.part} on, median of {n}", on, "", "%"),
        Row(f"share of the raw ceiling, {c.part} off, median of {n}", off, "", "%"),
        Row("difference of those medians (off − on)", round(off - on, 2), "", "points"),
        Row(
            f"{c.part}: points of the share it costs, median of the pairs (issue #{c.issue})",
            round(s.points, 2),
            f"≤ {c.most_points:g}",
            "points",
        ),
        Row("spread: points, pair by pair", ", ".join(f"{p:+.1f}" for p in s.pair_points), "", ""),
        Row("spread: raw ceiling", _spread(s.ceilings), "", "msg/s"),
        Row("spread: share on; off", f"{_spread(s.on)}; {_spread(s.off)}", "", "%"),
        Row(
            "diagnostic: server CPU per message, on; off (medians)",
            f"{fmt(_median(p.on.result.server_cpu_ms() for p in pairs))}; "
            f"{fmt(_median(p.off.result.server_cpu_ms() for p in pairs))}",
            "",
            "ms",
        ),
        Row("accepted webhooks not stored (every run)", sum(r.missing for r in runs), "= 0", ""),
        Row("answers other than 200 (every run)", sum(r.result.errors for r in runs), "= 0", ""),
        Row(
            "diagnostic: CPU of other processes during the runs (shared machine)",
            _spread(r.result.cpu.others / r.result.elapsed for r in runs if r.result.cpu),
            "",
            "cores",
        ),
    ]
    if c.switch == "--journal-unsigned":
        # The switch is a replacement in the server's process: proof it took, and only there.
        out += [
            Row(
                "journal heads signed in the runs with signing on",
                sum(p.on.signed for p in pairs),
                "",
                "",
            ),
            Row(
                "journal heads signed in the runs with signing off",
                sum(p.off.signed for p in pairs),
                "= 0",
                "",
            ),
        ]
    return out


async def _compare(
    s: Settings, stack: contextlib.ExitStack, wrk_path: str, c: Comparison, n: int
) -> list[Row]:
    async with open_bench(s, stack, wrk_path) as bench:
        say(
            f"inbound: {n} pairs: the raw ceiling, then one worker of bench.serve with "
            f"{c.part} on and off ({c.switch}), in turn first"
        )
        pairs = [await _pair(bench, c, i) for i in range(n)]
    warn_if_busy([r for p in pairs for r in (p.ceiling, p.on, p.off)])
    return rows(c, pairs)


async def _pair(bench: Bench, c: Comparison, i: int) -> Pair:
    say(f"inbound: pair {i + 1}")
    ceiling = await bench.raw_ceiling(bench.pg)

    async def on() -> Checked:
        return await bench.closed_run(f"{c.part}, on")

    async def off() -> Checked:
        return await bench.closed_run(f"{c.part}, off", c.switch)

    if i % 2 == 0:
        first_on = await on()
        return Pair(ceiling, first_on, await off())
    first_off = await off()
    return Pair(ceiling, await on(), first_off)


def run(what: str, pairs: int = 3) -> list[Row]:
    """Compare the inbound share of the raw ceiling with a part on and off (``COMPARISONS``).

    Subprocesses are stopped and the database dropped however it ends (error, Ctrl-C, SIGTERM).
    """
    comparison = COMPARISONS.get(what)
    if comparison is None:
        raise ValueError(f"nothing to compare called {what!r}; known: {', '.join(COMPARISONS)}")
    wrk_path = ensure_wrk()
    # The Python client's diagnostic runs belong to the full run only. Bodies vary as real
    # ones do (TOVHOLDER_BENCH_GREETING=0: the full run's seven texts, for comparison).
    greeting = os.environ.get("TOVHOLDER_BENCH_GREETING", "1") not in ("0", "", "no")
    settings = dataclasses.replace(Settings.from_env(), python_client=False, greeting=greeting)
    with contextlib.ExitStack() as stack:
        return asyncio.run(_compare(settings, stack, wrk_path, comparison, max(1, pairs)))
