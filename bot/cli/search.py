"""``tovholder search reindex``: write the name tokens of the case search for every person.

Run once after migration ``0024_case_search`` (people created before it have no
tokens; the migration has no index key to compute them) and after the index key
changes. People created later get theirs when they are created. Safe to repeat.

Wire into the main parser with ``bot.cli.search.register(subparsers)``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.base import config as config_mod
from bot.base.services import Services
from bot.cli.services import with_services


def register(subparsers: Any) -> None:
    """Add the ``search`` command and its ``reindex`` subcommand to the ``tovholder`` parser."""
    search = subparsers.add_parser("search", help="the caseworkers' case search")
    sub = search.add_subparsers(dest="search_cmd", required=True)
    p = sub.add_parser("reindex", help="(re)write every person's name tokens (blind index)")
    p.set_defaults(func=cmd_reindex)


def cmd_reindex(args: argparse.Namespace) -> int:
    from bot.domain.search_index import reindex

    async def job(svc: Services) -> int:
        return await reindex(svc)

    done = asyncio.run(with_services(config_mod.load(), job))
    print(f"search index: {done} people indexed")
    return 0
