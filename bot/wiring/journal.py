"""Plugs the journal into the app (listed in ``bot.app.FEATURES``): routes and ticker jobs.

``install`` adds the journal's API routes. ``start`` reads the journal
configuration (refusing to start when it is incoherent) and schedules

- ``journal-export`` every ``TOVHOLDER_JOURNAL_EXPORT_INTERVAL`` s (when an
  exporter is enabled): relay entries to the case system;
- ``journal-heads`` every ``TOVHOLDER_JOURNAL_HEADS_INTERVAL`` s (when a heads
  sink is configured): anchor chain heads outside the database;
- ``retention`` hourly: purge transient data, and remove the journals of closed
  cases whose retention period has passed (see :mod:`journal.retention`).
"""

from __future__ import annotations

from aiohttp import web

from bot.base.appkeys import CONFIG, HTTP
from bot.base.services import Services
from bot.base.ticker import Ticker
from bot.http import journal as journal_web
from bot.http.journal import JOURNAL_CONFIG
from journal.config import journal_config
from journal.export import export_tick
from journal.exporters import build_exporters
from journal.sink import heads_tick


def install(app: web.Application) -> None:
    # Read (and validated) once, while the app is built: bad settings stop start-up.
    app[JOURNAL_CONFIG] = journal_config(app[CONFIG])
    app.router.add_routes(journal_web.routes)


def start(app: web.Application, svc: Services, ticker: Ticker) -> None:
    config = app[JOURNAL_CONFIG]
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
