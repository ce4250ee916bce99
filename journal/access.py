"""Adgangslog: every read of a message by a staff user is recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.ids import new_id
from bot.store.schema.core import access_log


async def record_reads(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    staff_id: str,
    case_id: str | None,
    message_ids: Sequence[str],
    purpose: str,
    at: datetime,
) -> None:
    """One access-log row per message read, in the caller's transaction."""
    if not message_ids:
        return
    await conn.execute(
        access_log.insert(),
        [
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "staff_id": staff_id,
                "action": "read",
                "case_id": case_id,
                "message_id": mid,
                "purpose": purpose,
                "at": at,
            }
            for mid in message_ids
        ],
    )
