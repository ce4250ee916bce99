"""One inbound dispatch: who answers a citizen's message, is it urgent, who is paged.

Two doors lead here: an SMS filed on a case (bot.domain.inbound_filing) and a
citizen's reply in the secure inbox (bot.domain.citizen). Both call
:func:`decide` before the message is written (its row carries the answer, see
:func:`routing_columns`) and :func:`dispatch` once it is: the same routing,
the same triage, the same page and the same journal entries ("routed" when the
caseworker is away, "urgent" when the triage says so), whichever door it came by.
What is journalised is decided here too; the caller writes it with its own entries.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey
from bot.base.services import Services
from bot.base.workdays import WorkingCalendar
from bot.domain.escalation import page
from bot.domain.routing import FrontDesk, Route, front_desk, route, team_lead
from bot.domain.triage import DEFAULT_RISK, DEFAULT_URGENT, Triager
from bot.store.schema.core import messages, teams, triage_terms
from journal.journal import NewEntry

log = logging.getLogger(__name__)

NIGHT_LEVEL = 3  # the escalation step of the after-hours line (bot.domain.escalation.LEVELS)

ROUTE_SUBJECTS = {
    "substitute": "Sagsbehandler fraværende: besked sendt til stedfortræder",
    "on_duty": "Sagsbehandler fraværende: besked sendt til vagthavende kollega",
    "fallback": "Ingen tilgængelig: besked lagt i teamets fælles kø",
}


class RoutedCase(Protocol):
    """What routing and paging need to know about the case a message is filed on."""

    @property
    def id(self) -> str: ...

    @property
    def owner_id(self) -> str: ...

    @property
    def team_id(self) -> str: ...

    @property
    def escalate_after_min(self) -> int: ...


@dataclass(frozen=True, slots=True)
class CaseOnTeam:
    """A case as :class:`RoutedCase`, for a caller that read it piecemeal."""

    id: str
    owner_id: str  # the caseworker
    team_id: str
    escalate_after_min: int  # the team's: how long before an urgent message escalates


@dataclass(frozen=True, slots=True)
class Decision:
    """Who answers a message now, and is it urgent (decided before anything is written)."""

    route: Route
    urgent: bool
    open_now: bool  # the team is open (else an urgent receipt names the after-hours line)
    matched: tuple[str, ...] = ()  # the triage words that made it urgent
    # Urgent while the team is closed, and the team has an after-hours line: that line
    # is paged at once (the caseworker is off duty) and escalation goes on from there.
    night_line: bool = False
    # When the caseworker is back (the team's next opening, or the opening of their
    # first working day after an absence): they are told an urgent message came.
    owner_back_at: datetime | None = None


async def tenant_triager(conn: AsyncConnection, svc: Services, tenant_id: str) -> Triager:
    """The municipality's triage: the defaults plus its own words (cached a minute)."""
    cache: dict[str, tuple[float, Triager]] = svc.__dict__.setdefault("_triagers", {})
    hit = cache.get(tenant_id)
    if hit is not None and time.monotonic() - hit[0] < 60:
        return hit[1]
    rows = (
        await conn.execute(
            select(triage_terms.c.kind, triage_terms.c.term).where(
                triage_terms.c.tenant_id == tenant_id
            )
        )
    ).all()
    triager = Triager(
        urgent=[*DEFAULT_URGENT, *(r.term for r in rows if r.kind == "urgent")],
        risk=[*DEFAULT_RISK, *(r.term for r in rows if r.kind == "risk")],
    )
    cache[tenant_id] = (time.monotonic(), triager)
    return triager


async def decide(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    case: RoutedCase,
    body: str,
    at: datetime,
    calendar: WorkingCalendar,
    owner_here: bool = False,
) -> Decision:
    """Who answers a message on ``case`` now, and is it urgent (nothing is written).

    Args:
        calendar: the case's team's working calendar.
        owner_here: the caller already knows the caseworker is active and not away
            today (the SMS path reads it with the sender), so routing asks nothing.
    """
    if owner_here:
        way = Route(case.owner_id, case.owner_id, "owner", None)
    else:
        way = await route(
            conn, case_owner_id=case.owner_id, team_id=case.team_id, at=at, calendar=calendar
        )
    triage = (await tenant_triager(conn, svc, tenant_id))(body)
    open_now = calendar.is_open(at)
    if not triage.urgent or (open_now and not way.moved):
        return Decision(way, triage.urgent, open_now, triage.matched)
    night_line = not open_now and await _has_after_hours_line(conn, case.team_id)
    if way.back_on is not None:
        back_at = calendar.next_opening(
            datetime.combine(way.back_on, clock_time(0), tzinfo=COPENHAGEN)
        )
    else:
        back_at = calendar.next_opening(at)
    return Decision(way, True, open_now, triage.matched, night_line, back_at)


async def _has_after_hours_line(conn: AsyncConnection, team_id: str) -> bool:
    phone = await conn.scalar(select(teams.c.after_hours_phone).where(teams.c.id == team_id))
    return phone is not None


