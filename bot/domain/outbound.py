"""Queueing outbound SMS: a message row, an outbox row and a journal entry, atomically."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    String,
    Table,
    TextualSelect,
    bindparam,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey, seal
from bot.base.ids import new_id
from bot.domain import texts
from bot.domain.guard import AUTHORED_KINDS, refuse_decision
from bot.store.engine import frozen_for_postgresql
from bot.store.schema.core import UTCDateTime, conversations, messages, outbox
from journal.journal import NewEntry, append, append_many, held_head_columns, hold_head

SUBJECTS = {
    "receipt": "Automatisk kvittering til borger",
    "fallback": "Besked til borger som e-mail, fordi SMS ikke kunne leveres",
    "auto": "Automatisk svar til borger",
    "clarify": "Spørgsmål om hvilken sag beskeden gælder",
    "reply": "SMS til borger",
}


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """One SMS ready to queue: its message row, its outbox row and its journal entry."""

    message_id: str
    message: dict[str, Any]
    outbox: dict[str, Any]
    entry: NewEntry

    @staticmethod
    def rows(sms: list[OutboundSms]) -> list[tuple[Table, list[dict[str, Any]]]]:
        """The rows to insert for these SMS, messages before the outbox rows naming them."""
        return [(messages, [s.message for s in sms]), (outbox, [s.outbox for s in sms])]


def outbound_sms(
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
    language: str | None = None,
    message_id: str | None = None,
) -> OutboundSms:
    """What :func:`queue_sms` writes, sealed and ready; nothing is written yet.

    For a caller that files the SMS together with other rows and entries (see
    :func:`journal.journal.append_many`). The arguments are :func:`queue_sms`'s;
    ``message_id`` names the new message when the caller needs it in advance.
    This is the one place an outbound SMS's journal entry is made.

    Raises:
        DecisionNotAllowed: a text a person wrote (``kind`` in
            :data:`bot.domain.guard.AUTHORED_KINDS`) reads as an afgørelse, which
            goes by Digital Post, never by SMS or the secure inbox.
    """
    if kind in AUTHORED_KINDS:
        refuse_decision(body)
    message_id = message_id or new_id()
    subject = subject or SUBJECTS.get(kind, "SMS til borger")
    # A text we could not write in the person's language says so in the journal.
    if (note := texts.fallback_note(language)) is not None:
        subject = f"{subject}; {note}"
    return OutboundSms(
        message_id=message_id,
        message={
            "id": message_id,
            "tenant_id": tenant_id,
            "conversation_id": conversation_id,
            "case_id": case_id,
            "person_id": person_id,
            "direction": "out",
            "kind": kind,
            "key_scope": key.scope,
            "body_enc": seal(key.dek, body, f"messages:{message_id}:body"),
            "status": "queued",
            "segments": 1,
            "sensitive": sensitive,
            "via": via,
            "awaiting_reply": False,
            "author_id": author_id,
            "created_at": at,
        },
        outbox={
            "id": new_id(),
            "tenant_id": tenant_id,
            "message_id": message_id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": max(at, not_before) if not_before else at,
            "created_at": at,
        },
        entry=NewEntry(
            tenant_id=tenant_id,
            case_id=case_id,
            kind=f"sms_out_{kind}",
            direction="out",
            channel="sms",
            subject=subject,
            actor=f"staff:{author_id}" if author_id else "system",
            at=at,
            content=body,
            key=key,
            message_id=message_id,
        ),
    )


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
    language: str | None = None,
) -> str:
    """Put one SMS in the outbox and journalise it, inside the caller's transaction.

    Args:
        key: the data key of the case (or, for the unassigned queue, of the person).
        kind: receipt | clarify | reply | auto | reminder | update | …
        not_before: hold the SMS until then (send later, quiet hours).
        sensitive: never send the content by SMS; the SMS carries a notice and a link.
        via: "email" sends an e-mail notice with a link instead of an SMS.
        subject: the journal entry's subject line (a default per kind otherwise).
        language: the person's language, when the text came from the catalogue
            (``bot.domain.texts``): a language it does not have is journalised.

    Returns:
        The new message's id, which is also the idempotency reference the relay
        hands to the gateway.
    """
    sms = outbound_sms(
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        case_id=case_id,
        person_id=person_id,
        kind=kind,
        body=body,
        key=key,
        at=at,
        author_id=author_id,
        not_before=not_before,
        subject=subject,
        sensitive=sensitive,
        via=via,
        language=language,
    )
    await append_many(conn, [sms.entry], rows_first=OutboundSms.rows([sms]))
    return sms.message_id


async def withdraw_sms(
    conn: AsyncConnection, *, message_id: str, at: datetime, reason: str
) -> bool:
    """Withdraw a queued SMS that has not been handed to the gateway yet.

    Returns:
        True when it was withdrawn; False when it is already on its way (or gone).
    """
    from sqlalchemy import update

    done = await conn.execute(
        update(outbox)
        .where(outbox.c.message_id == message_id, outbox.c.state == "pending")
        .values(state="withdrawn", last_error=None)
    )
    if done.rowcount != 1:
        return False
    await settle_message(
        conn,
        message_id,
        status="withdrawn",
        kind="sms_withdrawn",
        subject=f"Planlagt SMS trukket tilbage: {reason}",
        at=at,
    )
    return True


async def settle_message(
    conn: AsyncConnection,
    message_id: str,
    *,
    status: str,
    kind: str,
    subject: str,
    at: datetime,
    channel: str = "sms",
) -> Any:
    """Give an outbound SMS its final ``status`` and journalise why on its case.

    For every way an SMS ends without reaching a phone (withdrawn, withheld,
    failed at the gateway): one place that says so in the record.

    Returns:
        The message's ``tenant_id`` and ``case_id``.
    """
    from sqlalchemy import select, update

    await conn.execute(update(messages).where(messages.c.id == message_id).values(status=status))
    msg = (
        await conn.execute(
            select(messages.c.tenant_id, messages.c.case_id).where(messages.c.id == message_id)
        )
    ).one()
    await append(
        conn,
        tenant_id=msg.tenant_id,
        case_id=msg.case_id,
        kind=kind,
        direction="internal",
        channel=channel,
        subject=subject,
        actor="system",
        at=at,
        message_id=message_id,
    )
    return msg


# PostgreSQL: touch the thread only if no one changed it since this statement's snapshot
# was taken; else nothing is returned (the row is locked all the same). Having waited for
# a concurrent SMS on the thread, the snapshot would miss that SMS, the open message this
# one must not be receipted again for: the statement is run again, with a fresh snapshot.
THREAD_UNCHANGED = (
    "conversations.xmin = (SELECT c.xmin FROM conversations c WHERE c.id = conversations.id)"
)
# The reply-by of a message in the thread being touched that still waits for an answer
# (the earliest): for the RETURNING of an upsert into conversations, which correlates
# nothing by itself, so the thread's row is named in SQL.
OPEN_REPLY_BY = (
    select(messages.c.reply_by)
    .where(
        messages.c.conversation_id == literal_column("conversations.id"),
        messages.c.awaiting_reply.is_(True),
    )
    .order_by(messages.c.reply_by)
    .limit(literal_column("1"))
    .scalar_subquery()
    .label("open_reply_by")
)
_CASE = ["case_id", "person_id"]
_UNASSIGNED = ["tenant_id", "person_id"]  # where case_id IS NULL


def _thread_statement(keys: list[str], *, lock_head: bool) -> TextualSelect:
    """PostgreSQL: insert-or-touch the thread (guarded), returning its id and open reply-by.

    With ``lock_head``, also lock (or make) a journal chain's head, after the
    thread's row: the order in which the first append would have locked them.
    """
    thread = pg_insert(conversations).values(
        id=bindparam("id"),
        tenant_id=bindparam("tenant_id"),
        case_id=bindparam("case_id"),
        person_id=bindparam("person_id"),
        last_activity_at=bindparam("at", type_=UTCDateTime()),
        created_at=bindparam("at", type_=UTCDateTime()),
    )
    touched = (
        thread.on_conflict_do_update(
            index_elements=keys,
            index_where=conversations.c.case_id.is_(None) if keys == _UNASSIGNED else None,
            set_={"last_activity_at": thread.excluded.last_activity_at},
            where=text(THREAD_UNCHANGED),
        )
        .returning(conversations.c.id, OPEN_REPLY_BY)
        .cte("touched")
    )
    heads = (
        held_head_columns(
            touched, bindparam("head_chain", type_=String()), bindparam("tenant_id", type_=String())
        )
        if lock_head
        else ()
    )
    return frozen_for_postgresql(select(touched.c.id, touched.c.open_reply_by, *heads))


def _sqlite_thread_statement(conflict: str) -> TextualSelect:
    # SQLite has one writer at a time: no snapshot to go stale, and no guard.
    return (
        text(
            "INSERT INTO conversations "
            "(id, tenant_id, case_id, person_id, last_activity_at, created_at) "
            "VALUES (:id, :tenant_id, :case_id, :person_id, :at, :at) "
            f"ON CONFLICT {conflict} DO UPDATE SET last_activity_at = excluded.last_activity_at "
            "RETURNING id, (SELECT m.reply_by FROM messages m "
            "WHERE m.conversation_id = conversations.id AND m.awaiting_reply = :waiting "
            "ORDER BY m.reply_by LIMIT 1) AS open_reply_by"
        )
        .bindparams(
            bindparam("at", type_=UTCDateTime()),
            bindparam("waiting", True, type_=Boolean()),
        )
        .columns(id=String(), open_reply_by=UTCDateTime())
    )


# By (case thread?, lock a head?): built once, so SQLAlchemy compiles them once.
_THREADS_PG = {
    (case, lock): _thread_statement(_CASE if case else _UNASSIGNED, lock_head=lock)
    for case in (True, False)
    for lock in (True, False)
}
_THREADS_SQLITE = {
    True: _sqlite_thread_statement("(case_id, person_id)"),
    False: _sqlite_thread_statement("(tenant_id, person_id) WHERE case_id IS NULL"),
}


async def open_conversation(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    case_id: str | None,
    person_id: str,
    at: datetime,
    lock_chain: str | None = None,
) -> tuple[str, datetime | None]:
    """The thread for this case and person (or their unassigned thread), made if missing.

    One statement: insert-or-touch against the unique constraints, so two first
    SMS arriving together end up in one thread instead of two.

    Args:
        lock_chain: a journal chain about to be appended to in this transaction;
            on PostgreSQL its head is locked in the same round trip.

    Returns:
        The thread's id, and the reply-by of a message in it still waiting for
        an answer (None when none is).
    """
    params = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "case_id": case_id,
        "person_id": person_id,
        "at": at,
    }
    if conn.dialect.name != "postgresql":
        row = (await conn.execute(_THREADS_SQLITE[case_id is not None], params)).one()
        return str(row.id), row.open_reply_by
    stmt = _THREADS_PG[case_id is not None, lock_chain is not None]
    if lock_chain is not None:
        params["head_chain"] = lock_chain
    # Twice at most: a first try that finds the thread changed (see THREAD_UNCHANGED)
    # leaves it locked, so the second finds it as it stays.
    row = (await conn.execute(stmt, params)).first() or (await conn.execute(stmt, params)).one()
    if lock_chain is not None and row.head_seq is not None:
        hold_head(conn, lock_chain, row.head_seq, row.head_hash)
    return str(row.id), row.open_reply_by


async def ensure_conversation(
    conn: AsyncConnection, *, tenant_id: str, case_id: str | None, person_id: str, at: datetime
) -> str:
    """The thread for this case and person (or their unassigned thread), made if missing.

    See :func:`open_conversation`: two first SMS arriving together end up in
    one thread instead of two.
    """
    conv_id, _ = await open_conversation(
        conn, tenant_id=tenant_id, case_id=case_id, person_id=person_id, at=at
    )
    return conv_id
