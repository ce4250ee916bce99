"""Who on a case may get a message: one rule for the case system's updates and the desk's.

A participant gets a proactive message (an update, a caseworker's new message)
when they are entitled, the case system has not recorded that they refuse
SMS, a representative's authority (fuldmagt) is in force today, they have a
phone, and they have not texted STOP (nor had their processing restricted).
The send-time gate (:mod:`bot.domain.gate`) asks the same again just before
the gateway, so a STOP that arrives in between still holds the message back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import consent
from bot.store.schema.core import participants, persons, restrictions
from bot.store.schema.integration import participant_details

NOT_ENTITLED = "not_entitled"
NO_CONSENT = "no_consent"
AUTHORITY_NOT_IN_FORCE = "authority_not_in_force"
NO_PHONE = "no_phone"
OPTED_OUT = "opted_out"
SKIP_REASONS = (NOT_ENTITLED, NO_CONSENT, AUTHORITY_NOT_IN_FORCE, NO_PHONE, OPTED_OUT)


@dataclass(frozen=True, slots=True)
class Recipient:
    """One participant of a case, and why they may not get a message now (None: they may).

    The sealed name fields stay sealed here; a page that shows names unseals them.
    """

    participant_id: str
    person_id: str
    role: str
    language: str
    skip: str | None
    person_dek: bytes
    name_enc: bytes | None
    first_name_enc: bytes | None
    # Their processing is restricted (GDPR art. 18): skipped as OPTED_OUT, said apart.
    restricted: bool = False


def skip_reason(p: Any, sms_consent: bool | None, today: date) -> str | None:
    """Why the case system's record stops a message to participant ``p`` today."""
    if not p.entitled:
        return NOT_ENTITLED
    if sms_consent is False:
        return NO_CONSENT
    if p.role == "representative" and not (
        p.authority_from is not None
        and p.authority_from <= today
        and (p.authority_to is None or today <= p.authority_to)
    ):
        return AUTHORITY_NOT_IN_FORCE
    if p.phone_index is None:
        return NO_PHONE
    return None


async def case_recipients(conn: AsyncConnection, case_id: str, today: date) -> list[Recipient]:
    """Every participant of the case in the order they were added, each with its skip reason."""
    rows = (
        await conn.execute(
            select(
                participants.c.id,
                participants.c.person_id,
                participants.c.role,
                participants.c.entitled,
                participant_details.c.authority_from,
                participant_details.c.authority_to,
                persons.c.phone_index,
                persons.c.language,
                persons.c.dek,
                persons.c.name_enc,
                persons.c.first_name_enc,
                select(restrictions.c.id)
                .where(restrictions.c.person_id == participants.c.person_id)
                .exists()
                .label("restricted"),
            )
            .join(persons, persons.c.id == participants.c.person_id)
            .outerjoin(
                participant_details, participant_details.c.participant_id == participants.c.id
            )
            .where(participants.c.case_id == case_id)
            .order_by(participants.c.created_at, participants.c.id)
        )
    ).all()
    said = await consent.for_participants(conn, [(p.id, p.person_id) for p in rows])
    out = []
    for p in rows:
        sms = said[p.id]
        reason = skip_reason(p, False if sms.answers_refused else None, today)
        if reason is None and (not sms.proactive or p.restricted):
            reason = OPTED_OUT  # the citizen texted STOP: no proactive messages
        out.append(
            Recipient(
                participant_id=p.id,
                person_id=p.person_id,
                role=p.role,
                language=p.language,
                skip=reason,
                person_dek=p.dek,
                name_enc=p.name_enc,
                first_name_enc=p.first_name_enc,
                restricted=bool(p.restricted),
            )
        )
    return out
