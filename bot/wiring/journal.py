"""Plugs the journal into the app (listed in ``bot.app.FEATURES``): routes and ticker jobs.

``install`` adds the journal's API routes. ``start`` reads the journal
configuration (refusing to start when it is incoherent, or without the key
that signs journal heads), installs the head signer, and schedules

- ``journal-export`` every ``TOVHOLDER_JOURNAL_EXPORT_INTERVAL`` s (when an
  exporter is enabled): relay entries to the case system;
- ``journal-heads`` every ``TOVHOLDER_JOURNAL_HEADS_INTERVAL`` s (when a heads
  sink is configured): anchor chain heads outside the database;
- ``retention`` hourly: purge transient data, and remove the journals of closed
  cases whose retention period has passed (see :mod:`journal.retention`).

At start-up the newest signed head must be signed by the signing key or by a key
listed in ``TOVHOLDER_JOURNAL_VERIFY_KEYS``: a wrong key stops start-up instead of
signing heads nobody can verify.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.base.appkeys import CONFIG, HTTP, SERVICES
from bot.base.config import ConfigError
from bot.base.services import Services
from bot.base.ticker import Ticker
from bot.http import journal as journal_web
from bot.http.journal import JOURNAL_CONFIG
from bot.store.schema.journal import journal_signed_heads
from journal.config import PREFIX, JournalConfig, journal_config
from journal.export import export_tick
from journal.exporters import build_exporters
from journal.signing import install_signer
from journal.sink import heads_tick

log = logging.getLogger(__name__)


def install(app: web.Application) -> None:
    # Read (and validated) once, while the app is built: bad settings stop start-up.
    config = app[JOURNAL_CONFIG] = journal_config(app[CONFIG])
    config.signer()  # no signing key: no start
    app.router.add_routes(journal_web.routes)
    app.on_startup.append(_check_key_on_startup)


async def _check_key_on_startup(app: web.Application) -> None:
    await check_signing_key(app[SERVICES].engine, app[JOURNAL_CONFIG])


async def check_signing_key(engine: AsyncEngine, config: JournalConfig) -> None:
    """Refuse a signing key the journal does not know, once heads have been signed.

    A database that cannot be read yet is skipped, as the gateways check does.

    Raises:
        ConfigError: the newest signed head is under a key neither configured to sign
            nor listed as an earlier key.
    """
    try:
        async with asyncio.timeout(10), engine.connect() as conn:
            newest = (
                await conn.execute(
                    select(journal_signed_heads.c.key_id)
                    .order_by(journal_signed_heads.c.at.desc())
                    .limit(1)
                )
            ).scalar()
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        # A database that cannot be read yet (down, not migrated) is not a configuration
        # error (/readyz reports it); verify still refuses heads under an unknown key.
        log.warning("cannot read the journal's signed heads at start (%s)", type(exc).__name__)
        return
    if newest is not None and newest not in config.known_keys():
        raise ConfigError(
            f"{PREFIX}SIGNING_KEY is not the key that signed the journal's heads (key id "
            f"{newest}): configure that key, or when rotating list its public key in "
            f"{PREFIX}VERIFY_KEYS"
        )


def start(app: web.Application, svc: Services, ticker: Ticker) -> None:
    config = app[JOURNAL_CONFIG]
    # Every signed head also goes to the heads sink, before its commit.
    install_signer(svc.engine, config.signer(), config.signed_sink())
    if config.exporters:
        exporters = build_exporters(config, session=app[HTTP], clock=svc.clock)
        ticker.every(
            "journal-export",
            config.export_interval,
            lambda: export_tick(svc, config, exporters),
        )
    if config.heads_sink is not None:
        ticker.every("journal-heads", config.heads_interval, lambda: heads_tick(svc, config))
    from journal.retention import retention_tick

    ticker.every("retention", 3600, lambda: retention_tick(svc, config))
