"""Ringeopgave: a call task, when a message cannot reach the citizen in writing.

Two doors lead here: a message whose content may not go by SMS to a citizen who
takes SMS only (sensitive, or over the segment limit: there is no secure inbox
to point to), and a message that did not reach the citizen when no other
channel (an e-mail notice) can carry it: a delivery report that says failed or
expired, a gateway that refused it for good or was given up on after its
retries, a citizen with no mobile number, an e-mail that could not go
(:func:`bot.domain.delivery.fall_back`, the one fallback path). Each makes one
open task on the case owner's list, due at the team's opening on the next
working day, and one "call_task" journal entry. A covering colleague sees it
while the owner is away (``scheduler.store.works_for``). Each reason has its
own title, in plain Danish (below).

A closed case still gets the task, on its owner's list: the message was meant
for the family, and the owner knows them. A message on no case (the
municipality's unassigned queue: an unknown number, a shared phone not yet
sorted) gets the journal entry on the unassigned chain only: a task belongs to
a case (``followup_tasks.case_id``), and there is no front-desk task list; the
message itself stays in the unassigned queue, where the front desk sees it.

Idempotent: the task's ``dedupe_key`` is ``call:<message id>`` and unique, so a
retried delivery report or a second relay pass over the same message finds the
task it made and adds nothing.

One call reaches a family about everything that did not: while a call task for
the same person on the same case is open, a further message that cannot reach
them (a family with no mobile number who reads the secure inbox gets every
answer that way) adds no second task; its own journal entry says it waits for
that call (:data:`SAME_CALL`). Once the caseworker has closed the task, the
next such message opens a new one.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.services import Services
from bot.domain.routing import team_calendar
from bot.store.schema.core import cases, messages, teams
from bot.store.schema.scheduler import followup_tasks
from journal.journal import append
from scheduler.quiet import local_instant
from scheduler.store import add_task, local_date

log = logging.getLogger(__name__)

# Plain words, never personal data: they are the task's title and the journal's subject.
UNDELIVERED = "SMS kunne ikke leveres: ring til borgeren"
REFUSED = "SMS afvist af SMS-udbyderen: ring til borgeren"
GIVEN_UP = "SMS kunne ikke sendes, heller ikke efter flere forsøg: ring til borgeren"
NO_PHONE = "Borgeren har intet mobilnummer: kontakt borgeren på anden måde"
EMAIL_FAILED = "E-mail til borgeren kunne ikke sendes: ring til borgeren"
HELD_SENSITIVE = "Følsom besked ikke sendt på SMS: ring til borgeren"
HELD_TOO_LONG = "Beskeden er for lang til SMS: ring til borgeren"
# A message that joins the person's open call task, said after its own reason.
SAME_CALL = "tages med i den åbne ringeopgave"
# Every title a call task can have (a test keeps them distinct).
TITLES = (UNDELIVERED, REFUSED, GIVEN_UP, NO_PHONE, EMAIL_FAILED, HELD_SENSITIVE, HELD_TOO_LONG)


def dedupe_key(message_id: str) -> str:
    """The one call task a message can have."""
    return f"call:{message_id}"


async def due_for_call(
    conn: AsyncConnection, svc: Services, team_id: str, at: datetime
) -> datetime:
    """The team's opening hour on the next working day after ``at`` (its closing days count)."""
    team = (
        await conn.execute(
            select(teams.c.tenant_id, teams.c.opens_at, teams.c.closes_at).where(
                teams.c.id == team_id
            )
        )
    ).one()
    calendar = await team_calendar(conn, svc, team)
    return local_instant(calendar.next_working_day(local_date(at)), calendar.opening)


async def open_call_task(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    case_id: str | None,
    message_id: str,
    subject: str,
    at: datetime,
) -> str | None:
    """Give the case's owner a call task about ``message_id`` (once), and journalise it.

    Args:
        subject: why a call is needed, in plain words (one of :data:`TITLES`).

    Returns:
        The task's id (the existing one when the message already has a task), or
        None when the message belongs to no case (the journal line on the
        unassigned chain is all there is; the module docstring says why).
    """
    key = dedupe_key(message_id)
    existing = (
        await conn.execute(select(followup_tasks.c.id).where(followup_tasks.c.dedupe_key == key))
    ).scalar_one_or_none()
    if existing is not None:
        return str(existing)
    if case_id is not None:
        joined = await _open_for_person(conn, case_id, message_id)
        if joined is not None:
            await _journal(conn, tenant_id, case_id, f"{subject} ({SAME_CALL})", at, message_id)
            return joined
    case = None
    if case_id is not None:
        case = (
            await conn.execute(
                select(cases.c.owner_id, cases.c.team_id).where(cases.c.id == case_id)
            )
        ).first()
    task_id = None
    if case_id is not None and case is not None:  # open or closed: the owner's list
        task_id = await add_task(
            conn,
            tenant_id=tenant_id,
            case_id=case_id,
            staff_id=case.owner_id,
            kind="call",
            title=subject,
            at=at,
            message_id=message_id,
            due_at=await due_for_call(conn, svc, case.team_id, at),
            dedupe_key=key,
        )
        log.info("call task %s for message %s", task_id, message_id)
    await _journal(conn, tenant_id, case_id, subject, at, message_id)
    return task_id


async def _open_for_person(conn: AsyncConnection, case_id: str, message_id: str) -> str | None:
    """The open call task on ``case_id`` for the person ``message_id`` is to, if any."""
    made_for = messages.alias("made_for")
    person = select(messages.c.person_id).where(messages.c.id == message_id).scalar_subquery()
    found = (
        await conn.execute(
            select(followup_tasks.c.id)
            .join(made_for, made_for.c.id == followup_tasks.c.message_id)
            .where(
                followup_tasks.c.case_id == case_id,
                followup_tasks.c.kind == "call",
                followup_tasks.c.state == "open",
                made_for.c.person_id == person,
            )
            .order_by(followup_tasks.c.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    return None if found is None else str(found)


async def _journal(
    conn: AsyncConnection,
    tenant_id: str,
    case_id: str | None,
    subject: str,
    at: datetime,
    message_id: str,
) -> None:
    await append(
        conn,
        tenant_id=tenant_id,
        case_id=case_id,
        kind="call_task",
        direction="internal",
        channel="system",
        subject=subject,
        actor="system",
        at=at,
        message_id=message_id,
    )
