"""Fixtures for track-and-trace: the running stack, and small helpers to move time and tick."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.base.clock import COPENHAGEN
from bot.store.schema.core import journal_entries, messages
from scheduler.runner import FireStats, run_due
from tests.harness import Stack, start_stack

# Friday 21 February 2025, 10:00 in Copenhagen.
FRIDAY_MORNING = datetime(2025, 2, 21, 10, 0, tzinfo=COPENHAGEN)


def cph(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware Copenhagen wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=COPENHAGEN)


@pytest.fixture
async def stack(
    aiohttp_client: Any, aiohttp_server: Any, db_url: str, keys: dict[str, bytes]
) -> AsyncIterator[Stack]:
    s = await start_stack(aiohttp_client, aiohttp_server, db_url, keys, start=FRIDAY_MORNING)
    try:
        yield s
    finally:
        await s.session.close()


async def tick(stack: Stack) -> FireStats:
    """One reminder tick, then hand whatever it queued to the gateway simulator."""
    stats = await run_due(stack.svc)
    await stack.drain()
    return stats


async def at(stack: Stack, when: datetime) -> FireStats:
    """Move the clock to ``when`` and tick."""
    stack.clock.set(when)
    return await tick(stack)


async def journal_subjects(stack: Stack, case_id: str) -> list[str]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(journal_entries.c.subject)
            .where(journal_entries.c.case_id == case_id)
            .order_by(journal_entries.c.seq)
        )
        return [str(s) for s in rows.scalars()]


async def count(stack: Stack, table: Any, *where: Any) -> int:
    async with stack.svc.read() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def out_kinds(stack: Stack) -> list[str]:
    async with stack.svc.read() as conn:
        rows = await conn.execute(
            select(messages.c.kind)
            .where(messages.c.direction == "out")
            .order_by(messages.c.created_at)
        )
        return [str(k) for k in rows.scalars()]
