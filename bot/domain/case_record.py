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
where it was sent. :class:`SystemNotes` makes every entry the service writes
itself about a message (these, and routing's and triage's notes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey, unseal
from bot.base.services import Services
from bot.store.schema.core import messages, persons
from journal.journal import NewEntry

# Said when it is queued: the send-time gate may still hold it back (journalised where
# it was sent, on the unassigned chain), so this says what was written, not that it went.
CONFIRMATION_SUBJECT = "Bekræftelse af til- eller framelding til borgeren"
QUESTION_SUBJECT = "Spørgsmål til borgeren om hvilken sag (besvaret)"


@dataclass(frozen=True, slots=True)
class SystemNotes:
    """Journalnotater the service writes itself about one message, on one chain."""

    tenant_id: str
    case_id: str | None  # None: the municipality's unassigned chain
    message_id: str
    key: SealingKey
    at: datetime

    def entry(
        self,
        kind: str,
        subject: str,
        content: str,
        *,
        direction: str = "internal",
        channel: str = "system",
    ) -> NewEntry:
        """One entry: an internal note, unless ``direction``/``channel`` say it was sent."""
        return NewEntry(
            tenant_id=self.tenant_id,
            case_id=self.case_id,
            kind=kind,
            direction=direction,
            channel=channel,
            subject=subject,
            actor="system",
            at=self.at,
            content=content,
            key=self.key,
            message_id=self.message_id,
        )


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
        SystemNotes(tenant_id, key.owner_id, message_id, key, at).entry(
            "consent_confirmation", CONFIRMATION_SUBJECT, body, direction="out", channel="sms"
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
        SystemNotes(tenant_id, key.owner_id, q.id, key, at).entry(
            "clarify",
            QUESTION_SUBJECT,
            unseal(svc.dek("persons", q.person_id, q.dek), q.body_enc, f"messages:{q.id}:body"),
            direction="out",
            channel="sms",
        )
        for q in asked
    ]
