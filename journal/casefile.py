"""The case file (sagens akter) as staff see it: notes, and the journal with export status.

Only the case's owner and the lead (or admin) of the case's team may write a
note or list a case's journal; for anyone else the case does not exist (404),
as everywhere in Tovholder. The journal can only grow: there is no way to
change or remove an entry, here or anywhere else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey
from bot.base.errors import BadInput, NotFound
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.store.schema.core import cases, journal_entries
from journal.export import export_status
from journal.journal import append
from scheduler.store import case_visible

SUBJECT_MAX = 200
NOTE_MAX = 20_000


async def visible_case(conn: AsyncConnection, user: StaffUser, case_id: str) -> Any:
    """The case if this user works on it (owner, covering substitute, or lead/admin of its
    team: ``scheduler.store.case_visible``, the one rule); else 404."""
    row = (
        await conn.execute(
            select(
                cases.c.id, cases.c.tenant_id, cases.c.number, cases.c.dek, cases.c.status
            ).where(cases.c.id == case_id, case_visible(user))
        )
    ).first()
    if row is None:
        raise NotFound("No such case", code="case_not_found")
    return row


# What a note's entry says in clear; the caseworker's own subject line is sealed with the text.
NOTE_SUBJECT = "Notat fra sagsbehandler"


def _text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text", code="bad_field")
    value = value.strip()
    if not value:
        raise BadInput(f"{name} is empty", code="empty_field")
    if len(value) > limit:
        raise BadInput(f"{name} is longer than {limit} characters", code="field_too_long")
    return value


def _entry(row: Any, status: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "seq": row.seq,
        "kind": row.kind,
        "direction": row.direction,
        "channel": row.channel,
        "subject": row.subject,
        "actor": row.actor,
        "created_at": row.created_at.isoformat(),
        "hash": row.hash,
        "prev_hash": row.prev_hash,
        "export": status,
    }


async def add_note(
    svc: Services, user: StaffUser, case_id: str, subject: object, text: object
) -> dict[str, Any]:
    """Notatpligt: file a caseworker's note on the case, sealed with the case key.

    The entry's subject (stored in clear, as every subject) is a fixed
    :data:`NOTE_SUBJECT`: a caseworker's own subject line may name the family
    or what happened, so it is sealed with the note, as its first line.

    Args:
        subject: the note's subject line (encrypted at rest, with the text).
        text: the note itself (encrypted at rest).
    """
    subject_s = _text(subject, "subject", SUBJECT_MAX)
    text_s = _text(text, "text", NOTE_MAX)
    async with svc.write() as conn:
        case = await visible_case(conn, user, case_id)
        entry_id = await append(
            conn,
            tenant_id=case.tenant_id,
            case_id=case.id,
            kind="note",
            direction="internal",
            channel="api",
            subject=NOTE_SUBJECT,
            actor=f"staff:{user.id}",
            at=svc.clock.now(),
            content=f"{subject_s}\n\n{text_s}",
            key=SealingKey("case", case.id, svc.dek("cases", case.id, case.dek)),
        )
        row = (
            await conn.execute(select(journal_entries).where(journal_entries.c.id == entry_id))
        ).one()
        status = (await export_status(conn, [(row.id, row.case_id)]))[row.id]
    return _entry(row, status) | {"case_number": case.number, "title": subject_s}


async def list_entries(svc: Services, user: StaffUser, case_id: str) -> dict[str, Any]:
    """The case's journal in order, each entry with its export status (no content)."""
    async with svc.read() as conn:
        case = await visible_case(conn, user, case_id)
        rows = (
            await conn.execute(
                select(journal_entries)
                .where(journal_entries.c.case_id == case.id)
                .order_by(journal_entries.c.seq)
            )
        ).all()
        statuses = await export_status(conn, [(r.id, r.case_id) for r in rows])
    return {
        "case_id": case.id,
        "case_number": case.number,
        "items": [_entry(r, statuses[r.id]) for r in rows],
    }


async def entry_detail(
    svc: Services, user: StaffUser, case_id: str, entry_id: str
) -> dict[str, Any]:
    """One entry of the case's journal with its export status (404 if not on this case)."""
    async with svc.read() as conn:
        case = await visible_case(conn, user, case_id)
        row = (
            await conn.execute(
                select(journal_entries).where(
                    journal_entries.c.id == entry_id, journal_entries.c.case_id == case.id
                )
            )
        ).first()
        if row is None:
            raise NotFound("No such journal entry", code="entry_not_found")
        status = (await export_status(conn, [(row.id, row.case_id)]))[row.id]
    return _entry(row, status) | {"case_number": case.number}
