"""Ledelsesoverblik: what a team lead (or an admin) watches over their teams.

Open urgent messages and their escalation step, breaches of the reply
guarantee in a week, the guarantee's figures per team and ISO week, and the
duty roster's gaps. Nothing here decrypts a citizen's message: the lead sees
case numbers and times, and opens the thread (access-logged) to read.

The figures are :func:`bot.domain.guarantee.reply_stats` (the same function
as the API's ``/api/v1/teams/{id}/reply-stats``) and the gaps are
:func:`bot.domain.staffing.roster`'s: one calculation each.

Who sees what: a lead their own team, an admin every team of the
municipality; anyone else, or a team of another municipality, is "not found".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.clock import COPENHAGEN
from bot.base.crypto import unseal
from bot.base.errors import BadInput, NotFound
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain import staffing
from bot.domain.escalation import LEVELS
from bot.domain.guarantee import reply_stats
from bot.store.schema.core import cases, messages, staff, teams

LEAD_ROLES = ("lead", "admin")
FIGURE_WEEKS = 8  # the chosen week and the seven before it
GAP_DAYS = 28
_WEEK = re.compile(r"(\d{4})-W(\d{2})")

__all__ = [
    "FIGURE_WEEKS",
    "GAP_DAYS",
    "LEVELS",
    "Breach",
    "GapRun",
    "IsoWeek",
    "Team",
    "UrgentOpen",
    "breaches",
    "figures",
    "gap_runs",
    "may_lead",
    "parse_week",
    "roster_gaps",
    "staff_names",
    "teams_for",
    "urgent_open",
]


@dataclass(frozen=True, slots=True)
class IsoWeek:
    """One ISO week (uge), Monday to Sunday in Copenhagen."""

    year: int
    week: int

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def label(self) -> str:
        """``2025-W08``, as the API's figures name weeks."""
        return f"{self.year}-W{self.week:02d}"

    def start(self) -> datetime:
        return datetime.combine(self.monday, time.min, COPENHAGEN)

    def end(self) -> datetime:
        return datetime.combine(self.monday + timedelta(days=7), time.min, COPENHAGEN)

    def back(self, weeks: int) -> IsoWeek:
        earlier = self.monday - timedelta(weeks=weeks)
        y, w, _ = earlier.isocalendar()
        return IsoWeek(y, w)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        y, w, _ = day.isocalendar()
        return cls(y, w)


def parse_week(value: str | None, today: date) -> IsoWeek:
    """``2025-W08`` (or nothing: this week). Refused: any other form, a week that does not
    exist, one before 2000 or one that has not begun (400 ``bad_week``)."""
    if value is None or value == "":
        return IsoWeek.of(today)
    found = _WEEK.fullmatch(value.strip())
    if found is None:
        raise BadInput("The week is written 2025-W08", code="bad_week")
    year, week = int(found.group(1)), int(found.group(2))
    try:
        chosen = IsoWeek(year, week)
        monday = chosen.monday
    except ValueError as exc:
        raise BadInput("No such week", code="bad_week") from exc
    if year < 2000 or monday > today:
        raise BadInput("The week is outside what can be shown", code="bad_week")
    return chosen


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str
    own: bool  # the viewer's own team: its threads open from here


def may_lead(user: StaffUser) -> bool:
    return user.role in LEAD_ROLES


async def teams_for(svc: Services, user: StaffUser, only: str | None = None) -> list[Team]:
    """The teams this user leads: a lead's own, an admin's whole municipality (by name).

    Args:
        only: one team id (a filter); it must be one of them.

    Raises:
        NotFound: not a lead or an admin, or ``only`` is not one of their teams.
    """
    if not may_lead(user):
        raise NotFound("No such page", code="not_found")
    q = select(teams.c.id, teams.c.name).where(teams.c.tenant_id == user.tenant_id)
    if user.role == "lead":
        q = q.where(teams.c.id == user.team_id)
    if only is not None:
        q = q.where(teams.c.id == only)
    async with svc.read() as conn:
        rows = (await conn.execute(q.order_by(teams.c.name, teams.c.id))).all()
    if only is not None and not rows:
        raise NotFound("No such team", code="team_not_found")
    return [Team(r.id, r.name, r.id == user.team_id) for r in rows]


@dataclass(frozen=True, slots=True)
class UrgentOpen:
    """An urgent message nobody has acknowledged yet, and how far it has escalated."""

    message_id: str
    conversation_id: str
    team_id: str
    case_number: str
    received_at: datetime
    level: int  # 0: with the owner; 1 on duty, 2 lead, 3 after-hours line (LEVELS)
    owner_id: str | None
    next_escalation_at: datetime | None


def _scope(user: StaffUser, team_ids: list[str]) -> Any:
    return and_(cases.c.tenant_id == user.tenant_id, cases.c.team_id.in_(team_ids))


