"""The labelled corpus (tests/data/guard/*.jsonl) and how the guard is measured on it.

Each line: ``{"id", "text", "lang", "decision", "hard_negative"}``. The figures:
decision recall (decisions read as decisions), false refusals on hard
negatives (texts that name a decision, a refusal or a right but are not one,
read as decisions) and false refusals on all non-decisions — overall and per
language.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain.guard.reader import Reading


def load(path: Path) -> list[dict[str, Any]]:
    """The rows of one JSON-lines corpus file."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@dataclass(frozen=True, slots=True)
class Share:
    """``hits`` of ``total``."""

    hits: int
    total: int

    @property
    def rate(self) -> float | None:
        """hits / total, or None when there is nothing to count."""
        return self.hits / self.total if self.total else None

    def __str__(self) -> str:
        rate = self.rate
        return f"{rate * 100:5.1f} % ({self.hits}/{self.total})" if rate is not None else "  –"


@dataclass(frozen=True, slots=True)
class Figures:
    """The guard's figures on one set of rows."""

    recall: Share
    false_refusals_hard: Share
    false_refusals: Share


def _share(pairs: Iterable[tuple[dict[str, Any], Reading]], keep: Callable[[Any], bool]) -> Share:
    chosen = [(row, r) for row, r in pairs if keep(row)]
    return Share(sum(1 for _, r in chosen if r.decision), len(chosen))


def figures(rows: list[dict[str, Any]], results: list[Reading]) -> Figures:
    """Recall on decisions, false refusals on hard negatives and on all non-decisions."""
    pairs = list(zip(rows, results, strict=True))
    return Figures(
        recall=_share(pairs, lambda row: row["decision"]),
        false_refusals_hard=_share(pairs, lambda row: row.get("hard_negative", False)),
        false_refusals=_share(pairs, lambda row: not row["decision"]),
    )


def measure(rows: list[dict[str, Any]], results: list[Reading]) -> dict[str, Figures]:
    """Figures overall (``"all"``) and per language."""
    out = {"all": figures(rows, results)}
    for lang in sorted({str(row.get("lang", "?")) for row in rows}):
        keep = [i for i, row in enumerate(rows) if row.get("lang", "?") == lang]
        out[lang] = figures([rows[i] for i in keep], [results[i] for i in keep])
    return out


def report(by_lang: dict[str, Figures]) -> str:
    """The figures as a small table."""
    lines = [f"{'':4} {'decision recall':>22} {'false refusals (hard)':>22} {'(all)':>22}"]
    for lang, f in by_lang.items():
        lines.append(
            f"{lang:4} {f.recall!s:>22} {f.false_refusals_hard!s:>22} {f.false_refusals!s:>22}"
        )
    return "\n".join(lines)


def misses(rows: list[dict[str, Any]], results: list[Reading]) -> list[str]:
    """Each row read wrongly, with what the guard said."""
    out = []
    for row, r in zip(rows, results, strict=True):
        if r.decision != row["decision"]:
            label = "missed" if row["decision"] else "refused"
            out.append(f"{label} {row['id']}: {row['text']!r} {r.why}")
    return out
