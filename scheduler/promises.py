"""Lovet svar: a caseworker promises an answer by a date, and the promise is kept track of.

The day before, the caseworker gets a task. If the date passes without an
answer in the thread, the citizen is told the answer is delayed and to when,
and the team lead gets a task. Both are reminder rows (scheduler.runner).
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import BadInput, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.store.schema.core import cases, conversations
from bot.store.schema.scheduler import reply_promises
from scheduler import settings as quiet_store
from scheduler.quiet import local_instant
from scheduler.store import (
    add_reminder,
    at_ten,
    case_visible,
    local_date,
    note,
    require_open,
    withdraw_reminders,
)
from scheduler.templates import long_date

MAX_AHEAD = timedelta(days=366)


def check_due(svc: Services, due: date) -> None:
    """Refuse a promised date that cannot be kept as given.

    Raises:
        BadInput: ``promise_in_past``, ``bad_date`` (more than a year ahead) or
            ``promise_not_working_day`` (a Saturday, Sunday or holiday: nobody answers then).
    """
    today = local_date(svc.clock.now())
    if due < today:
        raise BadInput("The promised date is in the past", code="promise_in_past")
    if due > today + MAX_AHEAD:
        raise BadInput("The promised date is more than a year ahead", code="bad_date")
    if not svc.calendar.is_working_day(due):
        raise BadInput("The promised date is not a working day", code="promise_not_working_day")


async def record_promise(
    conn: AsyncConnection,
    svc: Services,
    *,
    conversation_id: str,
    case_id: str,
    staff_id: str,
    due: date,
) -> str:
    """Record that ``staff_id`` promised an answer in this thread by ``due``, in the caller's
    transaction.

    An earlier open promise in the same thread is replaced (its reminders
    withdrawn). The caseworker is reminded the working day before at 10:00;
    the day after ``due``, if nobody has answered in the thread since, the
    citizen is told the answer is delayed and the team lead is told.

    Returns:
        The promise's id.

    Raises:
        BadInput: ``due`` is in the past or more than a year ahead, or the
            thread does not belong to the case.
    """
    check_due(svc, due)
    now = svc.clock.now()
    conv = (
        await conn.execute(
            select(
                conversations.c.tenant_id, conversations.c.person_id, conversations.c.case_id
            ).where(conversations.c.id == conversation_id)
        )
    ).first()
    if conv is None or conv.case_id != case_id:
        raise BadInput("The thread does not belong to the case", code="conversation_not_on_case")
    earlier = (
        await conn.execute(
            select(reply_promises.c.id).where(
                reply_promises.c.conversation_id == conversation_id,
                reply_promises.c.status == "open",
            )
        )
    ).scalars()
    for old in list(earlier):
        await conn.execute(
            update(reply_promises)
            .where(reply_promises.c.id == old)
            .values(status="replaced", closed_at=now)
        )
        await withdraw_reminders(conn, ref_id=old, at=now, reason="nyt løfte om svar")
    promise_id = new_id()
    await conn.execute(
        reply_promises.insert().values(
            id=promise_id,
            tenant_id=conv.tenant_id,
            case_id=case_id,
            conversation_id=conversation_id,
            staff_id=staff_id,
            due_on=due,
            status="open",
            created_at=now,
        )
    )
    day_before = at_ten(svc.calendar.working_days_before(due, 1))
    if day_before > now:
        await add_reminder(
            conn,
            svc,
            tenant_id=conv.tenant_id,
            case_id=case_id,
            kind="promise_due",
            ref_id=promise_id,
            staff_id=staff_id,
            nominal_at=day_before,
            now=now,
        )
    await add_reminder(
        conn,
        svc,
        tenant_id=conv.tenant_id,
        case_id=case_id,
        kind="promise_overdue",
        ref_id=promise_id,
        person_id=conv.person_id,
        conversation_id=conversation_id,
        staff_id=staff_id,
        nominal_at=local_instant(due + timedelta(days=1), time(0)),
        now=now,
        quiet=await quiet_store.settings_for(conn, conv.tenant_id, conv.person_id),
    )
    await note(
        conn,
        tenant_id=conv.tenant_id,
        case_id=case_id,
        kind="promise_recorded",
        subject=f"Svar lovet borgeren senest {long_date(due, 'da')}",
        actor=f"staff:{staff_id}",
        at=now,
    )
    return promise_id


async def promise_for_conversation(
    svc: Services, user: StaffUser, conversation_id: str, due: date
) -> dict[str, Any]:
    """The API's way in: check the user may work on the thread, then record the promise.

    Raises:
        NotFound: no such thread for this user (or it has no case).
        BadInput / CaseClosed: see :func:`record_promise`.
    """
    async with svc.write() as conn:
        row = (
            await conn.execute(
                select(conversations.c.id, cases.c.id.label("case_id"), cases.c.status)
                .join(cases, cases.c.id == conversations.c.case_id)
                .where(conversations.c.id == conversation_id, case_visible(user))
            )
        ).first()
        if row is None:
            raise NotFound("No such conversation", code="conversation_not_found")
        require_open(row)
        promise_id = await record_promise(
            conn,
            svc,
            conversation_id=conversation_id,
            case_id=row.case_id,
            staff_id=user.id,
            due=due,
        )
    return {
        "id": promise_id,
        "conversation_id": conversation_id,
        "due": due.isoformat(),
        "status": "open",
    }
