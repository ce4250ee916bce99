"""Hastebesked: a caseworker's message marked urgent is exempt from quiet hours.

Only staff can mark a message urgent, and only with a reason; the reason is
journalised on the case (sealed under the case's key) together with who did
it. Reminders and nudges are never urgent: they are written by the scheduler,
which has no way to mark one. The relay asks ``urgent_ids`` before it holds a
proactive SMS for quiet hours.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey
from bot.base.errors import ApiError
from bot.store.schema.scheduler import urgent_sends
from journal.journal import append

__all__ = ["REASON_MAX", "BadUrgentReason", "check_reason", "mark_urgent", "urgent_ids"]

REASON_MAX = 500


class BadUrgentReason(ApiError):
    status = 400
    code = "urgent_reason_required"


def check_reason(reason: object) -> str:
    """The reason, trimmed; 400 ``urgent_reason_required`` when there is none worth the name."""
    if not isinstance(reason, str) or not reason.strip():
        raise BadUrgentReason("An urgent message needs a reason")
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise BadUrgentReason(f"The reason may be at most {REASON_MAX} characters")
    return reason


async def mark_urgent(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    case_id: str | None,
    message_id: str,
    staff_id: str,
    reason: str,
    key: SealingKey,
    at: datetime,
) -> None:
    """Mark a queued message urgent and journalise why, in the caller's transaction."""
    await conn.execute(
        urgent_sends.insert().values(
            message_id=message_id, tenant_id=tenant_id, staff_id=staff_id, created_at=at
        )
    )
    await append(
        conn,
        tenant_id=tenant_id,
        case_id=case_id,
        kind="urgent_send",
        direction="internal",
        channel="system",
        subject="Besked markeret som hastende: sendes også i stilletiden",
        actor=f"staff:{staff_id}",
        at=at,
        content=reason,
        key=key,
        message_id=message_id,
    )


async def urgent_ids(conn: AsyncConnection, message_ids: Collection[str]) -> set[str]:
    """Which of these messages a caseworker marked urgent."""
    if not message_ids:
        return set()
    rows = await conn.execute(
        select(urgent_sends.c.message_id).where(urgent_sends.c.message_id.in_(list(message_ids)))
    )
    return {str(m) for m in rows.scalars()}
