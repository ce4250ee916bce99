"""Retention: the journal is kept; transient data is purged; erasure becomes restriction.

Journalised material is not deleted on request (the municipality's duty to keep
the case file comes first): an erasure request is recorded as a restriction of
processing, with its reason, on every case of the person, and the person gets
no more proactive messages. Transient data — one-time codes, spent links to the
secure inbox, delivery bookkeeping of sent messages — is purged after
``TOVHOLDER_RETENTION_TRANSIENT_DAYS`` (default 30).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from bot.conversations import StaffUser
from bot.crypto import seal
from bot.db.schema import (
    cases,
    inbox_links,
    metadata,
    outbox,
    participants,
    persons,
    restrictions,
    staff_notices,
)
from bot.errors import BadInput, NotFound
from bot.ids import new_id
from bot.services import Services
from journal.journal import SealingKey, append

log = logging.getLogger(__name__)


def transient_days(svc: Services) -> int:
    return int(svc.config.extra.get("TOVHOLDER_RETENTION_TRANSIENT_DAYS", "30"))


async def purge_transient(svc: Services) -> dict[str, int]:
    """Delete transient rows older than the retention period. Returns counts per kind."""
    cutoff = svc.clock.now() - timedelta(days=transient_days(svc))
    counts: dict[str, int] = {}
    async with svc.write() as conn:
        counts["inbox_links"] = (
            await conn.execute(delete(inbox_links).where(inbox_links.c.expires_at < cutoff))
        ).rowcount
        counts["outbox"] = (
            await conn.execute(
                delete(outbox).where(
                    outbox.c.state.in_(["done", "failed", "withdrawn"]),
                    outbox.c.created_at < cutoff,
                )
            )
        ).rowcount
        spent_notices = select(staff_notices.c.id).where(
            staff_notices.c.created_at < cutoff,
            ~staff_notices.c.id.in_(
                select(outbox.c.staff_notice_id).where(outbox.c.staff_notice_id.is_not(None))
            ),
        )
        counts["staff_notices"] = (
            await conn.execute(delete(staff_notices).where(staff_notices.c.id.in_(spent_notices)))
        ).rowcount
        codes = metadata.tables.get("web_login_codes")
        if codes is not None:
            counts["login_codes"] = (
                await conn.execute(
                    delete(codes).where(codes.c.expires_at < svc.clock.now() - timedelta(days=1))
                )
            ).rowcount
    if any(counts.values()):
        log.info("retention purged %s", counts)
    return counts


async def restrict(svc: Services, user: StaffUser, person_id: str, reason: Any) -> dict[str, Any]:
    """Record an erasure request as a restriction of processing, journalised on each case."""
    if user.role not in ("lead", "admin"):
        raise NotFound("No such person", code="person_not_found")
    if not isinstance(reason, str) or not 3 <= len(reason.strip()) <= 1000:
        raise BadInput("A reason of 3–1000 characters is required", code="bad_reason")
    now = svc.clock.now()
    async with svc.write() as conn:
        person = (
            await conn.execute(
                select(persons.c.id, persons.c.dek).where(
                    persons.c.id == person_id, persons.c.tenant_id == user.tenant_id
                )
            )
        ).first()
        if person is None:
            raise NotFound("No such person", code="person_not_found")
        rid = new_id()
        dek = svc.dek("persons", person.id, person.dek)
        await conn.execute(
            restrictions.insert().values(
                id=rid,
                tenant_id=user.tenant_id,
                person_id=person.id,
                staff_id=user.id,
                reason_enc=seal(dek, reason.strip(), f"restrictions:{rid}:reason"),
                created_at=now,
            )
        )
        case_rows = (
            await conn.execute(
                select(cases.c.id, cases.c.dek)
                .join(participants, participants.c.case_id == cases.c.id)
                .where(participants.c.person_id == person.id)
            )
        ).all()
        for case in case_rows:
            key = SealingKey("case", case.id, svc.dek("cases", case.id, case.dek))
            await append(
                conn,
                tenant_id=user.tenant_id,
                case_id=case.id,
                kind="restriction",
                direction="internal",
                channel="api",
                subject="Anmodning om sletning registreret som begrænsning af behandling",
                actor=f"staff:{user.id}",
                at=now,
                content=reason.strip(),
                key=key,
            )
    return {"id": rid, "person_id": person.id, "cases": len(case_rows)}


async def is_restricted(conn: Any, person_id: str) -> bool:
    return (
        await conn.execute(select(restrictions.c.id).where(restrictions.c.person_id == person_id))
    ).first() is not None
