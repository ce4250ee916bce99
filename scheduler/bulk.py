"""Many outbound SMS at once, inside the caller's transaction.

``queue_many`` does for a batch of SMS what ``bot.domain.outbound.queue_sms`` does for
one (a message row, an outbox row and a journal entry each), with one
multi-row insert per table instead of several round trips per message. That is
what lets the reminder runner put 100,000 due reminders in the outbox in
seconds rather than minutes.

The journal entries are filed by :func:`journal.journal.append_many`, the one
place that hashes entries and moves chain heads: each chain's head is locked
once, all of them before any entry is filed and in chain order (so two batches
never wait on each other in a circle), and moved once, to its last new entry
(on PostgreSQL a trigger checks that every entry it passes links up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey
from bot.domain.outbound import OutboundSms, outbound_sms
from journal.journal import append_many

__all__ = ["Sms", "queue_many"]


@dataclass(frozen=True, slots=True)
class Sms:
    """One SMS to queue (the arguments of ``bot.domain.outbound.queue_sms``)."""

    tenant_id: str
    conversation_id: str
    case_id: str | None
    person_id: str
    kind: str
    body: str
    key: SealingKey
    at: datetime
    subject: str
    author_id: str | None = None
    message_id: str | None = None
    # The person's language when the text came from the catalogue (see queue_sms).
    language: str | None = None


async def queue_many(conn: AsyncConnection, items: Sequence[Sms]) -> list[str]:
    """Put SMS in the outbox and journalise them, inside the caller's transaction.

    The rows are those ``queue_sms`` writes, so the relay, the delivery
    reports and the journal cannot tell the difference.

    Returns:
        The new messages' ids (the relay's idempotency references), in order.
    """
    if not items:
        return []
    # The rows and the entry of each are outbound_sms's: one place makes them.
    built = [
        outbound_sms(
            tenant_id=sms.tenant_id,
            conversation_id=sms.conversation_id,
            case_id=sms.case_id,
            person_id=sms.person_id,
            kind=sms.kind,
            body=sms.body,
            key=sms.key,
            at=sms.at,
            author_id=sms.author_id,
            subject=sms.subject,
            language=sms.language,
            message_id=sms.message_id,
        )
        for sms in items
    ]
    ids = [b.message_id for b in built]
    entries = [b.entry for b in built]
    # The heads first, in chain order (the runner's batch comes in case order); then
    # messages, outbox rows, entries and their export intake in one statement on
    # PostgreSQL, the statement's row counts travelling as arrays.
    await append_many(
        conn,
        entries,
        rows_first=OutboundSms.rows(built),
        arrays=True,
        lock_first=True,
    )
    return ids