async def urgent_open(svc: Services, user: StaffUser, team_list: list[Team]) -> list[UrgentOpen]:
    """Urgent messages still escalating (not acknowledged, not closed), oldest first."""
    q = (
        select(
            messages.c.id,
            messages.c.conversation_id,
            messages.c.created_at,
            messages.c.escalation_level,
            messages.c.owner_id,
            messages.c.next_escalation_at,
            cases.c.team_id,
            cases.c.number,
        )
        .join(cases, cases.c.id == messages.c.case_id)
        .where(
            _scope(user, [t.id for t in team_list]),
            messages.c.tenant_id == user.tenant_id,
            messages.c.urgent.is_(True),
            messages.c.acknowledged_at.is_(None),
            or_(messages.c.awaiting_reply.is_(True), messages.c.next_escalation_at.is_not(None)),
        )
        .order_by(messages.c.created_at, messages.c.id)
    )
    async with svc.read() as conn:
        rows = (await conn.execute(q)).all()
    return [
        UrgentOpen(
            r.id,
            r.conversation_id,
            r.team_id,
            r.number,
            r.created_at,
            r.escalation_level,
            r.owner_id,
            r.next_escalation_at,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Breach:
    """A message whose reply-by passed in the week without an answer in time."""

    message_id: str
    conversation_id: str
    team_id: str
    case_number: str
    received_at: datetime
    reply_by: datetime
    answered_at: datetime | None
    owner_id: str | None


async def breaches(
    svc: Services, user: StaffUser, team_list: list[Team], week: IsoWeek
) -> list[Breach]:
    """Messages whose reply-by fell in ``week`` (and has passed) with no reply by then.

    The same rule as the figures' "within the guarantee" (answered at or before
    the reply-by), counted by the week the deadline ran out, not when it came in.
    """
    now = svc.clock.now()
    until = min(week.end(), now)
    q = (
        select(
            messages.c.id,
            messages.c.conversation_id,
            messages.c.created_at,
            messages.c.reply_by,
            messages.c.answered_at,
            messages.c.owner_id,
            cases.c.team_id,
            cases.c.number,
        )
        .join(cases, cases.c.id == messages.c.case_id)
        .where(
            _scope(user, [t.id for t in team_list]),
            messages.c.tenant_id == user.tenant_id,
            messages.c.direction == "in",
            messages.c.reply_by >= week.start(),
            messages.c.reply_by < until,
            or_(messages.c.answered_at.is_(None), messages.c.answered_at > messages.c.reply_by),
        )
        .order_by(messages.c.reply_by, messages.c.id)
    )
    async with svc.read() as conn:
        rows = (await conn.execute(q)).all()
    return [
        Breach(
            r.id,
            r.conversation_id,
            r.team_id,
            r.number,
            r.created_at,
            r.reply_by,
            r.answered_at,
            r.owner_id,
        )
        for r in rows
    ]


async def figures(svc: Services, team: Team, week: IsoWeek) -> list[dict[str, Any]]:
    """The guarantee per ISO week for ``week`` and the seven before it, newest first.

    Each week is the API's row (``reply_stats``); a week with no messages is
    ``{"week": …, "messages": 0}``.
    """
    first = week.back(FIGURE_WEEKS - 1)
    rows = await reply_stats(svc, team_id=team.id, since=first.monday, until=week.sunday)
    by_week = {r["week"]: r for r in rows}
    out = []
    for back in range(FIGURE_WEEKS):
        label = week.back(back).label
        out.append(by_week.get(label, {"week": label, "messages": 0}))
    return out


@dataclass(frozen=True, slots=True)
class GapRun:
    """Working days in a row (closed days between them do not break it) with the same gap."""

    first: date
    last: date
    days: int  # working days
    reason: str  # nobody_on_roster | on_duty_is_absent (``routing.duty_gaps``)
    staff_id: str | None
    hours: str


async def roster_gaps(svc: Services, user: StaffUser, team: Team, start: date) -> list[GapRun]:
    """The gaps of the coming four weeks (``staffing.roster``), as runs of days."""
    plan = await staffing.roster(svc, user, team.id, start, GAP_DAYS)
    return gap_runs(plan["days"], plan["gaps"])


def gap_runs(days: list[dict[str, Any]], gaps: list[dict[str, str]]) -> list[GapRun]:
    """Join the roster's gap days into runs: a working day without that gap ends a run."""
    by_day = {g["day"]: g for g in gaps}
    runs: list[GapRun] = []
    open_run: GapRun | None = None
    for d in days:
        if not d["working_day"]:
            continue
        gap = by_day.get(d["day"])
        day = date.fromisoformat(d["day"])
        if gap is None:
            open_run = None
            continue
        who = gap.get("staff_id")
        if open_run is not None and (open_run.reason, open_run.staff_id) == (gap["reason"], who):
            open_run = GapRun(
                open_run.first, day, open_run.days + 1, gap["reason"], who, gap["hours"]
            )
            runs[-1] = open_run
        else:
            open_run = GapRun(day, day, 1, gap["reason"], who, gap["hours"])
            runs.append(open_run)
    return runs


async def _names(conn: AsyncConnection, svc: Services, tenant_id: str, ids: set[str]) -> Any:
    return (
        await conn.execute(
            select(staff.c.id, staff.c.dek, staff.c.full_name_enc).where(
                staff.c.tenant_id == tenant_id, staff.c.id.in_(sorted(ids))
            )
        )
    ).all()


async def staff_names(svc: Services, user: StaffUser, ids: set[str | None]) -> dict[str, str]:
    """Full names (decrypted) of these staff members of the user's municipality."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    async with svc.read() as conn:
        rows = await _names(conn, svc, user.tenant_id, wanted)
    return {
        r.id: unseal(svc.dek("staff", r.id, r.dek), r.full_name_enc, f"staff:{r.id}:full_name")
        for r in rows
    }
