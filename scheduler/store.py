"""Shared storage helpers for track-and-trace: access, keys, threads, reminders, tasks.

Access: a caseworker works on the cases they own and, while a colleague is
away and named them substitute, on that colleague's cases (covering); a team
lead (or admin) also on their team's cases. Anything else is "not found".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey
from bot.base.errors import ApiError, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.outbound import withdraw_sms
from bot.store.schema.core import (
    absences,
    cases,
    conversations,
    outbox,
    participants,
    persons,
    staff,
)
from bot.store.schema.scheduler import followup_tasks, reminders
from journal.journal import append
from scheduler.quiet import QuietSettings, allowed_send_time, local_instant

# Reminders to citizens go out at this local time on the day the offset names.
REMINDER_TIME = time(10, 0)


class CaseClosed(ApiError):
    status = 409
    code = "case_closed"


def local_date(at: datetime) -> date:
    """The Copenhagen calendar date of an instant."""
    return at.astimezone(COPENHAGEN).date()


def at_ten(d: date) -> datetime:
    """10:00 local on ``d``, as UTC."""
    return local_instant(d, REMINDER_TIME)


def works_for(user: StaffUser, staff_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """``staff_id`` is the user, or a colleague away today who named the user substitute.

    The one covering rule: a substitute works on the absent owner's cases (thread,
    timeline, send-later, notes, tasks) for exactly the days of the absence.
    """
    mine = staff_id == user.id
    if user.today is None:
        return mine
    covered = select(absences.c.staff_id).where(
        absences.c.tenant_id == user.tenant_id,
        absences.c.substitute_id == user.id,
        absences.c.starts_on <= user.today,
        absences.c.ends_on >= user.today,
    )
    return or_(mine, staff_id.in_(covered))


def case_visible(user: StaffUser) -> ColumnElement[bool]:
    """Which cases this staff member works on: own, covered (see ``works_for``), team (leads)."""
    mine = works_for(user, cases.c.owner_id)
    # A case removed at the end of its retention period is a tombstone: no one sees it.
    kept = cases.c.status != "removed"
    if user.role in ("lead", "admin"):
        return and_(
            cases.c.tenant_id == user.tenant_id, kept, or_(mine, cases.c.team_id == user.team_id)
        )
    return and_(cases.c.tenant_id == user.tenant_id, kept, mine)


async def person_visible(conn: AsyncConnection, user: StaffUser, person_id: str) -> None:
    """Refuse (404) a person who is on none of the cases ``user`` may see."""
    found = (
        await conn.execute(
            select(participants.c.id)
            .join(cases, cases.c.id == participants.c.case_id)
            .join(persons, persons.c.id == participants.c.person_id)
            .where(participants.c.person_id == person_id, case_visible(user))
            .limit(1)
        )
    ).first()
    if found is None:
        raise NotFound("No such person", code="person_not_found")


async def works_on(conn: AsyncConnection, user: StaffUser, case_id: str) -> bool:
    """Whether this user works on the case (:func:`case_visible`: own, covered, team lead)."""
    found = await conn.execute(select(cases.c.id).where(cases.c.id == case_id, case_visible(user)))
    return found.first() is not None


async def case_for(conn: AsyncConnection, user: StaffUser, case_id: str) -> Any:
    """The case row if this user works on it (404 otherwise, also for other tenants)."""
    row = (
        await conn.execute(select(cases).where(cases.c.id == case_id, case_visible(user)))
    ).first()
    if row is None:
        raise NotFound("No such case", code="case_not_found")
    return row


def require_open(case: Any) -> None:
    if case.status != "open":
        raise CaseClosed("The case is closed")


def case_key(svc: Services, case_id: str, wrapped: bytes) -> SealingKey:
    """The case's data key, from its wrapped form in ``cases.dek``."""
    return SealingKey("case", case_id, svc.dek("cases", case_id, wrapped))


async def entitled_people(conn: AsyncConnection, case_id: str) -> list[Any]:
    """Entitled participants of a case who can get an SMS: (person_id, language)."""
    rows = await conn.execute(
        select(participants.c.person_id, persons.c.language)
        .join(persons, persons.c.id == participants.c.person_id)
        .where(
            participants.c.case_id == case_id,
            participants.c.entitled.is_(True),
            persons.c.phone_enc.is_not(None),
        )
        .order_by(participants.c.created_at, participants.c.person_id)
    )
    return list(rows)


