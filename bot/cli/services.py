"""The services of a started app, for one command: no ticker, no HTTP server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from sqlalchemy import select

from bot.app import create_app
from bot.base.appkeys import SERVICES
from bot.base.config import Config
from bot.base.services import Services
from bot.store.schema.core import tenants

T = TypeVar("T")


async def with_services(config: Config, job: Callable[[Services], Awaitable[T]]) -> T:
    """Start the app's services from ``config``, run ``job`` with them, and stop them."""
    app = create_app(config.with_(scheduler_enabled=False))
    runner = web.AppRunner(app)
    try:
        # Inside: a start-up check that refuses still closes what started before it.
        await runner.setup()
        return await job(app[SERVICES])
    finally:
        await runner.cleanup()


async def tenant_by_slug(svc: Services, slug: str) -> str:
    """The id of the municipality with this slug; none: the command stops, saying so."""
    async with svc.read() as conn:
        tid = (
            await conn.execute(select(tenants.c.id).where(tenants.c.slug == slug))
        ).scalar_one_or_none()
    if tid is None:
        raise SystemExit(f"tovholder: no municipality with slug {slug!r}")
    return str(tid)
