"""What the two reader commands share (``tovholder guard`` and ``tovholder triage``).

- :func:`classify_lines`: JSON lines ``{"id", "text"}`` in, one JSON result per
  line out, in order; a line that is not such an object gets an error line.
- :func:`evaluate`: a labelled corpus read, its figures printed, and with
  ``misses`` every row read wrongly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO


class Reading(Protocol):
    """What a reader makes of one text."""

    def as_json(self) -> dict[str, Any]: ...


class Corpus(Protocol):
    """A reader's labelled corpus and its figures (bot.domain.guard.corpus, …triage.corpus)."""

    def load(self, path: Path) -> list[dict[str, Any]]: ...
    def measure(self, rows: list[dict[str, Any]], results: list[Any]) -> Any: ...
    def report(self, figures: Any, /) -> str: ...
    def misses(self, rows: list[dict[str, Any]], results: list[Any]) -> list[str]: ...


def classify_lines(
    read: Callable[[str], Reading], lines: TextIO, out: TextIO, *, flush: bool = False
) -> int:
    """One JSON result per input line; a line that is not ``{"id","text"}`` gets an error.

    Returns:
        The exit status: 1 when any line was not understood, else 0.
    """
    bad = 0
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = row["text"]
            if not isinstance(text, str):
                raise TypeError("text is not a string")
        except (ValueError, KeyError, TypeError) as exc:
            bad += 1
            err = {"id": None, "line": n, "error": f"not a JSON object with text: {exc}"}
            out.write(json.dumps(err) + "\n")
            continue
        result = {"id": row.get("id"), **read(text).as_json()}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        if flush:
            out.flush()
    return 1 if bad else 0


def evaluate(corpus: Corpus, path: Path, read: Callable[[str], Any], *, misses: bool) -> int:
    """Print the reader's figures on the corpus at ``path`` (and with ``misses``, each miss)."""
    rows = corpus.load(path)
    results = [read(r["text"]) for r in rows]
    print(corpus.report(corpus.measure(rows, results)))
    if misses:
        print("\n".join(corpus.misses(rows, results)))
    return 0
