"""Feature modules plug into the app here, so the app factory stays one place.

Each module in EXTENSIONS may define:

- ``install(app: web.Application) -> None``: add routes, middlewares, app keys
  (called once, while the app is being built);
- ``start(app: web.Application, svc: Services, ticker: Ticker) -> None``: add
  inbound hooks and ticker jobs once the services exist (called at start-up,
  before the ticker starts).
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from aiohttp import web

from bot.services import Services
from scheduler.ticker import Ticker

log = logging.getLogger(__name__)

EXTENSIONS = (
    "journal.extension",
    "scheduler.extension",
    "bot.integration.extension",
    "bot.web.pages.extension",
)


def load() -> list[ModuleType]:
    """The feature modules present in this build."""
    modules = []
    for name in EXTENSIONS:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # a real missing dependency inside the module
            log.debug("extension %s not present", name)
    return modules


def install(app: web.Application, modules: list[ModuleType]) -> None:
    for module in modules:
        hook = getattr(module, "install", None)
        if hook is not None:
            hook(app)


def start(app: web.Application, svc: Services, ticker: Ticker, modules: list[ModuleType]) -> None:
    for module in modules:
        hook = getattr(module, "start", None)
        if hook is not None:
            hook(app, svc, ticker)
