"""``tovholder serve`` with one worker and parts of it switched off, for the benchmarks only.

``python -m bench.serve [--relay-off] [--journal-unsigned] [--triage-off]``
serves the app as ``tovholder serve`` does with one worker (``bot.cli``'s own
serving code), configured from the same ``TOVHOLDER_*`` variables; each switch
takes one part out, so a benchmark can measure what that part costs:

- ``--relay-off``: the scheduler, and so the outbox relay, does not run.
  ``receive_sms`` wakes the relay after every commit, so
  ``TOVHOLDER_OUTBOX_INTERVAL`` alone cannot keep it out of a measurement;
  the configuration has no setting for ``scheduler_enabled``.
- ``--journal-unsigned``: journal heads move with no Ed25519 signature and no
  ``journal_signed_heads`` row, as before signed heads (issue #18).
- ``--triage-off``: every SMS reads as ordinary: no urgency, no concern, no
  intent (issue #16). Exact STOP/START keywords still act (``bot.domain.consent``).

The service itself has no such switches, and must not: it refuses to start
without a signing key, and its journal refuses to move a head unsigned. The
last two switches replace a function in this process only, before the app is
built; nothing they write can pass ``journal verify``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Mapping, Sequence
from typing import Any

from bot.base import config as config_mod
from bot.cli import _serve, _setup_logging


def journal_unsigned() -> None:
    """Journal heads move unsigned in this process: no signature, no signed-heads row."""
    from bot.store.engine import insert_rows as filed
    from bot.store.schema.journal import journal_signed_heads
    from journal import journal

    async def insert_rows(conn: Any, batches: Sequence[tuple[Any, Any]], **kw: Any) -> bool:
        kept = [(table, rows) for table, rows in batches if table is not journal_signed_heads]
        return await filed(conn, kept, **kw)

    def signed_row(*args: Any) -> Mapping[str, Any]:
        return {}  # dropped by insert_rows above

    _replace(journal, "insert_rows", insert_rows)
    _replace(journal, "signed_row", signed_row)


def triage_off() -> None:
    """Every SMS reads as ordinary in this process: the triage and intent reader do nothing."""
    from bot.domain.triage.reader import Triage, Triager

    def read_nothing(self: Triager, text: str) -> Triage:
        return Triage(False, (), why=("triage off (bench.serve)",))

    _replace(Triager, "__call__", read_nothing)


def _replace(owner: Any, name: str, value: Any) -> None:
    # A renamed function would leave the part switched on and the figures wrong: fail.
    if not callable(getattr(owner, name, None)):
        raise RuntimeError(f"bench.serve: {owner.__name__}.{name} is gone; update bench/serve.py")
    setattr(owner, name, value)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--relay-off", action="store_true", help="no scheduler, no outbox relay")
    parser.add_argument(
        "--journal-unsigned", action="store_true", help="journal heads move unsigned"
    )
    parser.add_argument("--triage-off", action="store_true", help="no triage, no intents")
    args = parser.parse_args(argv)
    # The level `tovholder serve` logs at in the benchmark (its --log-level default).
    _setup_logging(os.environ.get("TOVHOLDER_LOG_LEVEL", "INFO"))
    if args.journal_unsigned:
        journal_unsigned()
    if args.triage_off:
        triage_off()
    config = config_mod.load()
    if args.relay_off:
        config = config.with_(scheduler_enabled=False)
    asyncio.run(_serve(config))


if __name__ == "__main__":
    main()
