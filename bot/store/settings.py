"""Start-up reads of the municipalities' own settings."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.base.config import KNOWN_GATEWAYS, Config, ConfigError
from bot.store.schema.core import tenant_settings

log = logging.getLogger(__name__)


async def require_tenant_gateways(config: Config, engine: AsyncEngine) -> None:
    """Refuse to start when a municipality's own gateway order names one not configured here.

    A database that cannot be read yet (down, or not migrated) is not a
    configuration error: ``/readyz`` reports it, and the check is skipped.
    """
    try:
        async with asyncio.timeout(10), engine.connect() as conn:
            rows = await conn.execute(
                select(tenant_settings.c.gateways).where(tenant_settings.c.gateways.is_not(None))
            )
            names = {g.strip() for (raw,) in rows for g in raw.split(",") if g.strip()}
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("cannot read the municipalities' gateways at start (%s)", type(exc).__name__)
        return
    unknown = sorted(names - set(KNOWN_GATEWAYS))
    if unknown:
        raise ConfigError(f"a municipality's gateways name unknown gateways: {', '.join(unknown)}")
    config.require_gateways(sorted(names))
