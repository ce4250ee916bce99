"""Track-and-trace plugs into the app: API routes, inbound hooks and ticker jobs.

Settings (environment, read through ``Config.extra``):

- ``TOVHOLDER_REMINDER_INTERVAL``: seconds between reminder ticks (default 5);
- ``TOVHOLDER_NUDGE_SWEEP_INTERVAL``: seconds between sweeps that give new
  open cases their follow-up row (default 300).
"""

from __future__ import annotations

from aiohttp import web

from bot.base.config import number_setting
from bot.base.services import Services
from bot.base.ticker import Ticker
from bot.http import scheduler_casetypes  # noqa: F401  (registers the case-type routes)
from bot.http.scheduler import routes
from scheduler.hooks import appointment_hook, status_hook
from scheduler.runner import ensure_nudges, run_due


def install(app: web.Application) -> None:
    app.router.add_routes(routes)


def _seconds(svc: Services, name: str, default: float) -> float:
    return number_setting(
        svc.config.extra, name, default, low=0.1, high=3600, what="a number of seconds"
    )


def start(app: web.Application, svc: Services, ticker: Ticker) -> None:
    svc.inbound_hooks.append(status_hook)
    svc.inbound_hooks.append(appointment_hook)
    ticker.every(
        "reminders", _seconds(svc, "TOVHOLDER_REMINDER_INTERVAL", 5.0), lambda: run_due(svc)
    )
    ticker.every(
        "nudge_sweep",
        _seconds(svc, "TOVHOLDER_NUDGE_SWEEP_INTERVAL", 300.0),
        lambda: ensure_nudges(svc),
    )
