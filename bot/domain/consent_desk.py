"""Samtykke på skrivebordet: what the family told the caseworker about consent, from a thread.

A parent who rings to say "no more reminders by SMS, please" or "yes, e-mail
me" has said what STOP or an e-mail opt-in says. The caseworker records it on
the thread's page; it goes into the one consent record
(:mod:`bot.domain.consent`, source ``page``, actor ``staff:<id>``) for the
person on every case, and is journalised on the thread's case.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.base.errors import BadInput
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain import consent, inbox
from bot.store.schema.core import conversations
from journal.journal import append

# choice → (channel, state, the journal's subject)
CHOICES = {
    "sms_given": (
        "sms",
        consent.GIVEN,
        "Borgeren vil gerne have påmindelser og nyheder på SMS (oplyst til sagsbehandleren)",
    ),
    "sms_withdrawn": (
        "sms",
        consent.WITHDRAWN,
        "Borgeren vil ikke have påmindelser og nyheder på SMS (oplyst til sagsbehandleren)",
    ),
    "email_given": (
        "email",
        consent.GIVEN,
        "Borgeren har sagt ja til besked på e-mail (oplyst til sagsbehandleren)",
    ),
    "email_withdrawn": (
        "email",
        consent.WITHDRAWN,
        "Borgeren har sagt nej til besked på e-mail (oplyst til sagsbehandleren)",
    ),
}


@dataclass(frozen=True, slots=True)
class ThreadConsent:
    """The consent of a thread's citizen, as it counts on the thread's case."""

    conversation_id: str
    case_id: str
    sms: consent.Standing
    email: consent.Standing
    history: list[consent.Record]


async def _person(svc: Services, user: StaffUser, conv_id: str) -> tuple[str, str]:
    """The thread's case and person, for someone who works on the case (else NotFound)."""
    case_id = await inbox.working_case(svc, user, conv_id)
    async with svc.read() as conn:
        person_id = (
            await conn.execute(
                select(conversations.c.person_id).where(conversations.c.id == conv_id)
            )
        ).scalar_one()
    return case_id, str(person_id)


async def thread_consent(svc: Services, user: StaffUser, conv_id: str) -> ThreadConsent:
    """Where the thread's citizen stands on SMS and e-mail, and what was said when."""
    case_id, person_id = await _person(svc, user, conv_id)
    async with svc.read() as conn:
        sms = await consent.for_person_on_case(conn, person_id, case_id, "sms")
        email = await consent.for_person_on_case(conn, person_id, case_id, "email")
        said = await consent.history(conn, person_id, case_id)
    return ThreadConsent(conv_id, case_id, sms, email, said)


async def record_from_thread(svc: Services, user: StaffUser, conv_id: str, choice: object) -> None:
    """Record what the family said (one of :data:`CHOICES`) and journalise it on the case.

    Raises:
        NotFound: not a thread of a case the user works on.
        BadInput: ``bad_consent_choice``; nothing is recorded.
    """
    case_id, person_id = await _person(svc, user, conv_id)
    if not isinstance(choice, str) or choice not in CHOICES:
        raise BadInput("Choose what the citizen said", code="bad_consent_choice")
    channel, state, subject = CHOICES[choice]
    now = svc.clock.now()
    async with svc.write() as conn:
        await consent.record(
            conn,
            tenant_id=user.tenant_id,
            person_id=person_id,
            channel=channel,
            state=state,
            scope=consent.PROACTIVE,
            source=consent.PAGE,
            at=now,
            actor=f"staff:{user.id}",
        )
        await append(
            conn,
            tenant_id=user.tenant_id,
            case_id=case_id,
            kind=f"consent_{channel}_{state}",
            direction="internal",
            channel="web",
            subject=subject,
            actor=f"staff:{user.id}",
            at=now,
        )
