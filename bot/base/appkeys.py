"""Typed application keys: everything that hangs on the aiohttp app."""

from __future__ import annotations

from aiohttp import ClientSession, web

from bot.base.config import Config
from bot.base.services import Services
from bot.base.ticker import Ticker

CONFIG = web.AppKey("config", Config)
SERVICES = web.AppKey("services", Services)
HTTP = web.AppKey("http", ClientSession)
TICKER = web.AppKey("ticker", Ticker)
