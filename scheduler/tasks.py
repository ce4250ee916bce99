"""Opgaver: follow-up tasks for staff, and the one-click "still working on it" update."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import Conflict, NotFound
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.outbound import queue_sms
from bot.store.schema.core import cases
from bot.store.schema.scheduler import followup_tasks
from scheduler import settings as quiet_store
from scheduler.casetypes import policy_for_case, timeline_policy
from scheduler.milestones import next_expected, steps_of
from scheduler.quiet import allowed_send_time
from scheduler.store import (
    case_key,
    conversation_for,
    entitled_people,
    local_date,
    require_open,
)
from scheduler.templates import say, speaks, title

DEFAULT_NUDGE_DAYS = 10


async def still_working_text(
    conn: AsyncConnection, svc: Services, case: Any, language: str, now: datetime
) -> str:
    """The nudge text: "Vi arbejder stadig på din sag. Næste skridt er … [svar i] uge 12." """
    policy = await policy_for_case(conn, case)
    timeline = await timeline_policy(conn, case)
    if timeline is not None and not speaks(timeline, language):
        language = "da"  # whole sentences in one language
    parts = [say(language, "still_working")]
    step_key, expected = next_expected(await steps_of(conn, case.id))
    tpl = timeline.step(step_key) if timeline and step_key else None
    if tpl is not None:
        parts.append(say(language, "still_next", step=title(tpl, language)))
    today = local_date(now)
    if expected is None or expected < today:
        expected = svc.calendar.add_working_days(
            today, policy.nudge_days if policy else DEFAULT_NUDGE_DAYS
        )
    parts.append(say(language, "still_week", week=expected.isocalendar().week))
    return " ".join(parts)


async def send_still_working(
    conn: AsyncConnection, svc: Services, case: Any, *, now: datetime, author_id: str | None
) -> list[str]:
    """Send the "still working on it" update to every entitled participant of the case.

    Returns:
        The ids of the queued messages.
    """
    key = case_key(svc, case.id, case.dek)
    people = await entitled_people(conn, case.id)
    stored = await quiet_store.settings_map(conn, [case.tenant_id], [p.person_id for p in people])
    sent = []
    for person in people:
        conv_id = await conversation_for(
            conn, tenant_id=case.tenant_id, case_id=case.id, person_id=person.person_id, at=now
        )
        quiet = quiet_store.pick(stored, case.tenant_id, person.person_id)
        sent.append(
            await queue_sms(
                conn,
                tenant_id=case.tenant_id,
                conversation_id=conv_id,
                case_id=case.id,
                person_id=person.person_id,
                kind="update",
                body=await still_working_text(conn, svc, case, person.language, now),
                key=key,
                at=now,
                author_id=author_id,
                not_before=allowed_send_time(now, quiet, svc.calendar),
                subject="Opdatering til borger: vi arbejder stadig på sagen",
                language=person.language,
            )
        )
    return sent


def _mine(user: StaffUser) -> Any:
    own = followup_tasks.c.staff_id == user.id
    if user.role in ("lead", "admin"):
        return and_(
            followup_tasks.c.tenant_id == user.tenant_id,
            or_(own, cases.c.team_id == user.team_id),
        )
    return and_(followup_tasks.c.tenant_id == user.tenant_id, own)


def _as_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "case_id": r.case_id,
        "case_number": r.number,
        "staff_id": r.staff_id,
        "title": r.title,
        "ref_id": r.ref_id,
        "message_id": r.message_id,
        "state": r.state,
        "created_at": r.created_at.isoformat(),
        "actions": ["send_still_working", "done"] if r.kind == "nudge" else ["done"],
    }


async def list_tasks(
    svc: Services, user: StaffUser, *, state: str = "open"
) -> list[dict[str, Any]]:
    """My open tasks (a lead also sees the team's), oldest first."""
    async with svc.read() as conn:
        rows = await conn.execute(
            select(followup_tasks, cases.c.number)
            .join(cases, cases.c.id == followup_tasks.c.case_id)
            .where(_mine(user), followup_tasks.c.state == state)
            .order_by(followup_tasks.c.created_at, followup_tasks.c.id)
        )
        return [_as_json(r) for r in rows]


async def _task(conn: AsyncConnection, user: StaffUser, task_id: str) -> Any:
    row = (
        await conn.execute(
            select(followup_tasks, cases.c.number)
            .join(cases, cases.c.id == followup_tasks.c.case_id)
            .where(followup_tasks.c.id == task_id, _mine(user))
        )
    ).first()
    if row is None:
        raise NotFound("No such task", code="task_not_found")
    if row.state != "open":
        raise Conflict("The task is already done", code="task_done")
    return row


async def complete_task(svc: Services, user: StaffUser, task_id: str) -> dict[str, Any]:
    """Mark a task done."""
    now = svc.clock.now()
    async with svc.write() as conn:
        row = await _task(conn, user, task_id)
        await conn.execute(
            update(followup_tasks)
            .where(followup_tasks.c.id == task_id)
            .values(state="done", done_at=now)
        )
        return {**_as_json(row), "state": "done"}


async def still_working_from_task(svc: Services, user: StaffUser, task_id: str) -> dict[str, Any]:
    """One click on a nudge: send the "still working on it" update and close the task."""
    now = svc.clock.now()
    async with svc.write() as conn:
        row = await _task(conn, user, task_id)
        if row.kind != "nudge":
            raise Conflict("Only a nudge has that action", code="wrong_task_kind")
        case = (await conn.execute(select(cases).where(cases.c.id == row.case_id))).one()
        require_open(case)
        sent = await send_still_working(conn, svc, case, now=now, author_id=user.id)
        await conn.execute(
            update(followup_tasks)
            .where(followup_tasks.c.id == task_id)
            .values(state="done", done_at=now)
        )
        result = {**_as_json(row), "state": "done", "messages": sent}
    svc.wake_relay()
    return result
