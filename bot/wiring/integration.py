"""Plugs the integration module into the app (listed in ``bot.app.FEATURES``)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.base.appkeys import CONFIG, HTTP
from bot.base.config import Config, ConfigError
from bot.base.services import Services
from bot.base.ticker import Ticker
from bot.domain.integration import idempotency, webhooks
from bot.http.auth import OPERATOR_TOKEN
from bot.http.integration import tenants_api  # noqa: F401  (registers the operator routes)
from bot.http.integration.api import api
from bot.http.integration.ops import (
    METRICS_PUBLIC,
    METRICS_TOKEN,
    install_readiness,
    metrics_view,
    observe,
    openapi_document,
    readyz,
)

log = logging.getLogger(__name__)


def _setting(config: Config, name: str, default: float) -> float:
    raw = config.extra.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        log.warning("%s is not a number; using %s", name, default)
        return default


def _metrics_token(config: Config) -> str:
    path = config.extra.get("TOVHOLDER_METRICS_TOKEN_FILE")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    return config.extra.get("TOVHOLDER_METRICS_TOKEN", "")


def _operator_token(config: Config) -> str:
    """TOVHOLDER_OPERATOR_TOKEN(_FILE): "" turns the operator routes off; short is refused."""
    path = config.extra.get("TOVHOLDER_OPERATOR_TOKEN_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                token = fh.read().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read TOVHOLDER_OPERATOR_TOKEN_FILE: {exc.strerror}") from exc
    else:
        token = config.extra.get("TOVHOLDER_OPERATOR_TOKEN", "").strip()
    if token and len(token) < 32:
        raise ConfigError(
            "TOVHOLDER_OPERATOR_TOKEN must be at least 32 characters (e.g. openssl rand -hex 32)"
        )
    return token


def install(app: web.Application) -> None:
    app.router.add_routes(api.routes)
    app.router.add_get("/api/openapi.json", openapi_document)
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/readyz", readyz)
    install_readiness(app)
    app[METRICS_TOKEN] = _metrics_token(app[CONFIG])
    app[OPERATOR_TOKEN] = _operator_token(app[CONFIG])
    app[METRICS_PUBLIC] = app[CONFIG].extra.get("TOVHOLDER_METRICS_PUBLIC", "") in ("1", "true")
    app.middlewares.append(observe)


def start(app: web.Application, svc: Services, ticker: Ticker) -> None:
    session = app[HTTP]
    interval = _setting(svc.config, "TOVHOLDER_WEBHOOK_INTERVAL", 2.0)
    ticker.every("webhooks", interval, lambda: webhooks.relay_once(svc, session))
    ticker.every("idempotency-purge", 3600.0, lambda: idempotency.purge(svc))
