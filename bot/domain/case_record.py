"""What the case file gets of exchanges that start in the unassigned queue.

Two automatic replies are sent before an SMS belongs to one case: the
confirmation of STOP / START (for everyone on the number, whatever their cases)
and the "which case?" question. They are journalised where they were sent, in
the municipality's unassigned chain, which is never exported; so each case they
concern also gets an entry with the text as sent, under the case's own key:

* :func:`consent_confirmations`: the confirmation, on every case of the people
  whose consent changed (beside the consent entries themselves);
* :func:`answered_questions`: the question, on the case the citizen chose, once
  they have answered (before that it belongs to no case).

Nothing is copied silently: each entry names the message it records, which stays
where it was sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey, unseal
from bot.base.services import Services
from bot.store.schema.core import messages, persons
from journal.journal import NewEntry

CONFIRMATION_SUBJECT = "Bekræftelse af til- eller framelding sendt til borgeren"
QUESTION_SUBJECT = "Spørgsmål til borgeren om hvilken sag (besvaret)"


def consent_confirmations(
    *,
    tenant_id: str,
    message_id: str,
    body: str,
    keys: Iterable[SealingKey],
    at: datetime,
) -> list[NewEntry]:
    """The STOP / START confirmation ``message_id`` (text ``body``), on each case of ``keys``."""
    return [
        NewEntry(
            tenant_id=tenant_id,
            case_id=key.owner_id,
            kind="consent_confirmation",
            direction="out",
            channel="sms",
            subject=CONFIRMATION_SUBJECT,
            actor="system",
            at=at,
            content=body,
            key=key,
            message_id=message_id,
        )
        for key in keys
    ]


async def answered_questions(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    phone_index: str,
    since: datetime,
    key: SealingKey,
    at: datetime,
) -> list[NewEntry]:
    """The "which case?" questions sent to this number since ``since``, on the chosen case.

    Args:
        phone_index: the blind index of the number that was asked (and answered).
        since: when the first message that waited for the answer arrived.
        key: the chosen case's key (its ``owner_id`` the case).
    """
    asked = (
        await conn.execute(
            select(
                messages.c.id, messages.c.body_enc, persons.c.id.label("person_id"), persons.c.dek
            )
            .join(persons, persons.c.id == messages.c.person_id)
            .where(
                messages.c.tenant_id == tenant_id,
                messages.c.kind == "clarify",
                messages.c.case_id.is_(None),
                persons.c.phone_index == phone_index,
                messages.c.created_at >= since,
            )
            .order_by(messages.c.created_at, messages.c.id)
        )  # fmt: skip
    ).all()
    return [
        NewEntry(
            tenant_id=tenant_id,
            case_id=key.owner_id,
            kind="clarify",
            direction="out",
            channel="sms",
            subject=QUESTION_SUBJECT,
            actor="system",
            at=at,
            content=unseal(
                svc.dek("persons", q.person_id, q.dek), q.body_enc, f"messages:{q.id}:body"
            ),
            key=key,
            message_id=q.id,
        )
        for q in asked
    ]
