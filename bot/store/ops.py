"""What the operations endpoints sample: queue depths, export lag, a database ping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.engine import at_head
from bot.store.schema.core import outbox
from bot.store.schema.journal import journal_exports


@dataclass(frozen=True, slots=True)
class Backlog:
    """Work waiting: how many rows, and when the oldest was made (None: nothing waits)."""

    count: int
    oldest: datetime | None


async def ping(conn: AsyncConnection) -> None:
    """One round trip: the database answers."""
    await conn.execute(text("SELECT 1"))


async def migrated(conn: AsyncConnection) -> bool:
    """The schema is at the migrations' head (``tovholder db upgrade`` has nothing to do)."""
    return await at_head(conn)


async def sms_backlog(conn: AsyncConnection) -> int:
    """SMS waiting in the outbox (pending or being sent)."""
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.state.in_(["pending", "sending"]))
            )
        ).scalar_one()
    )


async def export_backlog(conn: AsyncConnection) -> Backlog:
    """Journal entries not yet exported to the case system."""
    pending = journal_exports.c.state.in_(["pending", "sending"])
    row = (
        await conn.execute(
            select(func.count(), func.min(journal_exports.c.created_at)).where(pending)
        )
    ).one()
    return Backlog(int(row[0]), row[1])
