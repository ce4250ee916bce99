"""``tovholder guard classify | evaluate``: the decision guard from the command line.

Wire into the main parser with ``bot.cli.guard.register(subparsers)``.

- ``classify`` reads JSON lines ``{"id", "text"}`` on standard input and
  writes one JSON line per input, in order: ``id``, ``decision`` (true when
  the text reads as an afgørelse and would be refused) and ``why``. No database.
- ``evaluate FILE.jsonl`` prints decision recall and false refusals (on hard
  negatives and on all non-decisions), per language; ``--misses`` also lists
  each row read wrongly; ``--rules-only`` reads without the model.
- ``train [--corpus FILE] [--out FILE]`` rebuilds the model's weights
  (``bot/domain/guard/model.json``) from the training split and prints the
  out-of-fold figures (needs scikit-learn and numpy; same corpus, same weights).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.cli.readers import classify_lines, evaluate
from bot.domain.guard import read

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "tests" / "data" / "guard" / "train.jsonl"


def register(subparsers: Any) -> None:
    """Add the ``guard`` command and its subcommands to the ``tovholder`` parser."""
    guard = subparsers.add_parser("guard", help="read texts for an afgørelse (decision guard)")
    sub = guard.add_subparsers(dest="guard_cmd", required=True)

    p = sub.add_parser("classify", help='JSON lines {"id","text"} in, one result per line out')
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("evaluate", help="figures per language on a labelled JSON-lines file")
    p.add_argument("file", type=Path)
    p.add_argument("--misses", action="store_true", help="also list every row read wrongly")
    p.add_argument("--rules-only", action="store_true", help="read without the model")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="rebuild the model's weights from the training split")
    p.add_argument("--corpus", type=Path, default=TRAIN)
    p.add_argument("--out", type=Path, default=None, help="default: the package's model.json")
    p.set_defaults(func=cmd_train)


def classify(lines: TextIO, out: TextIO) -> int:
    """One JSON result per input line (flushed: it may be read as it comes); bad lines, errors."""
    return classify_lines(read, lines, out, flush=True)


def cmd_classify(args: argparse.Namespace) -> int:
    return classify(sys.stdin, sys.stdout)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from bot.domain.guard import corpus

    if args.rules_only:
        return evaluate(corpus, args.file, lambda text: read(text, model=None), misses=args.misses)
    return evaluate(corpus, args.file, read, misses=args.misses)


def cmd_train(args: argparse.Namespace) -> int:
    try:
        from bot.domain.guard.model import MODEL_PATH
        from bot.domain.guard.train import train

        data = train(args.corpus, args.out or MODEL_PATH)
    except ImportError as exc:
        print(
            "tovholder: training needs scikit-learn and numpy: "
            f"pip install 'tovholder[train]' ({exc})",
            file=sys.stderr,
        )
        return 2
    print(f"{len(data['vocab'])} features; threshold {data['threshold']}")
    for reader, rows in data["out_of_fold"].items():
        shown = "; ".join(
            f"{label} {hits}/{total} ({100 * hits / total:.1f} %)"
            for label, (hits, total) in rows.items()
        )
        print(f"out of fold, {reader}: {shown}")
    print(f"written to {args.out or MODEL_PATH}")
    return 0
