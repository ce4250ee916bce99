"""What the gate changed about a message on its way out, said in its case's journal.

A message held back is settled by :func:`bot.domain.outbox.settle.withhold`; one
that waits for the end of stilletid, or that goes as a notice with a link
instead of its content, is still sent, and says here why it went so.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.clock import COPENHAGEN
from bot.base.services import Services
from bot.store.schema.core import messages
from journal.journal import append

DELAYED = "SMS venter på, at stilletiden slutter"
AS_NOTICE = "SMS erstattet af en besked med link"
SENSITIVE = "indholdet er følsomt"
UNREAD = "beskeden er ikke læst i den sikre indbakke"


def too_long(segments: int, limit: int) -> str:
    """Why a text went as a notice: it is over the municipality's segment limit."""
    return f"teksten fylder {segments} SMS'er, og kommunen tillader højst {limit}"


async def note(conn: AsyncConnection, message_id: str, subject: str, at: datetime) -> None:
    """Journalise ``subject`` on the message's case, inside the caller's transaction."""
    msg = (
        await conn.execute(
            select(messages.c.tenant_id, messages.c.case_id).where(messages.c.id == message_id)
        )
    ).one()
    await append(
        conn,
        tenant_id=msg.tenant_id,
        case_id=msg.case_id,
        kind="sms_changed",
        direction="internal",
        channel="sms",
        subject=subject,
        actor="system",
        at=at,
        message_id=message_id,
    )


async def note_delays(svc: Services, held: list[tuple[str, datetime]]) -> None:
    """Journalise each message held for stilletid with when it may go: one transaction each,
    so that no two journal heads are held at once."""
    for message_id, when in held:
        local = when.astimezone(COPENHAGEN)
        subject = f"{DELAYED}; sendes tidligst {local:%d.%m.%Y} kl. {local:%H:%M}"
        async with svc.write() as conn:
            await note(conn, message_id, subject, svc.clock.now())
