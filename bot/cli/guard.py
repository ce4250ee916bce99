"""``tovholder guard classify | evaluate``: the decision guard from the command line.

Wire into the main parser with ``bot.cli.guard.register(subparsers)``.

- ``classify`` reads JSON lines ``{"id", "text"}`` on standard input and
  writes one JSON line per input, in order: ``id``, ``decision`` (true when
  the text reads as an afgørelse and would be refused) and ``why``. No database.
- ``evaluate FILE.jsonl`` prints decision recall and false refusals (on hard
  negatives and on all non-decisions), per language; ``--misses`` also lists
  each row read wrongly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.cli.readers import classify_lines, evaluate
from bot.domain.guard import read


def register(subparsers: Any) -> None:
    """Add the ``guard`` command and its subcommands to the ``tovholder`` parser."""
    guard = subparsers.add_parser("guard", help="read texts for an afgørelse (decision guard)")
    sub = guard.add_subparsers(dest="guard_cmd", required=True)

    p = sub.add_parser("classify", help='JSON lines {"id","text"} in, one result per line out')
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("evaluate", help="figures per language on a labelled JSON-lines file")
    p.add_argument("file", type=Path)
    p.add_argument("--misses", action="store_true", help="also list every row read wrongly")
    p.set_defaults(func=cmd_evaluate)


def classify(lines: TextIO, out: TextIO) -> int:
    """One JSON result per input line (flushed: it may be read as it comes); bad lines, errors."""
    return classify_lines(read, lines, out, flush=True)


def cmd_classify(args: argparse.Namespace) -> int:
    return classify(sys.stdin, sys.stdout)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from bot.domain.guard import corpus

    return evaluate(corpus, args.file, read, misses=args.misses)
