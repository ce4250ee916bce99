"""Who answers: the caseworker, their substitute, the colleague on duty, or the fallback queue.

A message is never routed to nobody: when the case's caseworker is away and
neither a substitute nor anyone on the duty roster (vagtplan) is available,
it lands in the team's fallback queue (owner NULL, visible to the team lead)
and the gap is journalised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.clock import COPENHAGEN
from bot.base.services import Services
from bot.base.workdays import WorkingCalendar
from bot.store.schema.core import (
    absences,
    closing_days,
    duty_overrides,
    duty_rotation,
    staff,
    teams,
)

_CAL_TTL = 60.0


def local_day(at: datetime) -> date:
    return at.astimezone(COPENHAGEN).date()


def parse_hhmm(value: str) -> dtime:
    hours, _, minutes = value.partition(":")
    return dtime(int(hours), int(minutes))


async def team_calendar(conn: AsyncConnection, svc: Services, team: Any) -> WorkingCalendar:
    """The working calendar of a team: its opening hours and its municipality's closing days.

    Cached per process for a minute; closing days rarely change and every
    worker sees a change within that minute.
    """
    cache: dict[tuple[str, str, str], tuple[float, WorkingCalendar]] = svc.__dict__.setdefault(
        "_team_calendars", {}
    )
    key = (team.tenant_id, team.opens_at, team.closes_at)
    hit = cache.get(key)
    # Monotonic process time, not the domain clock: this is a cache lifetime.
    if hit is not None and time.monotonic() - hit[0] < _CAL_TTL:
        return hit[1]
    days = (
        await conn.execute(
            select(closing_days.c.day).where(closing_days.c.tenant_id == team.tenant_id)
        )
    ).scalars()
    calendar = WorkingCalendar(
        extra_closed=list(days),
        opening=parse_hhmm(team.opens_at),
        closing=parse_hhmm(team.closes_at),
    )
    cache[key] = (time.monotonic(), calendar)
    return calendar


def forget_calendars(svc: Services) -> None:
    svc.__dict__.pop("_team_calendars", None)


async def absence_on(conn: AsyncConnection, staff_id: str, day: date) -> Any:
    """The absence covering ``day`` for this staff member, if any (latest-ending first)."""
    return (
        await conn.execute(
            select(absences)
            .where(
                absences.c.staff_id == staff_id,
                absences.c.starts_on <= day,
                absences.c.ends_on >= day,
            )
            .order_by(absences.c.ends_on.desc())
            .limit(1)
        )
    ).first()


async def _active(conn: AsyncConnection, staff_id: str) -> bool:
    active = (
        await conn.execute(select(staff.c.active).where(staff.c.id == staff_id))
    ).scalar_one_or_none()
    return bool(active)


async def is_available(conn: AsyncConnection, staff_id: str | None, day: date) -> bool:
    if staff_id is None:
        return False
    return await _active(conn, staff_id) and await absence_on(conn, staff_id, day) is None


async def on_duty(conn: AsyncConnection, team_id: str, day: date) -> str | None:
    """Who the roster puts on duty that day: an override, else the weekly rotation."""
    override = (
        await conn.execute(
            select(duty_overrides.c.staff_id).where(
                duty_overrides.c.team_id == team_id, duty_overrides.c.day == day
            )
        )
    ).scalar_one_or_none()
    if override is not None:
        return str(override)
    rotation = (
        await conn.execute(
            select(duty_rotation.c.staff_id).where(
                and_(duty_rotation.c.team_id == team_id, duty_rotation.c.weekday == day.weekday())
            )
        )
    ).scalar_one_or_none()
    return str(rotation) if rotation is not None else None


async def team_lead(conn: AsyncConnection, team_id: str) -> str | None:
    return (
        await conn.execute(
            select(staff.c.id)
            .where(staff.c.team_id == team_id, staff.c.role == "lead", staff.c.active.is_(True))
            .order_by(staff.c.created_at, staff.c.id)
            .limit(1)
        )
    ).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class Route:
    """Where an inbound message goes.

    Attributes:
        owner_id: who must answer now; None is the team's fallback queue.
        case_owner_id: the case's caseworker (kept as the original owner).
        reason: owner | substitute | on_duty | fallback.
        back_on: when an absent caseworker is back (a working day), else None.
    """

    owner_id: str | None
    case_owner_id: str
    reason: str
    back_on: date | None

    @property
    def moved(self) -> bool:
        return self.reason != "owner"


async def route(
    conn: AsyncConnection,
    *,
    case_owner_id: str,
    team_id: str,
    at: datetime,
    calendar: WorkingCalendar,
) -> Route:
    """Decide who answers a message on a case owned by ``case_owner_id``, at ``at``."""
    day = local_day(at)
    away = await absence_on(conn, case_owner_id, day)
    if away is None and await _active(conn, case_owner_id):
        return Route(case_owner_id, case_owner_id, "owner", None)
    back_on = calendar.add_working_days(away.ends_on, 1) if away is not None else None
    if (
        away is not None
        and away.substitute_id
        and await is_available(conn, away.substitute_id, day)
    ):
        return Route(away.substitute_id, case_owner_id, "substitute", back_on)
    duty = await on_duty(conn, team_id, day)
    if duty is not None and duty != case_owner_id and await is_available(conn, duty, day):
        return Route(duty, case_owner_id, "on_duty", back_on)
    return Route(None, case_owner_id, "fallback", back_on)


@dataclass(frozen=True, slots=True)
class FrontDesk:
    """Who is paged for an urgent message that belongs to no case yet (an unknown number)."""

    team_id: str
    staff_id: str | None  # None: the team's after-hours line
    open_now: bool
    after_hours_phone: str | None
    escalate_after_min: int = 15  # the team's: how long before it is paged again


async def front_desk(
    conn: AsyncConnection, svc: Services, *, tenant_id: str, at: datetime
) -> FrontDesk | None:
    """The first team (by name) with someone who can act now on an unassigned urgent message.

    Open: its colleague on duty, else its lead. Closed: its after-hours line,
    else (nobody) None; the message still sits urgent in the unassigned queue.
    """
    rows = (
        await conn.execute(
            select(teams).where(teams.c.tenant_id == tenant_id).order_by(teams.c.name, teams.c.id)
        )
    ).all()
    day = local_day(at)
    for team in rows:
        calendar = await team_calendar(conn, svc, team)
        if not calendar.is_open(at):
            if team.after_hours_phone:
                return FrontDesk(
                    team.id, None, False, team.after_hours_phone, team.escalate_after_min
                )
            continue
        for who in (await on_duty(conn, team.id, day), await team_lead(conn, team.id)):
            if who is not None and await is_available(conn, who, day):
                return FrontDesk(
                    team.id, who, True, team.after_hours_phone, team.escalate_after_min
                )
    return None


async def duty_gaps(
    conn: AsyncConnection, *, team: Any, start: date, days: int, calendar: WorkingCalendar
) -> list[dict[str, str]]:
    """Working days in ``[start, start + days)`` when nobody available is on duty."""
    gaps = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        if not calendar.is_working_day(day):
            continue
        who = await on_duty(conn, team.id, day)
        if who is None:
            gaps.append(
                {
                    "day": day.isoformat(),
                    "hours": f"{team.opens_at}-{team.closes_at}",
                    "reason": "nobody_on_roster",
                }
            )
        elif not await is_available(conn, who, day):
            gaps.append(
                {
                    "day": day.isoformat(),
                    "hours": f"{team.opens_at}-{team.closes_at}",
                    "reason": "on_duty_is_absent",
                    "staff_id": who,
                }
            )
    return gaps


async def team_row(conn: AsyncConnection, team_id: str) -> Any:
    return (await conn.execute(select(teams).where(teams.c.id == team_id))).first()