async def conversation_for(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    case_id: str,
    person_id: str,
    at: datetime,
    touch: bool = False,
) -> str:
    """The thread between a case and a person, created when there is none yet.

    Args:
        touch: mark a thread found as active ``at`` (something is being written to it).
    """
    conv_id = (
        await conn.execute(
            select(conversations.c.id)
            .where(
                conversations.c.tenant_id == tenant_id,
                conversations.c.case_id == case_id,
                conversations.c.person_id == person_id,
            )
            .order_by(conversations.c.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if conv_id is not None:
        if touch:
            await conn.execute(
                update(conversations)
                .where(conversations.c.id == conv_id)
                .values(last_activity_at=at)
            )
        return str(conv_id)
    conv_id = new_id()
    await conn.execute(
        conversations.insert().values(
            id=conv_id,
            tenant_id=tenant_id,
            case_id=case_id,
            person_id=person_id,
            last_activity_at=at,
            created_at=at,
        )
    )
    return conv_id


async def note(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    case_id: str,
    kind: str,
    subject: str,
    at: datetime,
    actor: str = "system",
    content: str | None = None,
    key: SealingKey | None = None,
    message_id: str | None = None,
    channel: str | None = None,
) -> str:
    """Journalise an internal event on the case (milestone, reminder skipped, task …)."""
    return await append(
        conn,
        tenant_id=tenant_id,
        case_id=case_id,
        kind=kind,
        direction="internal",
        channel=channel or ("system" if actor == "system" else "api"),
        subject=subject[:200],
        actor=actor,
        at=at,
        content=content,
        key=key if content is not None else None,
        message_id=message_id,
    )


async def add_reminder(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    case_id: str,
    kind: str,
    ref_id: str | None,
    nominal_at: datetime,
    now: datetime,
    person_id: str | None = None,
    conversation_id: str | None = None,
    staff_id: str | None = None,
    event_at: datetime | None = None,
    expires_at: datetime | None = None,
    quiet: QuietSettings | None = None,
    dedupe_key: str | None = None,
) -> str | None:
    """Store one reminder row, moved out of quiet hours when it goes to a citizen.

    Returns:
        Its id, or None when it would be too late already (nothing stored).
    """
    due = nominal_at
    if quiet is not None:
        due = allowed_send_time(nominal_at, quiet, svc.calendar, event_at)
    due = max(due, now)
    if expires_at is not None and due >= expires_at:
        return None
    rid = new_id()
    await conn.execute(
        reminders.insert().values(
            id=rid,
            tenant_id=tenant_id,
            case_id=case_id,
            kind=kind,
            ref_id=ref_id,
            person_id=person_id,
            conversation_id=conversation_id,
            staff_id=staff_id,
            nominal_at=nominal_at,
            due_at=due,
            event_at=event_at,
            expires_at=expires_at,
            state="pending",
            attempts=0,
            dedupe_key=dedupe_key,
            created_at=now,
        )
    )
    return rid


async def withdraw_reminders(
    conn: AsyncConnection, *, ref_id: str, at: datetime, reason: str
) -> int:
    """Withdraw every reminder about ``ref_id`` that has not gone out.

    Pending rows are marked withdrawn; an SMS a reminder already queued but the
    relay has not handed to the gateway is withdrawn from the outbox too, so
    no stale reminder ever goes out.

    Returns:
        How many reminders were stopped.
    """
    pending = await conn.execute(
        update(reminders)
        .where(reminders.c.ref_id == ref_id, reminders.c.state == "pending")
        .values(state="withdrawn", outcome=reason[:48], done_at=at, dedupe_key=None)
    )
    stopped = int(pending.rowcount or 0)
    queued = (
        await conn.execute(
            select(reminders.c.message_id)
            .join(outbox, outbox.c.message_id == reminders.c.message_id)
            .where(
                reminders.c.ref_id == ref_id,
                reminders.c.state == "sent",
                outbox.c.state == "pending",
            )
        )
    ).scalars()
    for message_id in list(queued):
        if await withdraw_sms(conn, message_id=message_id, at=at, reason=reason):
            stopped += 1
    return stopped


async def add_task(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    case_id: str,
    staff_id: str,
    kind: str,
    title: str,
    at: datetime,
    ref_id: str | None = None,
    message_id: str | None = None,
    due_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> str:
    """Give a staff member a follow-up task (opgave).

    Args:
        due_at: when it should be done (None: no date).
        dedupe_key: unique per cause; a second task with the same key is refused
            by the database (callers look first, see ``scheduler.calltasks``).
    """
    tid = new_id()
    await conn.execute(
        followup_tasks.insert().values(
            id=tid,
            tenant_id=tenant_id,
            case_id=case_id,
            staff_id=staff_id,
            kind=kind,
            ref_id=ref_id,
            message_id=message_id,
            title=title[:200],
            state="open",
            created_at=at,
            due_at=due_at,
            dedupe_key=dedupe_key,
        )
    )
    return tid


async def close_tasks_for(conn: AsyncConnection, *, kind: str, ref_id: str, at: datetime) -> int:
    """Close the open tasks of one kind about one thing (its cause was dealt with elsewhere)."""
    done = await conn.execute(
        update(followup_tasks)
        .where(
            followup_tasks.c.kind == kind,
            followup_tasks.c.ref_id == ref_id,
            followup_tasks.c.state == "open",
        )
        .values(state="done", done_at=at)
    )
    return int(done.rowcount or 0)


async def team_leads(conn: AsyncConnection, team_id: str) -> list[str]:
    """Active team leads of a team."""
    rows = await conn.execute(
        select(staff.c.id)
        .where(staff.c.team_id == team_id, staff.c.role == "lead", staff.c.active.is_(True))
        .order_by(staff.c.id)
    )
    return [str(r) for r in rows.scalars()]


def ids_in(values: Iterable[str | None]) -> list[str]:
    """Distinct non-empty ids, in a stable order."""
    return sorted({v for v in values if v})
