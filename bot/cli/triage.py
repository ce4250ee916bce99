"""``tovholder triage classify | evaluate | train``: the SMS reader from the command line.

Wire into the main parser with ``bot.cli.triage.register(subparsers)``.

- ``classify [--tenant SLUG]`` reads JSON lines ``{"id", "text"}`` on standard
  input and writes one JSON line per input, in order: ``id``, ``urgent``,
  ``level``, ``intent``, ``intent_source``, ``matched`` and ``why``. Without
  ``--tenant`` it needs no database (the default words); with it, that
  municipality's own words are added, and its own model when one was trained
  (``train --tenant``), read from the configured database.
- ``evaluate FILE.jsonl`` prints urgent recall, false alarms on hard negatives,
  intent accuracy, ordinary messages read as an intent and concerns caught, per
  language; ``--misses`` also lists each row read wrongly.
- ``train [--corpus FILE] [--out FILE]`` rebuilds the model's weights from the
  training split (needs scikit-learn and numpy; same corpus, same weights).
  ``train --tenant SLUG`` adds that municipality's examples (taught by staff on
  the thread page) to the corpus and stores the weights for that municipality
  only, sealed in the database; without examples nothing changes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.cli.readers import classify_lines, evaluate
from bot.domain.triage import Triager

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "tests" / "data" / "triage" / "train.jsonl"


def register(subparsers: Any) -> None:
    """Add the ``triage`` command and its subcommands to the ``tovholder`` parser."""
    triage = subparsers.add_parser("triage", help="read SMS for urgency and intent")
    sub = triage.add_subparsers(dest="triage_cmd", required=True)

    p = sub.add_parser("classify", help='JSON lines {"id","text"} in, one result per line out')
    p.add_argument("--tenant", help="add this municipality's own words (reads the database)")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("evaluate", help="figures per language on a labelled JSON-lines file")
    p.add_argument("file", type=Path)
    p.add_argument("--misses", action="store_true", help="also list every row read wrongly")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="rebuild the model's weights from the training split")
    p.add_argument("--corpus", type=Path, default=TRAIN)
    p.add_argument("--out", type=Path, default=None, help="default: the package's model.json")
    p.add_argument("--tenant", help="train this municipality's model with its own examples")
    p.set_defaults(func=cmd_train)


def classify(triager: Triager, lines: TextIO, out: TextIO) -> int:
    """One JSON result per input line; a line that is not ``{"id","text"}`` gets an error."""
    return classify_lines(triager, lines, out)


async def _tenant_triager(slug: str) -> Triager:
    from bot.base import config as config_mod
    from bot.base.services import Services
    from bot.cli.services import tenant_by_slug, with_services
    from bot.domain.dispatch import tenant_triager

    async def job(svc: Services) -> Triager:
        tid = await tenant_by_slug(svc, slug)
        async with svc.read() as conn:
            return await tenant_triager(conn, svc, tid)

    return await with_services(config_mod.load(), job)


async def _train_tenant(slug: str, corpus: Path) -> int:
    from bot.base import config as config_mod
    from bot.base.services import Services
    from bot.cli.services import tenant_by_slug, with_services
    from bot.domain.triage_teach import train_tenant

    async def job(svc: Services) -> int:
        return await train_tenant(svc, await tenant_by_slug(svc, slug), corpus)

    return await with_services(config_mod.load(), job)


def cmd_classify(args: argparse.Namespace) -> int:
    triager = asyncio.run(_tenant_triager(args.tenant)) if args.tenant else Triager()
    return classify(triager, sys.stdin, sys.stdout)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from bot.domain.triage import corpus

    return evaluate(corpus, args.file, Triager(), misses=args.misses)


def cmd_train(args: argparse.Namespace) -> int:
    if args.tenant:
        return _cmd_train_tenant(args)
    try:
        from bot.domain.triage.model import MODEL_PATH
        from bot.domain.triage.train import train

        data = train(args.corpus, args.out or MODEL_PATH)
    except ImportError as exc:
        print(
            "tovholder: training needs scikit-learn and numpy: "
            f"pip install 'tovholder[train]' ({exc})",
            file=sys.stderr,
        )
        return 2
    print(
        f"{len(data['vocab'])} features; thresholds {data['thresholds']}; "
        f"written to {args.out or MODEL_PATH}"
    )
    return 0


def _cmd_train_tenant(args: argparse.Namespace) -> int:
    try:
        used = asyncio.run(_train_tenant(args.tenant, args.corpus))
    except ImportError as exc:
        print(f"tovholder: training needs scikit-learn and numpy ({exc})", file=sys.stderr)
        return 2
    if not used:
        print(f"{args.tenant}: no examples taught yet; nothing changed")
    else:
        print(f"{args.tenant}: trained with {used} examples; stored for this municipality")
    return 0