def routing_columns(case: RoutedCase, decision: Decision, at: datetime) -> dict[str, Any]:
    """The message columns that say who must answer (and by when, when urgent)."""
    # Every column every time: a batch's message rows then share one set of columns.
    return {
        "owner_id": decision.route.owner_id,
        "original_owner_id": case.owner_id if decision.route.moved else None,
        "urgent": decision.urgent,
        "next_escalation_at": (
            at + timedelta(minutes=case.escalate_after_min) if decision.urgent else None
        ),
        # Paged straight to the after-hours line: escalation goes on from its top step.
        "escalation_level": NIGHT_LEVEL if decision.night_line else 0,
    }


async def dispatch(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    case: RoutedCase,
    decision: Decision,
    message_id: str,
    key: SealingKey,
    at: datetime,
) -> list[NewEntry]:
    """Act on a routed message (written by now): page when urgent; the entries saying what happened.

    The entries are returned, not written: the caller appends them with whatever
    else it journalises on the case (a receipt), in one go.
    """
    way = decision.route
    entries = []
    if way.moved:
        entries.append(
            NewEntry(
                tenant_id=tenant_id,
                case_id=case.id,
                kind="routed",
                direction="internal",
                channel="system",
                subject=ROUTE_SUBJECTS[way.reason],
                actor="system",
                at=at,
                content=f"Sagsbehandler {case.owner_id} er ikke til stede; ansvarlig nu: "
                f"{way.owner_id or 'teamets fælles kø'}",
                key=key,
                message_id=message_id,
            )
        )
    if way.reason == "fallback":
        log.warning(
            "team %s: nobody available for message %s (fallback queue)", case.team_id, message_id
        )
    if decision.urgent:
        entries.append(
            NewEntry(
                tenant_id=tenant_id,
                case_id=case.id,
                kind="urgent",
                direction="internal",
                channel="system",
                subject="Besked markeret som akut",
                actor="system",
                at=at,
                content="Udløst af: " + ", ".join(decision.matched),
                key=key,
                message_id=message_id,
            )
        )
        entries += await _page_now(conn, tenant_id, case, decision, message_id, key, at)
    return entries


async def _page_now(
    conn: AsyncConnection,
    tenant_id: str,
    case: RoutedCase,
    decision: Decision,
    message_id: str,
    key: SealingKey,
    at: datetime,
) -> list[NewEntry]:
    """Page whoever can act now; tell an absent or off-duty caseworker when they are back.

    In opening hours that is the one who answers (the caseworker, or whoever
    stands in while they are away); when the team is closed, its after-hours
    line (døgnvagt), at once rather than after three escalation steps.
    """
    way = decision.route
    # The page names the message: it must be in the database first.
    if decision.night_line:
        staff_id = None  # the team's after-hours line
    else:
        staff_id = way.owner_id or await team_lead(conn, case.team_id)
    await page(
        conn,
        tenant_id=tenant_id,
        team_id=case.team_id,
        staff_id=staff_id,
        message_id=message_id,
        kind="urgent",
        at=at,
    )
    if decision.owner_back_at is None or staff_id == case.owner_id:
        return []
    await page(
        conn,
        tenant_id=tenant_id,
        team_id=case.team_id,
        staff_id=case.owner_id,
        message_id=message_id,
        kind="while_away",
        at=at,
        send_at=decision.owner_back_at,
    )
    if not decision.night_line:
        return []  # the "routed" entry already says who stands in for the caseworker
    return [
        NewEntry(
            tenant_id=tenant_id,
            case_id=case.id,
            kind="routed",
            direction="internal",
            channel="system",
            subject="Akut uden for åbningstid: døgnvagten kaldt straks",
            actor="system",
            at=at,
            content="Kaldt straks: døgnvagten. Sagsbehandleren får besked ved næste åbning.",
            key=key,
            message_id=message_id,
        )
    ]


async def dispatch_unassigned(
    conn: AsyncConnection,
    svc: Services,
    *,
    tenant_id: str,
    message_id: str,
    matched: tuple[str, ...],
    key: SealingKey,
    at: datetime,
) -> tuple[FrontDesk | None, list[NewEntry]]:
    """An urgent message on no case (an unknown number, a shared phone): page the front desk.

    The message sits urgent in the unassigned queue; whoever can act now is
    paged (the colleague on duty, or the after-hours line at night). Written
    by now; the entries are returned for the caller to append.
    """
    desk = await front_desk(conn, svc, tenant_id=tenant_id, at=at)
    entries = [
        NewEntry(
            tenant_id=tenant_id,
            case_id=None,
            kind="urgent",
            direction="internal",
            channel="system",
            subject="Besked uden sag markeret som akut",
            actor="system",
            at=at,
            content="Udløst af: " + ", ".join(matched),
            key=key,
            message_id=message_id,
        )
    ]
    # Escalated like any urgent message until someone picks it up (escalation.escalate_due).
    await conn.execute(
        update(messages)
        .where(messages.c.id == message_id)
        .values(
            next_escalation_at=at + timedelta(minutes=desk.escalate_after_min if desk else 15),
            escalation_level=NIGHT_LEVEL if desk is not None and desk.staff_id is None else 0,
        )
    )
    if desk is None:
        log.warning("tenant %s: nobody to page for unassigned urgent %s", tenant_id, message_id)
        return None, entries
    await page(
        conn,
        tenant_id=tenant_id,
        team_id=desk.team_id,
        staff_id=desk.staff_id,
        message_id=message_id,
        kind="urgent",
        at=at,
    )
    return desk, entries
