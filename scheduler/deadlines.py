"""Frister: a deadline on a case (e.g. partshøring) and the reminder N working days before."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.store.schema.core import cases
from bot.store.schema.scheduler import deadlines, reminders
from scheduler import settings as quiet_store
from scheduler.quiet import local_instant
from scheduler.store import (
    add_reminder,
    at_ten,
    case_for,
    case_visible,
    conversation_for,
    entitled_people,
    local_date,
    note,
    require_open,
    withdraw_reminders,
)
from scheduler.templates import long_date

KINDS = {
    "partshoering": "Partshøring",
    "dokumentation": "Frist for dokumentation",
    "andet": "Frist",
}
MAX_REMIND_DAYS = 20


def reminder_day(svc: Services, due_on: date, remind_days: int) -> date:
    """The day the reminder goes: ``remind_days`` working days before (0: the day itself)."""
    if remind_days == 0:
        return due_on
    return svc.calendar.working_days_before(due_on, remind_days)


def expires(due_on: date) -> Any:
    """A deadline reminder is pointless once the deadline day is over."""
    return local_instant(due_on + timedelta(days=1), time(0))


async def create_deadline(
    svc: Services,
    user: StaffUser,
    case_id: str,
    *,
    kind: str,
    due_on: date,
    remind_days: int = 2,
) -> dict[str, Any]:
    """Set a deadline and remind the entitled participants ``remind_days`` working days before.

    Raises:
        NotFound: no such case for this user.
        BadInput: unknown kind, a deadline or reminder already in the past,
            an offset out of range.
        Conflict: the case is closed.
    """
    if kind not in KINDS:
        raise BadInput(f"kind must be one of {', '.join(KINDS)}", code="unknown_deadline_kind")
    if not 0 <= remind_days <= MAX_REMIND_DAYS:
        raise BadInput(
            f"remind_working_days_before must be from 0 to {MAX_REMIND_DAYS}", code="bad_offset"
        )
    now = svc.clock.now()
    if due_on < local_date(now):
        raise BadInput("The deadline is in the past", code="deadline_in_past")
    if due_on > local_date(now) + timedelta(days=2 * 366):
        raise BadInput("The deadline is more than two years ahead", code="bad_date")
    nominal = at_ten(reminder_day(svc, due_on, remind_days))
    if nominal < now:
        raise BadInput("The reminder would be in the past", code="reminder_in_past")
    async with svc.write() as conn:
        case = await case_for(conn, user, case_id)
        require_open(case)
        deadline_id = new_id()
        await conn.execute(
            deadlines.insert().values(
                id=deadline_id,
                tenant_id=case.tenant_id,
                case_id=case_id,
                kind=kind,
                due_on=due_on,
                remind_days=remind_days,
                status="open",
                created_by=user.id,
                created_at=now,
            )
        )
        people = await entitled_people(conn, case_id)
        stored = await quiet_store.settings_map(
            conn, [case.tenant_id], [p.person_id for p in people]
        )
        for person in people:
            conv_id = await conversation_for(
                conn, tenant_id=case.tenant_id, case_id=case_id, person_id=person.person_id, at=now
            )
            await add_reminder(
                conn,
                svc,
                tenant_id=case.tenant_id,
                case_id=case_id,
                kind="deadline",
                ref_id=deadline_id,
                person_id=person.person_id,
                conversation_id=conv_id,
                nominal_at=nominal,
                now=now,
                expires_at=expires(due_on),
                quiet=quiet_store.pick(stored, case.tenant_id, person.person_id),
            )
        await note(
            conn,
            tenant_id=case.tenant_id,
            case_id=case_id,
            kind="deadline_created",
            subject=f"{KINDS[kind]}: frist {long_date(due_on, 'da')}",
            actor=f"staff:{user.id}",
            at=now,
        )
        return await _as_json(conn, deadline_id)


async def _as_json(conn: Any, deadline_id: str) -> dict[str, Any]:
    d = (await conn.execute(select(deadlines).where(deadlines.c.id == deadline_id))).one()
    due = await conn.execute(
        select(reminders.c.id, reminders.c.person_id, reminders.c.due_at, reminders.c.state)
        .where(reminders.c.ref_id == deadline_id)
        .order_by(reminders.c.due_at, reminders.c.id)
    )
    return {
        "id": d.id,
        "case_id": d.case_id,
        "kind": d.kind,
        "due_on": d.due_on.isoformat(),
        "remind_working_days_before": d.remind_days,
        "status": d.status,
        "reminders": [
            {"id": r.id, "person_id": r.person_id, "due_at": r.due_at.isoformat(), "state": r.state}
            for r in due
        ],
    }


async def cancel_deadline(svc: Services, user: StaffUser, deadline_id: str) -> dict[str, Any]:
    """Cancel a deadline and withdraw its reminders.

    Raises:
        NotFound: no such deadline for this user.
        Conflict: already cancelled.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        row = (
            await conn.execute(
                select(deadlines)
                .join(cases, cases.c.id == deadlines.c.case_id)
                .where(deadlines.c.id == deadline_id, case_visible(user))
            )
        ).first()
        if row is None:
            raise NotFound("No such deadline", code="deadline_not_found")
        if row.status != "open":
            raise Conflict("The deadline is already cancelled", code="deadline_cancelled")
        await conn.execute(
            update(deadlines).where(deadlines.c.id == deadline_id).values(status="cancelled")
        )
        await withdraw_reminders(conn, ref_id=deadline_id, at=now, reason="fristen er annulleret")
        await note(
            conn,
            tenant_id=row.tenant_id,
            case_id=row.case_id,
            kind="deadline_cancelled",
            subject=f"{KINDS.get(row.kind, 'Frist')} {long_date(row.due_on, 'da')} annulleret",
            actor=f"staff:{user.id}",
            at=now,
        )
        return await _as_json(conn, deadline_id)


async def list_deadlines(svc: Services, user: StaffUser, case_id: str) -> list[dict[str, Any]]:
    async with svc.read() as conn:
        await case_for(conn, user, case_id)
        ids = (
            await conn.execute(
                select(deadlines.c.id)
                .where(deadlines.c.case_id == case_id)
                .order_by(deadlines.c.due_on, deadlines.c.id)
            )
        ).scalars()
        return [await _as_json(conn, i) for i in list(ids)]
