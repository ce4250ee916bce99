"""Plugs Digital Post into the app: the letters relay on the ticker, when SF1601 is set up.

Settings (read from the environment like the rest):

- ``TOVHOLDER_DIGITALPOST_URL``: Serviceplatformen's base URL (or the local
  simulator's, which ``tovholder demo`` starts). Unset: no letters go.
- ``TOVHOLDER_DIGITALPOST_TOKEN`` (or ``_FILE``): the holder-of-key token sent
  with each call. (Fetching it from KOMBIT's STS with the municipality's
  certificate is not built yet: a deployment that needs it supplies the token.)
- ``TOVHOLDER_DIGITALPOST_INTERVAL``: seconds between relay passes (default 30).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.base.appkeys import HTTP
from bot.base.config import Config, number_setting
from bot.base.services import Services
from bot.base.ticker import Ticker
from bot.domain.letters import relay_letters
from channels.digitalpost import Sf1601Client, Sf1601Config


def _token(config: Config) -> str:
    path = config.extra.get("TOVHOLDER_DIGITALPOST_TOKEN_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return config.extra.get("TOVHOLDER_DIGITALPOST_TOKEN", "")


def install(app: web.Application) -> None:
    """Nothing to route: letters leave through the ticker."""


def start(app: web.Application, svc: Services, ticker: Ticker) -> None:
    """Relay queued letters every ``TOVHOLDER_DIGITALPOST_INTERVAL`` seconds, if configured."""
    url = svc.config.extra.get("TOVHOLDER_DIGITALPOST_URL", "").strip()
    if not url:
        return
    token = _token(svc.config)

    async def bearer() -> str:
        return token

    client = Sf1601Client(Sf1601Config(base_url=url), app[HTTP], token=bearer, now=svc.clock.now)
    interval = number_setting(
        svc.config.extra,
        "TOVHOLDER_DIGITALPOST_INTERVAL",
        30.0,
        low=1,
        high=3600,
        what="a number of seconds",
    )

    async def relay() -> None:
        await relay_letters(svc, client)

    ticker.every("letters", interval, relay)
