"""Operations endpoints: /api/openapi.json, /metrics, /readyz, and request observation."""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.base import metrics
from bot.base.appkeys import CONFIG, SERVICES, TICKER
from bot.base.errors import ApiError
from bot.base.logs import REQUEST_ID as LOG_REQUEST_ID
from bot.base.services import Services
from bot.domain.integration import webhooks
from bot.domain.keys import keys_readable
from bot.domain.notify import LISTENER
from bot.http.integration.openapi import build_document, declared
from bot.http.middleware import REQUEST_ID, Handler
from bot.store import ops as samples
from journal.config import journal_config
from journal.readiness import journal_ready

log = logging.getLogger(__name__)

METRICS_TOKEN = web.AppKey("integration_metrics_token", str)
# /metrics without a token only where the operator said so (a private network).
METRICS_PUBLIC = web.AppKey("integration_metrics_public", bool)


async def openapi_document(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of the API this app serves."""
    doc = build_document(
        request.app, declared(request.app), server=request.app[CONFIG].public_base_url
    )
    return web.json_response(doc)


async def _sample(request: web.Request) -> dict[str, tuple[str, dict[str, float]]]:
    svc = request.app[SERVICES]
    now = svc.clock.now()
    depth: dict[str, float] = {}
    lag = 0.0
    async with svc.read() as conn:
        depth["sms"] = await samples.sms_backlog(conn)
        depth["webhooks"] = await webhooks.depth(conn)
        exports = await samples.export_backlog(conn)
        depth["journal_export"] = exports.count
        if exports.oldest is not None:
            lag = max(0.0, (now - exports.oldest).total_seconds())
    return {
        "tovholder_outbox_depth": ("Work waiting in each outbox, sampled at scrape", depth),
        "tovholder_journal_export_lag_seconds": (
            "Age of the oldest journal entry not yet exported to the case system",
            {"": lag},
        ),
    }


async def metrics_view(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    token = request.app.get(METRICS_TOKEN, "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError("A metrics token is required", code="unauthorized", status=401)
    elif not request.app.get(METRICS_PUBLIC, False):
        raise ApiError(
            "Metrics need TOVHOLDER_METRICS_TOKEN (or TOVHOLDER_METRICS_PUBLIC=1 on a "
            "private network)",
            code="metrics_token_required",
            status=401,
        )
    sampled = await _sample(request)
    body = metrics.exposition(sampled)
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})


async def readyz(request: web.Request) -> web.Response:
    """Ready to serve: every check ok (503 naming the ones that are not).

    The database answers and is at the migrations' head, the data keys in use
    unwrap, the journal's signing key signs (and is the one that signed the
    newest head) and its heads sink takes lines, the scheduler ticks, and a
    gateway is configured.
    """
    config = request.app[CONFIG]
    svc = request.app.get(SERVICES)
    checks = await _store_checks(request, svc)
    ticker = request.app.get(TICKER)
    if not config.scheduler_enabled:
        checks["scheduler"] = "disabled"
    else:
        checks["scheduler"] = "ok" if ticker is not None and ticker.running else "stopped"
    gateway_ok = (
        svc is not None and getattr(svc, "gateway", None) is not None and bool(svc.gateways)
    )
    checks["gateway"] = "ok" if gateway_ok else "missing"
    listener = request.app.get(LISTENER)
    if listener is not None:
        # Reported, not required: without LISTEN the inbox falls back to polling.
        checks["live_updates"] = listener.state
    ready = (
        checks["database"] == "ok"
        and checks["schema"] == "ok"
        and checks["keys"] == "ok"
        and checks["journal"] == "ok"
        and checks["scheduler"] != "stopped"
        and gateway_ok
    )
    return web.json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status=200 if ready else 503,
    )


async def _store_checks(request: web.Request, svc: Services | None) -> dict[str, str]:
    """database, schema, keys and journal: each "ok" or what is wrong."""
    checks = dict.fromkeys(("database", "schema", "keys", "journal"), "unknown")
    try:
        if svc is None:
            raise RuntimeError("not started")
        async with asyncio.timeout(2.0), svc.read() as conn:
            await samples.ping(conn)
            checks["database"] = "ok"
            checks["schema"] = "ok" if await samples.migrated(conn) else "not_migrated"
        if checks["schema"] == "ok":
            checks["keys"] = "ok" if await _keys_readable(request, svc) else "unreadable"
            async with asyncio.timeout(2.0), svc.read() as conn:
                config = journal_config(request.app[CONFIG])
                checks["journal"] = await journal_ready(conn, config)
    except Exception as exc:  # any failure means "not ready", never a 500
        log.warning("readyz: database check failed (%s)", type(exc).__name__)
        if checks["database"] != "ok":
            checks["database"] = "unavailable"
    return checks


# The data keys' check unwraps a few keys per table: done at most once a minute
# while it passes (every time while it fails, so a fixed KEK shows at once).
_KEYS_CHECKED = web.AppKey("readyz_keys_checked", dict)
_KEYS_EVERY = timedelta(minutes=1)


async def _keys_readable(request: web.Request, svc: Services) -> bool:
    memo: dict[str, Any] = request.app[_KEYS_CHECKED]
    now = svc.clock.now()
    last = memo.get("at")
    if not memo.get("ok") or last is None or now - last >= _KEYS_EVERY:
        memo["ok"], memo["at"] = await keys_readable(svc), now
    return bool(memo["ok"])


def install_readiness(app: web.Application) -> None:
    """Give the app the memo the readiness check keeps between calls."""
    app[_KEYS_CHECKED] = {}


def _route_of(request: web.Request) -> str:
    info: Any = request.match_info
    resource = getattr(getattr(info, "route", None), "resource", None)
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Put the request id in the log context; count requests by route template."""
    LOG_REQUEST_ID.set(request.get(REQUEST_ID))
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except ApiError as exc:
        status = exc.status
        raise
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics.http_request(request.method, _route_of(request), status)
