"""The labelled corpus (tests/data/triage/*.jsonl) and how a triager is measured on it.

Each line: {"id", "text", "lang", "urgent", "level", "intent", "hard_negative"}.
The figures: urgent recall (urgent messages read as ``akut``), false alarms on
hard negatives (hard negatives read as ``akut``), intent accuracy (messages with
an intent read as that intent), ordinary messages read as an intent (messages
with neither an intent nor urgency that get one), and concern caught (``bekymring``
messages read as at least ``bekymring``) — overall and per language.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain.triage.reader import Triage

LANGS = ("da", "en", "uk", "ar")


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
        return "—" if rate is None else f"{100 * rate:5.1f} % ({self.hits}/{self.total})"


@dataclass(frozen=True, slots=True)
class Figures:
    """The measured figures for one language (or all)."""

    recall: Share
    false_alarms: Share
    intents: Share
    ordinary_as_intent: Share
    concern: Share


def _share(pairs: Iterable[tuple[bool, bool]]) -> Share:
    """Of the rows counted (first), how many hit (second)."""
    counted = [hit for wanted, hit in pairs if wanted]
    return Share(sum(counted), len(counted))


def measure(rows: list[dict[str, Any]], results: list[Triage]) -> dict[str, Figures]:
    """Figures per language and for ``all``."""
    out: dict[str, Figures] = {}
    for lang in (*LANGS, "all"):
        pairs = [(r, t) for r, t in zip(rows, results, strict=True) if lang in ("all", r["lang"])]
        out[lang] = Figures(
            recall=_share((r["urgent"], t.urgent) for r, t in pairs),
            false_alarms=_share((r["hard_negative"], t.urgent) for r, t in pairs),
            intents=_share((r["intent"] is not None, t.intent == r["intent"]) for r, t in pairs),
            ordinary_as_intent=_share(
                (r["intent"] is None and not r["urgent"], t.intent is not None) for r, t in pairs
            ),
            concern=_share((r["level"] == "bekymring", t.level is not None) for r, t in pairs),
        )
    return out


def evaluate(rows: list[dict[str, Any]], triage: Callable[[str], Triage]) -> dict[str, Figures]:
    """Run ``triage`` over every row and measure."""
    return measure(rows, [triage(r["text"]) for r in rows])


def report(figures: dict[str, Figures]) -> str:
    """The figures as a table (one row per language)."""
    head = (
        "lang",
        "urgent recall",
        "false alarms (hard neg.)",
        "intents",
        "ordinary→intent",
        "concern",
    )
    lines = [" | ".join(head)]
    for lang, f in figures.items():
        cells = (f.recall, f.false_alarms, f.intents, f.ordinary_as_intent, f.concern)
        lines.append(" | ".join([lang, *(str(c) for c in cells)]))
    return "\n".join(lines)


def misses(rows: list[dict[str, Any]], results: list[Triage]) -> list[str]:
    """One line per row read wrongly (urgency or intent), for looking at the training split."""
    out = []
    for r, t in zip(rows, results, strict=True):
        if (
            r["urgent"] != t.urgent
            or (r["intent"] is not None and r["intent"] != t.intent)
            or (r["intent"] is None and not r["urgent"] and t.intent is not None)
        ):
            out.append(
                f"{r['id']} want={r['level']}/{r['intent']} got={t.level}/{t.intent} {t.why}"
            )
    return out
