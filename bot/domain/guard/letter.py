"""The decision guard's offer: send the refused afgørelse as a letter by Digital Post.

When a reply or a quick update is refused because it reads as an afgørelse, the
staff page offers to send it the lawful way: as a letter to the family's Digital
Post mailbox, its klagevejledning part of the one document
(:func:`bot.domain.letters.queue_decision`: MeMo ``legalNotification``, journalised
"Brev lagt i kø til Digital Post", relayed by the letters' ticker).

Digital Post is configured for a municipality when both are set:

- ``TOVHOLDER_DIGITALPOST_URL``: SF1601 (or the simulator); without it no letter leaves
  (:mod:`bot.wiring.letters`);
- ``TOVHOLDER_DIGITALPOST_SENDERS``: ``slug=CVR`` pairs, comma-separated
  (``kbh=29189846,aarhus=55133018``): the municipality's CVR number as the letter's
  sender. A municipality not named here is not configured.

Otherwise the page says to send the decision through the case system. A letter
goes to a participant who is entitled (a representative only while the authority
is in force) and whose CPR number is on file (sealed; never shown or logged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import BadInput, Conflict
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain import letters
from bot.domain.recipients import AUTHORITY_NOT_IN_FORCE, NOT_ENTITLED, case_recipients
from bot.store.schema.core import persons, tenants
from bot.store.schema.oidc import web_person_cpr
from scheduler.store import case_for, local_date

URL_SETTING = "TOVHOLDER_DIGITALPOST_URL"
SENDERS_SETTING = "TOVHOLDER_DIGITALPOST_SENDERS"
TITLE_MAX = 200
TEXT_MAX = 20_000


@dataclass(frozen=True, slots=True)
class LetterRecipient:
    """A participant a decision letter may go to (their CPR number stays sealed)."""

    participant_id: str
    name: str


@dataclass(frozen=True, slots=True)
class LetterOffer:
    """What the refused page may offer for this case."""

    configured: bool  # Digital Post is set up for the case's municipality
    recipients: list[LetterRecipient]


def sender_cvr(svc: Services, tenant_slug: str) -> str | None:
    """The municipality's CVR number as Digital Post sender, or None when not configured."""
    if not svc.config.extra.get(URL_SETTING, "").strip():
        return None
    for pair in svc.config.extra.get(SENDERS_SETTING, "").split(","):
        slug, _, cvr = pair.partition("=")
        cvr = cvr.strip()
        if slug.strip() == tenant_slug and len(cvr) == 8 and cvr.isascii() and cvr.isdigit():
            return cvr
    return None


async def configured(svc: Services, tenant_id: str) -> bool:
    """Whether Digital Post is set up for this municipality (a cheap look; no case read)."""
    if not svc.config.extra.get(URL_SETTING, "").strip():
        return False
    async with svc.read() as conn:
        return sender_cvr(svc, await _slug(conn, tenant_id)) is not None


async def _slug(conn: AsyncConnection, tenant_id: str) -> str:
    return str(
        (await conn.execute(select(tenants.c.slug).where(tenants.c.id == tenant_id))).scalar_one()
    )


async def _recipients(
    conn: AsyncConnection, svc: Services, case_id: str
) -> list[tuple[LetterRecipient, Any]]:
    """Participants a letter may go to, each with its sealed CPR row."""
    found = [
        r
        for r in await case_recipients(conn, case_id, local_date(svc.clock.now()))
        if r.skip not in (NOT_ENTITLED, AUTHORITY_NOT_IN_FORCE)
    ]
    if not found:
        return []
    cprs = {
        row.person_id: row
        for row in await conn.execute(
            select(web_person_cpr.c.person_id, web_person_cpr.c.cpr_enc, persons.c.dek)
            .join(persons, persons.c.id == web_person_cpr.c.person_id)
            .where(web_person_cpr.c.person_id.in_([r.person_id for r in found]))
        )
    }
    out = []
    for r in found:
        if r.person_id in cprs:
            dek = svc.dek("persons", r.person_id, r.person_dek)
            name = svc.unseal(dek, "persons", r.person_id, "name", r.name_enc) if r.name_enc else ""
            out.append((LetterRecipient(r.participant_id, name or "Uden navn"), cprs[r.person_id]))
    return out


async def offer(svc: Services, user: StaffUser, case_id: str) -> LetterOffer:
    """Whether this case's decision may go by Digital Post, and to whom.

    Raises:
        NotFound: a case this user does not work on (or another municipality's).
    """
    async with svc.read() as conn:
        case = await case_for(conn, user, case_id)
        if sender_cvr(svc, await _slug(conn, case.tenant_id)) is None:
            return LetterOffer(False, [])
        found = await _recipients(conn, svc, case.id)
    return LetterOffer(True, [r for r, _ in found])


def _check(title: str, decision: str, klagevejledning: str) -> None:
    if not title or len(title) > TITLE_MAX:
        raise BadInput("The letter needs a title of at most 200 characters", code="letter_title")
    if not decision or len(decision) > TEXT_MAX:
        raise BadInput("The letter needs the decision's text", code="letter_decision")
    if not klagevejledning or len(klagevejledning) > TEXT_MAX:
        raise BadInput("A decision needs its klagevejledning", code="letter_klagevejledning")


async def send_decision(
    svc: Services,
    user: StaffUser,
    case_id: str,
    *,
    to: str,
    title: str,
    decision: str,
    klagevejledning: str,
) -> letters.QueuedLetter:
    """Queue the afgørelse as a Digital Post letter to participant ``to``, journalised.

    Raises:
        NotFound: a case this user does not work on (or another municipality's).
        Conflict: ``digital_post_not_configured`` for this municipality.
        BadInput: letter_title, letter_decision, letter_klagevejledning (empty or too
            long), letter_recipient (not a participant a letter may go to).
    """
    title, decision, klagevejledning = title.strip(), decision.strip(), klagevejledning.strip()
    _check(title, decision, klagevejledning)
    async with svc.write() as conn:
        case = await case_for(conn, user, case_id)
        cvr = sender_cvr(svc, await _slug(conn, case.tenant_id))
        if cvr is None:
            raise Conflict(
                "Digital Post is not set up for this municipality",
                code="digital_post_not_configured",
            )
        chosen = [
            (r, row) for r, row in await _recipients(conn, svc, case.id) if r.participant_id == to
        ]
        if not chosen:
            raise BadInput("Choose who gets the letter", code="letter_recipient")
        row = chosen[0][1]
        dek = svc.dek("persons", row.person_id, row.dek)
        return await letters.queue_decision(
            conn,
            svc,
            tenant_id=case.tenant_id,
            case_id=case.id,
            cpr=svc.unseal(dek, "persons", row.person_id, "cpr", row.cpr_enc),
            title=title,
            decision=decision,
            klagevejledning=klagevejledning,
            sender_cvr=cvr,
            author_id=user.id,
            language="da",
        )
