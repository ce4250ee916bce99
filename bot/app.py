"""The app factory: one place that wires config, database, clock, keys, gateway and ticks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web

from bot.base.appkeys import CONFIG, HTTP, SERVICES, TICKER
from bot.base.clock import Clock, SystemClock
from bot.base.config import Config, is_sqlite, number_setting
from bot.base.crypto import BlindIndex, KeyRing
from bot.base.services import Services
from bot.base.ticker import Ticker
from bot.base.workdays import WorkingCalendar
from bot.domain.escalation import escalate_due
from bot.domain.guarantee import guarantee_tick
from bot.domain.handover import hand_over_tick
from bot.domain.inbound_batch import inbound_batcher
from bot.domain.mms import JOB as MMS_JOB
from bot.domain.mms import fetch_due as fetch_mms_media
from bot.domain.notify import LISTENER, Listener
from bot.domain.outbox import relay_once
from bot.domain.staffing import absence_notices_tick
from bot.http import api, staffing_api, webhooks
from bot.http.middleware import BODY_DEADLINE, DEFAULT_BODY_DEADLINE, body_deadline, errors
from bot.store.engine import make_engine
from bot.store.limits import PgLimitBook
from bot.store.settings import require_tenant_gateways
from bot.wiring import integration as integration_feature
from bot.wiring import journal as journal_feature
from bot.wiring import letters as letters_feature
from bot.wiring import pages as pages_feature
from bot.wiring import scheduler as scheduler_feature
from channels.base import SmsGateway
from channels.email import EmailNotices
from channels.failover import FailoverGateway
from channels.gatewayapi import GatewayApiGateway
from channels.twilio import TwilioGateway

log = logging.getLogger(__name__)

# The features that plug in routes and ticker jobs, in this order: each module has
# ``install(app)`` (routes, middlewares, app keys) and ``start(app, svc, ticker)``
# (inbound hooks and ticker jobs, once the services exist).
FEATURES = (
    journal_feature,
    scheduler_feature,
    integration_feature,
    pages_feature,
    letters_feature,
)

GatewayFactory = Callable[[Config, aiohttp.ClientSession], dict[str, SmsGateway]]


def build_gateways(config: Config, session: aiohttp.ClientSession) -> dict[str, SmsGateway]:
    """Every configured gateway adapter, by name, in sending order."""
    gateways: dict[str, SmsGateway] = {}
    twilio = config.twilio
    for name in config.gateways:
        if name == "twilio" and twilio is not None:
            gateways[name] = TwilioGateway(
                account_sid=twilio.account_sid,
                auth_token=twilio.auth_token,
                base_url=twilio.base_url,
                session=session,
                timeout=twilio.timeout,
            )
        elif name == "gatewayapi" and config.gatewayapi is not None:
            gateways[name] = GatewayApiGateway(
                token=config.gatewayapi.token,
                webhook_secret=config.gatewayapi.webhook_secret,
                base_url=config.gatewayapi.base_url,
                session=session,
                timeout=config.gatewayapi.timeout,
            )
    if "twilio" not in gateways and twilio is not None:
        # Twilio's webhooks stay verifiable even when it only receives.
        gateways["twilio"] = TwilioGateway(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            base_url=twilio.base_url,
            session=session,
            timeout=twilio.timeout,
        )
    return gateways


def status_callback_for(config: Config) -> Callable[[str, str], str | None]:
    def callback(gateway: str, reference: str) -> str:
        if gateway == "gatewayapi":
            return f"{config.public_base_url}/webhooks/gatewayapi/status"
        return f"{config.public_base_url}/webhooks/twilio/status?ref={reference}"

    return callback


def create_app(
    config: Config,
    *,
    clock: Clock | None = None,
    gateway_factory: GatewayFactory = build_gateways,
    engine_options: dict[str, Any] | None = None,
) -> web.Application:
    """Build the Tovholder web application.

    Args:
        config: validated configuration.
        clock: the clock domain code reads; tests pass one they can move.
        gateway_factory: builds the SMS gateways from config and the HTTP session.
        engine_options: extra SQLAlchemy engine options (tests shrink the pool).
    """
    app = web.Application(
        middlewares=[errors, body_deadline], client_max_size=config.max_request_bytes
    )
    app[CONFIG] = config
    app[BODY_DEADLINE] = number_setting(
        config.extra,
        "TOVHOLDER_BODY_DEADLINE",
        DEFAULT_BODY_DEADLINE,
        low=0.1,
        high=300,
        what="a number of seconds",
    )

    async def resources(app: web.Application) -> AsyncIterator[None]:
        engine = make_engine(config.database_url, **(engine_options or {}))
        try:
            await require_tenant_gateways(config, engine)
        except BaseException:
            await engine.dispose()
            raise
        session = aiohttp.ClientSession()
        ticker = Ticker()
        gateways = gateway_factory(config, session)
        sender = FailoverGateway(
            [gateways[name] for name in config.gateways if name in gateways],
            callback_for=status_callback_for(config),
            rates=dict(config.gateway_rates),
            # Several workers share one PostgreSQL: they share the limits too (docs/deploy.md).
            book=None if is_sqlite(config.database_url) else PgLimitBook(engine),
        )
        svc = Services(
            config=config,
            engine=engine,
            clock=clock or SystemClock(),
            keyring=KeyRing(config.keks),
            blind_index=BlindIndex(config.index_key),
            calendar=WorkingCalendar(),
            gateway=sender,
            gateways=gateways,
            email=EmailNotices(config.smtp) if config.smtp else None,
            wake_relay=lambda: ticker.poke("outbox"),
        )
        svc.batcher = inbound_batcher(svc)
        app[SERVICES] = svc
        app[HTTP] = session
        app[TICKER] = ticker
        ticker.every("outbox", config.outbox_interval, lambda: relay_once(svc))
        ticker.every("escalation", 15, lambda: escalate_due(svc))
        ticker.every("guarantee", 60, lambda: guarantee_tick(svc))
        ticker.every("absence_notices", 300, lambda: absence_notices_tick(svc))
        ticker.every("absence_handover", 300, lambda: hand_over_tick(svc))
        ticker.every(MMS_JOB, 30, lambda: fetch_mms_media(svc))
        for feature in FEATURES:
            feature.start(app, svc, ticker)
        if config.scheduler_enabled:
            ticker.start()
        listener = app[LISTENER] = Listener.for_url(
            config.listen_database_url or config.database_url
        )
        await listener.start()
        try:
            yield
        finally:
            if svc.batcher is not None:
                await svc.batcher.aclose()
            await listener.aclose()
            await ticker.aclose()
            await session.close()
            await engine.dispose()

    app.cleanup_ctx.append(resources)
    app.router.add_routes(webhooks.routes)
    app.router.add_routes(api.routes)
    app.router.add_routes(staffing_api.routes)
    app.router.add_get("/healthz", _healthz)
    for feature in FEATURES:
        feature.install(app)
    return app


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
