"""Urgent messages are never let go until someone at the other end picks them up.

An urgent message pages whoever must answer it (a notice to their work phone,
never the content). If nobody acknowledges within the team's limit (15
minutes by default) it escalates: the colleague on duty, then the team lead,
then the after-hours line (døgnvagt), which is paged again at every interval
until someone acknowledges. Each step is journalised. The state lives on the
message row, so a restart resumes an escalation where it was.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base import metrics
from bot.base.errors import NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.domain.routing import front_desk, is_available, local_day, on_duty, team_lead
from bot.store.events import emit
from bot.store.schema.core import cases, messages, outbox, staff, staff_notices, teams
from journal.journal import append

log = logging.getLogger(__name__)

LEVELS = {1: "on_duty", 2: "lead", 3: "after_hours"}
LEVEL_SUBJECTS = {
    1: "Akut besked eskaleret til vagthavende kollega",
    2: "Akut besked eskaleret til teamleder",
    3: "Akut besked eskaleret til døgnvagten",
}
NOTICE_TEXTS = {
    "urgent": "Tovholder: en akut besked venter på dig ({case}). Log ind og kvittér, "
    "eller svar OK på denne SMS.",
    "escalation": "Tovholder: en akut besked er ikke kvitteret ({case}). Den er nu sendt "
    "til dig. Svar OK for at kvittere.",
    "reminder": "Tovholder: en borger venter på svar ({case}). Svarfristen udløber snart.",
    "breach": "Tovholder: svarfristen er overskredet for en besked ({case}).",
    "while_away": "Tovholder: mens du var væk, kom en akut besked ({case}). Den blev sendt "
    "videre med det samme. Se den i indbakken.",
}


async def page(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    team_id: str,
    staff_id: str | None,
    message_id: str | None,
    kind: str,
    at: datetime,
    send_at: datetime | None = None,
) -> str:
    """Queue a notice to a staff member's work phone (or, with no staff, the after-hours line).

    ``send_at`` holds it until then (a caseworker told when they are back).
    """
    notice_id = new_id()
    await conn.execute(
        staff_notices.insert().values(
            id=notice_id,
            tenant_id=tenant_id,
            staff_id=staff_id,
            team_id=team_id,
            message_id=message_id,
            kind=kind,
            status="queued",
            created_at=at,
        )
    )
    await conn.execute(
        outbox.insert().values(
            id=new_id(),
            tenant_id=tenant_id,
            message_id=None,
            staff_notice_id=notice_id,
            state="pending",
            attempts=0,
            next_attempt_at=send_at or at,
            created_at=at,
        )
    )
    return notice_id


def notice_text(kind: str, case_number: str | None) -> str:
    return NOTICE_TEXTS[kind].format(
        case=f"sag {case_number}" if case_number else "ukendt afsender, ingen sag"
    )


async def _target(conn: AsyncConnection, level: int, msg: Any, day: Any) -> tuple[bool, str | None]:
    """(found, staff id) for an escalation level; after-hours is (True, None) when configured."""
    if level == 1:
        duty = await on_duty(conn, msg.team_id, day)
        if duty and duty != msg.owner_id and await is_available(conn, duty, day):
            return True, duty
        return False, None
    if level == 2:
        lead = await team_lead(conn, msg.team_id)
        if lead and lead != msg.owner_id and await is_available(conn, lead, day):
            return True, lead
        return False, None
    return (msg.after_hours_phone is not None), None


async def escalate_due(svc: Services, limit: int = 50) -> int:
    """Escalate every urgent, unacknowledged message whose time is up. Safe on several workers."""
    now = svc.clock.now()
    done = 0
    async with svc.write() as conn:
        q = (
            select(
                messages.c.id,
                messages.c.tenant_id,
                messages.c.case_id,
                messages.c.owner_id,
                messages.c.escalation_level,
                cases.c.team_id,
                cases.c.number,
                teams.c.after_hours_phone,
                teams.c.escalate_after_min,
            )
            .join(cases, cases.c.id == messages.c.case_id)
            .join(teams, teams.c.id == cases.c.team_id)
            .where(
                messages.c.urgent.is_(True),
                messages.c.acknowledged_at.is_(None),
                messages.c.next_escalation_at <= now,
            )
            .order_by(messages.c.next_escalation_at)
            .limit(limit)
        )
        if not svc.sqlite:
            q = q.with_for_update(of=messages, skip_locked=True)
        # Journal heads in case order, as every writer that holds several locks them.
        for msg in sorted((await conn.execute(q)).all(), key=lambda m: m.case_id):
            await _escalate_one(conn, svc, msg, now)
            done += 1
        # Messages on no case (an unknown number) come after, on the unassigned chains.
        done += await _escalate_unassigned(conn, svc, now, limit)
    return done


async def _escalate_unassigned(
    conn: AsyncConnection, svc: Services, now: datetime, limit: int
) -> int:
    """An urgent message on no case: page whoever can act now again, one step up each time.

    Step 1 the front desk's lead, then its after-hours line (døgnvagt), paged
    again at every interval until someone acknowledges; each step journalised
    on the municipality's unassigned chain.
    """
    q = (
        select(messages.c.id, messages.c.tenant_id, messages.c.escalation_level)
        .where(
            messages.c.case_id.is_(None),
            messages.c.urgent.is_(True),
            messages.c.acknowledged_at.is_(None),
            messages.c.next_escalation_at <= now,
        )
        .order_by(messages.c.tenant_id, messages.c.next_escalation_at)
        .limit(limit)
    )
    if not svc.sqlite:
        q = q.with_for_update(of=messages, skip_locked=True)
    done = 0
    for msg in (await conn.execute(q)).all():
        desk = await front_desk(conn, svc, tenant_id=msg.tenant_id, at=now)
        level = min(msg.escalation_level + 1, 3)
        target: str | None = None
        if desk is not None:
            lead = await team_lead(conn, desk.team_id)
            if level == 1 and lead is not None and lead != desk.staff_id:
                target = lead
            elif desk.after_hours_phone is None:
                target = desk.staff_id or lead
            await page(
                conn,
                tenant_id=msg.tenant_id,
                team_id=desk.team_id,
                staff_id=target,
                message_id=msg.id,
                kind="escalation",
                at=now,
            )
        await conn.execute(
            update(messages)
            .where(messages.c.id == msg.id)
            .values(
                escalation_level=level,
                next_escalation_at=now + timedelta(minutes=desk.escalate_after_min if desk else 15),
            )
        )
        await append(
            conn,
            tenant_id=msg.tenant_id,
            case_id=None,
            kind="escalation",
            direction="internal",
            channel="system",
            subject=(
                "Akut besked uden sag eskaleret"
                if desk is not None
                else "Akut besked uden sag: ingen at kalde"
            ),
            actor="system",
            at=now,
            message_id=msg.id,
        )
        metrics.escalated()
        done += 1
    return done


async def _escalate_one(conn: AsyncConnection, svc: Services, msg: Any, now: datetime) -> None:
    day = local_day(now)
    level = msg.escalation_level
    target: str | None = None
    while True:
        level = min(level + 1, 3)
        found, target = await _target(conn, level, msg, day)
        if found or level == 3:
            break
    values: dict[str, Any] = {
        "escalation_level": level,
        "next_escalation_at": now + timedelta(minutes=msg.escalate_after_min),
    }
    if target is not None:
        values["owner_id"] = target
    await conn.execute(update(messages).where(messages.c.id == msg.id).values(**values))
    if level == 3 and msg.after_hours_phone is None:
        subject = "Akut besked ikke kvitteret, og teamet har ingen døgnvagt"
        log.warning("urgent message %s: nobody left to escalate to", msg.id)
    else:
        subject = LEVEL_SUBJECTS[level]
        await page(
            conn,
            tenant_id=msg.tenant_id,
            team_id=msg.team_id,
            staff_id=target,
            message_id=msg.id,
            kind="escalation",
            at=now,
        )
    await emit(
        conn,
        tenant_id=msg.tenant_id,
        event="urgent.escalated",
        payload={"message_id": msg.id, "case_id": msg.case_id, "level": level},
        at=now,
    )
    metrics.escalated()
    await append(
        conn,
        tenant_id=msg.tenant_id,
        case_id=msg.case_id,
        kind="escalation",
        direction="internal",
        channel="system",
        subject=subject,
        actor="system",
        at=now,
        message_id=msg.id,
    )


async def acknowledge(
    conn: AsyncConnection, svc: Services, *, message_id: str, staff_id: str | None, via: str
) -> bool:
    """Someone picked the urgent message up: stop escalating. Returns False if already done."""
    now = svc.clock.now()
    msg = (
        await conn.execute(
            select(
                messages.c.id,
                messages.c.tenant_id,
                messages.c.case_id,
                messages.c.urgent,
                messages.c.acknowledged_at,
            ).where(messages.c.id == message_id)
        )
    ).first()
    if msg is None or not msg.urgent:
        raise NotFound("No urgent message to acknowledge", code="message_not_found")
    if msg.acknowledged_at is not None:
        return False
    await conn.execute(
        update(messages)
        .where(messages.c.id == message_id)
        .values(acknowledged_at=now, acknowledged_by=staff_id, next_escalation_at=None)
    )
    await append(
        conn,
        tenant_id=msg.tenant_id,
        case_id=msg.case_id,
        kind="acknowledged",
        direction="internal",
        channel=via,
        subject="Akut besked kvitteret",
        actor=f"staff:{staff_id}" if staff_id else via,
        at=now,
        message_id=message_id,
    )
    return True


async def acknowledge_by_sms(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    phone_index: str,
    after_hours_number: str,
) -> bool | None:
    """ "OK" from a registered work phone or an after-hours line acknowledges its latest page.

    Returns None when the number is neither (the SMS is an ordinary inbound one).
    """
    staff_id = (
        await conn.execute(
            select(staff.c.id).where(
                staff.c.tenant_id == tenant_id, staff.c.work_phone_index == phone_index
            )
        )
    ).scalar_one_or_none()
    notice_filter = (
        staff_notices.c.staff_id == staff_id
        if staff_id is not None
        else staff_notices.c.team_id.in_(
            select(teams.c.id).where(
                teams.c.tenant_id == tenant_id, teams.c.after_hours_phone == after_hours_number
            )
        )
    )
    if staff_id is None:
        is_line = (
            await conn.execute(
                select(teams.c.id)
                .where(
                    teams.c.tenant_id == tenant_id, teams.c.after_hours_phone == after_hours_number
                )
                .limit(1)
            )
        ).first()
        if is_line is None:
            return None
    latest = (
        await conn.execute(
            select(staff_notices.c.message_id)
            .join(messages, messages.c.id == staff_notices.c.message_id)
            .where(
                notice_filter,
                staff_notices.c.tenant_id == tenant_id,
                messages.c.urgent.is_(True),
                messages.c.acknowledged_at.is_(None),
            )
            .order_by(staff_notices.c.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if latest is None:
        return False
    return await acknowledge(conn, svc, message_id=latest, staff_id=staff_id, via="sms")
