"""Opgaver: follow-up tasks for staff, and the one-click "still working on it" update.

Kinds: ``nudge`` (no news to the citizen for a while), ``promise_due`` /
``promise_broken``, ``appointment_move`` / ``appointment_cancel`` (the citizen
texted FLYT or AFLYS), ``call`` (``scheduler.calltasks``) and ``letter_failed``
(``bot.domain.letters``: closing it marks the letter's failure seen). Who sees a task:
the staff member it is on, the colleague covering for them while they are away
(``scheduler.store.works_for``) and the team's lead. Closing one is journalised
on its case, with what happened (sealed) when the caseworker says; a call task
cannot be closed without it ("ringede, talte med mor").
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import unseal
from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain import letters
from bot.domain.outbound import queue_sms
from bot.store.schema.core import cases, messages, persons
from bot.store.schema.scheduler import appointments, followup_tasks
from scheduler.casetypes import policy_for_case, timeline_policy
from scheduler.milestones import next_expected, steps_of
from scheduler.store import (
    case_key,
    conversation_for,
    entitled_people,
    local_date,
    note,
    require_open,
    works_for,
)
from scheduler.templates import say, speaks, title

DEFAULT_NUDGE_DAYS = 10
# What a caseworker may write about how a task ended (sealed in the journal).
OUTCOME_MAX = 500
# Closing these needs a word on what happened.
NEEDS_OUTCOME = frozenset({"call"})
APPOINTMENT_KINDS = ("appointment_move", "appointment_cancel")


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
    sent = []
    for person in people:
        conv_id = await conversation_for(
            conn, tenant_id=case.tenant_id, case_id=case.id, person_id=person.person_id, at=now
        )
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
                subject="Opdatering til borger: vi arbejder stadig på sagen",
                language=person.language,
            )
        )
    return sent


def _mine(user: StaffUser) -> Any:
    own = works_for(user, followup_tasks.c.staff_id)
    if user.role in ("lead", "admin"):
        return and_(
            followup_tasks.c.tenant_id == user.tenant_id,
            or_(own, cases.c.team_id == user.team_id),
        )
    return and_(followup_tasks.c.tenant_id == user.tenant_id, own)


def _actions(kind: str) -> list[str]:
    if kind == "nudge":
        return ["send_still_working", "done", "outcome"]
    if kind in NEEDS_OUTCOME:
        return ["outcome"]
    return ["done", "outcome"]


def _as_json(r: Any, user: StaffUser | None = None) -> dict[str, Any]:
    due = r.due_at
    return {
        "id": r.id,
        "kind": r.kind,
        "case_id": r.case_id,
        "case_number": r.number,
        "staff_id": r.staff_id,
        "covering": user is not None and r.staff_id != user.id,
        "title": r.title,
        "ref_id": r.ref_id,
        "message_id": r.message_id,
        "conversation_id": getattr(r, "conversation_id", None),
        "state": r.state,
        "created_at": r.created_at.isoformat(),
        "due_at": due.isoformat() if due is not None else None,
        "actions": _actions(r.kind),
    }


def _task_query() -> Any:
    return (
        select(
            followup_tasks,
            cases.c.number,
            cases.c.dek.label("case_dek"),
            messages.c.conversation_id,
            messages.c.person_id,
        )
        .join(cases, cases.c.id == followup_tasks.c.case_id)
        .outerjoin(messages, messages.c.id == followup_tasks.c.message_id)
    )


async def _appointments(conn: AsyncConnection, svc: Services, rows: list[Any]) -> dict[str, Any]:
    """task id -> the appointment a FLYT/AFLYS task is about (when, where), place unsealed."""
    # Several tasks may be about one appointment (FLYT from one parent, AFLYS from the other).
    wanted: dict[str, list[Any]] = {}
    for r in rows:
        if r.kind in APPOINTMENT_KINDS and r.ref_id:
            wanted.setdefault(r.ref_id, []).append(r)
    if not wanted:
        return {}
    found = await conn.execute(
        select(
            appointments.c.id,
            appointments.c.starts_at,
            appointments.c.place_enc,
            appointments.c.status,
        ).where(appointments.c.id.in_(sorted(wanted)))
    )
    result = {}
    for a in found:
        tasks = wanted[a.id]
        place = None
        if a.place_enc is not None:
            key = case_key(svc, tasks[0].case_id, tasks[0].case_dek)
            place = svc.unseal(key.dek, "appointments", a.id, "place", a.place_enc)
        for task in tasks:
            result[task.id] = {
                "id": a.id,
                "starts_at": a.starts_at.isoformat(),
                "place": place,
                "status": a.status,
            }
    return result


async def _contacts(conn: AsyncConnection, svc: Services, rows: list[Any]) -> dict[str, Any]:
    """task id -> whom a call task is to call (name and number, unsealed for the page)."""
    wanted = {r.person_id: r for r in rows if r.kind == "call" and r.person_id}
    if not wanted:
        return {}
    people = {
        p.id: p
        for p in await conn.execute(
            select(persons.c.id, persons.c.dek, persons.c.name_enc, persons.c.phone_enc).where(
                persons.c.id.in_(sorted(wanted))
            )
        )
    }
    result = {}
    for r in rows:
        p = people.get(r.person_id) if r.kind == "call" else None
        if p is None:
            continue
        dek = svc.dek("persons", p.id, p.dek)
        name = unseal(dek, p.name_enc, f"persons:{p.id}:name") if p.name_enc else None
        phone = unseal(dek, p.phone_enc, f"persons:{p.id}:phone") if p.phone_enc else None
        result[r.id] = {"name": name, "phone": phone}
    return result


async def list_tasks(
    svc: Services, user: StaffUser, *, state: str = "open", contacts: bool = False
) -> list[dict[str, Any]]:
    """My open tasks (a covering colleague's too, a lead's team's), due first, then oldest.

    Args:
        contacts: for the page, the name and number a call task is to call.
    """
    async with svc.read() as conn:
        rows = list(
            await conn.execute(
                _task_query()
                .where(_mine(user), followup_tasks.c.state == state)
                .order_by(
                    followup_tasks.c.due_at.is_(None),
                    followup_tasks.c.due_at,
                    followup_tasks.c.created_at,
                    followup_tasks.c.id,
                )
            )
        )
        appts = await _appointments(conn, svc, rows)
        people = await _contacts(conn, svc, rows) if contacts else {}
        failed = (
            await letters.failure_notes(
                conn,
                svc,
                user.tenant_id,
                [r.ref_id for r in rows if r.kind == letters.TASK_KIND and r.ref_id],
            )
            if contacts
            else {}
        )
    items = []
    for r in rows:
        item = _as_json(r, user)
        if r.kind in APPOINTMENT_KINDS:
            item["appointment"] = appts.get(r.id)
        if contacts and r.kind == "call":
            item["contact"] = people.get(r.id)
        if r.ref_id in failed:
            item["letter"] = failed[r.ref_id]
        items.append(item)
    return items


async def count_open(svc: Services, user: StaffUser) -> dict[str, int]:
    """How many open tasks the user sees, and how many of them are due (for the inbox)."""
    now = svc.clock.now()
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(
                    func.count(),
                    func.count(followup_tasks.c.due_at).filter(followup_tasks.c.due_at <= now),
                )
                .select_from(followup_tasks.join(cases, cases.c.id == followup_tasks.c.case_id))
                .where(_mine(user), followup_tasks.c.state == "open")
            )
        ).one()
    return {"open": int(row[0]), "due": int(row[1])}


async def _task(conn: AsyncConnection, user: StaffUser, task_id: str) -> Any:
    row = (
        await conn.execute(_task_query().where(followup_tasks.c.id == task_id, _mine(user)))
    ).first()
    if row is None:
        raise NotFound("No such task", code="task_not_found")
    if row.state != "open":
        raise Conflict("The task is already done", code="task_done")
    return row


def _outcome(kind: str, outcome: str | None) -> str | None:
    text = (outcome or "").strip() or None
    if text is None and kind in NEEDS_OUTCOME:
        raise BadInput(
            "Say what happened (e.g. who you talked to) to close a call task",
            code="outcome_required",
        )
    if text is not None and len(text) > OUTCOME_MAX:
        raise BadInput(f"At most {OUTCOME_MAX} characters", code="outcome_too_long")
    return text


async def _close(
    conn: AsyncConnection,
    svc: Services,
    user: StaffUser,
    row: Any,
    *,
    at: datetime,
    outcome: str | None,
    subject: str | None = None,
) -> None:
    """Close an open task (only once: a second click finds it done) and journalise it."""
    done = await conn.execute(
        update(followup_tasks)
        .where(followup_tasks.c.id == row.id, followup_tasks.c.state == "open")
        .values(state="done", done_at=at)
    )
    if done.rowcount != 1:
        raise Conflict("The task is already done", code="task_done")
    if row.kind == letters.TASK_KIND and row.ref_id:
        # The task is the caseworker seeing the failed letter: it leaves the unseen list.
        with suppress(NotFound):  # no longer a failed letter: nothing left to mark
            await letters.failure_seen_in(conn, svc, row.tenant_id, row.ref_id, user.id)
    await note(
        conn,
        tenant_id=row.tenant_id,
        case_id=row.case_id,
        kind="call_done" if row.kind == "call" else "task_done",
        subject=subject or f"Opgave afsluttet: {row.title}",
        at=at,
        actor=f"staff:{user.id}",
        content=outcome,
        key=case_key(svc, row.case_id, row.case_dek) if outcome is not None else None,
        message_id=row.message_id,
    )


async def complete_task(
    svc: Services, user: StaffUser, task_id: str, outcome: str | None = None
) -> dict[str, Any]:
    """Close a task, journalising what happened (required for a call task).

    Raises:
        NotFound: not a task this user sees (``task_not_found``).
        Conflict: already closed (``task_done``).
        BadInput: a call task without an outcome (``outcome_required``), or one too long.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        row = await _task(conn, user, task_id)
        text = _outcome(row.kind, outcome)
        await _close(conn, svc, user, row, at=now, outcome=text)
        return {**_as_json(row, user), "state": "done", "outcome_recorded": text is not None}


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
        await _close(
            conn,
            svc,
            user,
            row,
            at=now,
            outcome=None,
            subject="Opgave afsluttet: opdatering til borgeren",
        )
        result = {**_as_json(row, user), "state": "done", "messages": sent}
    svc.wake_relay()
    return result
