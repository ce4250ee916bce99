"""Queueing outbound SMS: a message row, an outbox row and a journal entry, atomically."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.crypto import seal
from bot.db.schema import messages, outbox
from bot.ids import new_id
from journal.journal import SealingKey, append

SUBJECTS = {
    "receipt": "Automatisk kvittering sendt",
    "fallback": "Besked sendt som e-mail-besked, fordi SMS ikke kunne leveres",
    "auto": "Automatisk svar sendt",
    "clarify": "Spørgsmål om hvilken sag beskeden gælder",
    "reply": "SMS til borger",
}


async def queue_sms(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    conversation_id: str,
    case_id: str | None,
    person_id: str,
    kind: str,
    body: str,
    key: SealingKey,
    at: datetime,
    author_id: str | None = None,
    not_before: datetime | None = None,
    subject: str | None = None,
    sensitive: bool = False,
    via: str | None = None,
) -> str:
    """Put one SMS in the outbox and journalise it, inside the caller's transaction.

    Args:
        key: the data key of the case (or, for the unassigned queue, of the person).
        kind: receipt | clarify | reply | auto | reminder | update | …
        not_before: hold the SMS until then (send later, quiet hours).
        sensitive: never send the content by SMS; the SMS carries a notice and a link.
        via: "email" sends an e-mail notice with a link instead of an SMS.
        subject: the journal entry's subject line (a default per kind otherwise).

    Returns:
        The new message's id, which is also the idempotency reference the relay
        hands to the gateway.
    """
    message_id = new_id()
    await conn.execute(
        messages.insert().values(
            id=message_id,
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            case_id=case_id,
            person_id=person_id,
            direction="out",
            kind=kind,
            key_scope=key.scope,
            body_enc=seal(key.dek, body, f"messages:{message_id}:body"),
            status="queued",
            segments=1,
            sensitive=sensitive,
            via=via,
            awaiting_reply=False,
            author_id=author_id,
            created_at=at,
        )
    )
    await conn.execute(
        outbox.insert().values(
            id=new_id(),
            tenant_id=tenant_id,
            message_id=message_id,
            state="pending",
            attempts=0,
            next_attempt_at=max(at, not_before) if not_before else at,
            created_at=at,
        )
    )
    await append(
        conn,
        tenant_id=tenant_id,
        case_id=case_id,
        kind=f"sms_out_{kind}",
        direction="out",
        channel="sms",
        subject=subject or SUBJECTS.get(kind, "SMS sendt"),
        actor=f"staff:{author_id}" if author_id else "system",
        at=at,
        content=body,
        key=key,
        message_id=message_id,
    )
    return message_id


async def withdraw_sms(
    conn: AsyncConnection, *, message_id: str, at: datetime, reason: str
) -> bool:
    """Withdraw a queued SMS that has not been handed to the gateway yet.

    Returns:
        True when it was withdrawn; False when it is already on its way (or gone).
    """
    from sqlalchemy import select, update

    done = await conn.execute(
        update(outbox)
        .where(outbox.c.message_id == message_id, outbox.c.state == "pending")
        .values(state="withdrawn", last_error=None)
    )
    if done.rowcount != 1:
        return False
    await conn.execute(
        update(messages).where(messages.c.id == message_id).values(status="withdrawn")
    )
    msg = (
        await conn.execute(
            select(messages.c.tenant_id, messages.c.case_id).where(messages.c.id == message_id)
        )
    ).one()
    await append(
        conn,
        tenant_id=msg.tenant_id,
        case_id=msg.case_id,
        kind="sms_withdrawn",
        direction="internal",
        channel="sms",
        subject=f"Planlagt SMS trukket tilbage: {reason}",
        actor="system",
        at=at,
        message_id=message_id,
    )
    return True


async def ensure_conversation(
    conn: AsyncConnection, *, tenant_id: str, case_id: str | None, person_id: str, at: datetime
) -> str:
    """The thread for this case and person (or their unassigned thread), made if missing.

    Insert-or-nothing against the unique constraints, then read: two first SMS
    arriving together end up in one thread instead of two.
    """
    from sqlalchemy import select, update
    from sqlalchemy.dialects import postgresql, sqlite

    from bot.db.schema import conversations
    from bot.ids import new_id

    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(
        dialect_insert(conversations)
        .values(
            id=new_id(),
            tenant_id=tenant_id,
            case_id=case_id,
            person_id=person_id,
            last_activity_at=at,
            created_at=at,
        )
        .on_conflict_do_nothing()
    )
    same_case = (
        conversations.c.case_id.is_(None) if case_id is None else conversations.c.case_id == case_id
    )
    conv_id: str = (
        await conn.execute(
            select(conversations.c.id).where(
                same_case,
                conversations.c.person_id == person_id,
                conversations.c.tenant_id == tenant_id,
            )
        )
    ).scalar_one()
    await conn.execute(
        update(conversations).where(conversations.c.id == conv_id).values(last_activity_at=at)
    )
    return conv_id
