"""One inbound dispatch: who answers a citizen's message, is it urgent, who is paged.

Two doors lead here: an SMS filed on a case (bot.domain.inbound_filing) and a
citizen's reply in the secure inbox (bot.domain.citizen). Both call
:func:`decide` before the message is written (its row carries the answer, see
:func:`routing_columns`) and :func:`dispatch` once it is: the same routing,
the same triage, the same page and the same journal entries ("routed" when the
caseworker is away, "urgent" or "concern" when the triage says so), whichever door
it came by. What is journalised is decided here too; the caller writes it with its
own entries.

Two levels (issue #16): *akut* pages and escalates; *bekymring* (a concern) pages
nobody but goes to the top of the owner's inbox (after the urgent ones) with a
same-day reply-by: today's closing time while the team is still open, else the
next opening day's closing. Either way the message row keeps its level and why
(sealed like its body, see :func:`dispatch`), shown on the staff thread page.
"""

from __future__ import annotations

import ast
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any, Protocol

from sqlalchemy import and_, case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey, seal, unseal
from bot.base.services import Services
from bot.base.workdays import WorkingCalendar
from bot.domain.case_record import SystemNotes
from bot.domain.escalation import page
from bot.domain.readings import default_triage, default_triager
from bot.domain.routing import FrontDesk, Route, front_desk, route, team_lead
from bot.domain.triage import DEFAULT_RISK, DEFAULT_URGENT, Triage, Triager
from bot.domain.triage.model import Model
from bot.store.schema.core import UTCDateTime, messages, teams, triage_terms
from bot.store.schema.triage import triage_models
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
    level: str | None = None  # akut | bekymring | None (the triage's)
    # Why it was flagged, for staff: the phrases as written, or the model's strongest
    # features. Derived from the citizen's words: journalised and stored sealed only.
    why: tuple[str, ...] = ()
    # A concern's same-day answer: today's closing, or the next opening day's.
    concern_reply_by: datetime | None = None

    @property
    def concern(self) -> bool:
        """Bekymring: no page, but answered today (and first in the inbox after akut)."""
        return self.level == BEKYMRING and not self.urgent


BEKYMRING = "bekymring"


async def tenant_triager(conn: AsyncConnection, svc: Services, tenant_id: str) -> Triager:
    """The municipality's triage: the defaults plus its own words, and its own model
    when ``tovholder triage train --tenant`` wrote one (cached a minute)."""
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
    model = await _tenant_model(conn, svc, tenant_id)
    if not rows and model is True:
        # No words or model of its own: the default triage, whose readings are shared
        # with the intent reading (bot.domain.readings).
        triager = default_triager()
    else:
        triager = Triager(
            urgent=[*DEFAULT_URGENT, *(r.term for r in rows if r.kind == "urgent")],
            risk=[*DEFAULT_RISK, *(r.term for r in rows if r.kind == "risk")],
            model=model,
        )
    cache[tenant_id] = (time.monotonic(), triager)
    return triager


def tenant_triage(triager: Triager, body: str) -> Triage:
    """``body`` read by a municipality's ``triager`` (the default one's reading is shared)."""
    return default_triage(body) if triager is default_triager() else triager(body)


async def _tenant_model(conn: AsyncConnection, svc: Services, tenant_id: str) -> Model | bool:
    """The municipality's trained weights (decrypted and parsed once per training), or
    True: the shipped model."""
    row = (
        await conn.execute(
            select(
                triage_models.c.id,
                triage_models.c.dek,
                triage_models.c.weights_enc,
                triage_models.c.trained_at,
            ).where(triage_models.c.tenant_id == tenant_id)
        )
    ).first()
    if row is None:
        return True
    models: dict[str, tuple[datetime, Model]] = svc.__dict__.setdefault("_triage_models", {})
    hit = models.get(tenant_id)
    if hit is not None and hit[0] == row.trained_at:
        return hit[1]
    dek = svc.dek("triage_models", row.id, row.dek)
    model = Model(json.loads(unseal(dek, row.weights_enc, f"triage_models:{row.id}:weights")))
    models[tenant_id] = (row.trained_at, model)
    return model


def because(triage: Triage) -> tuple[str, ...]:
    """Why a message was flagged, for staff: the phrases (or the municipality's words)
    as written, and the model's strongest features when the model raised it."""
    found = [m for m in triage.matched if not m.startswith("model ")]
    for w in triage.why:
        if w.startswith("model ") and "strongest " in w:
            top = w.split("strongest ", 1)[1].rstrip(")")
            try:
                feats = ast.literal_eval(f"({top},)")
            except (ValueError, SyntaxError):  # "no single feature"
                feats = ()
            shown = ", ".join(_feature(f) for f in feats if isinstance(f, str)) or top
            found.append(f"{w.split(' (', 1)[0]}: {shown}")
    return tuple(found) or triage.matched


def _feature(name: str) -> str:
    """A model feature as staff can read it: a word, two words, a negated word, letters."""
    kind, _, rest = name.partition(":")
    if kind in ("w", "b") and rest:
        return f"«{rest}»"
    if kind == "n" and rest:
        return f"«ikke … {rest}»"
    return f"«…{name.strip()}…»"


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
    triage: Triage | None = None,
) -> Decision:
    """Who answers a message on ``case`` now, and is it urgent (nothing is written).

    Args:
        calendar: the case's team's working calendar.
        owner_here: the caller already knows the caseworker is active and not away
            today (the SMS path reads it with the sender), so routing asks nothing.
        triage: ``body`` read by the municipality's triage already (else read here).
    """
    if owner_here:
        way = Route(case.owner_id, case.owner_id, "owner", None)
    else:
        way = await route(
            conn, case_owner_id=case.owner_id, team_id=case.team_id, at=at, calendar=calendar
        )
    if triage is None:
        triage = tenant_triage(await tenant_triager(conn, svc, tenant_id), body)
    open_now = calendar.is_open(at)
    why = because(triage) if triage.level else ()
    if not triage.urgent:
        # Bekymring: answered the same day (reply_by with no working days added is
        # today's closing while open, else the next opening day's), nobody paged.
        same_day = calendar.reply_by(at, 0) if triage.level == BEKYMRING else None
        return Decision(
            way,
            False,
            open_now,
            triage.matched,
            level=triage.level,
            why=why,
            concern_reply_by=same_day,
        )
    if open_now and not way.moved:
        return Decision(way, True, open_now, triage.matched, level=triage.level, why=why)
    night_line = not open_now and await _has_after_hours_line(conn, case.team_id)
    if way.back_on is not None:
        back_at = calendar.next_opening(
            datetime.combine(way.back_on, clock_time(0), tzinfo=COPENHAGEN)
        )
    else:
        back_at = calendar.next_opening(at)
    return Decision(
        way, True, open_now, triage.matched, night_line, back_at, level=triage.level, why=why
    )


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
    notes = SystemNotes(tenant_id, case.id, message_id, key, at)
    entries = []
    if decision.level is not None:
        same_day = decision.concern_reply_by if decision.concern else None
        await flag(conn, message_id, key, decision.level, decision.why, same_day)
    if way.moved:
        entries.append(
            notes.entry(
                "routed",
                ROUTE_SUBJECTS[way.reason],
                f"Sagsbehandler {case.owner_id} er ikke til stede; ansvarlig nu: "
                f"{way.owner_id or 'teamets fælles kø'}",
            )
        )
    if way.reason == "fallback":
        log.warning(
            "team %s: nobody available for message %s (fallback queue)", case.team_id, message_id
        )
    if decision.urgent:
        entries.append(
            notes.entry(
                "urgent",
                "Besked markeret som akut",
                # The model's strongest features too, when the model raised it.
                "Udløst af: " + ", ".join(decision.why or decision.matched),
            )
        )
        entries += await _page_now(conn, tenant_id, case, decision, message_id, key, at)
    elif decision.concern:
        entries.append(
            notes.entry(
                "concern",
                "Besked markeret som bekymring (svar i dag)",
                "Udløst af: " + ", ".join(decision.why),
            )
        )
    return entries


async def flag(
    conn: AsyncConnection,
    message_id: str,
    key: SealingKey,
    level: str,
    why: tuple[str, ...],
    reply_by: datetime | None = None,
) -> None:
    """Keep the triage's level and why on the (written) message; a concern's same-day reply-by.

    The why is sealed under the message body's key (``key``), like the body: it
    repeats the citizen's words. ``reply_by`` (a concern's) replaces the message's
    own only when that is sooner.
    """
    values: dict[str, Any] = {
        "triage_level": level,
        "triage_why_enc": seal(key.dek, "\n".join(why), f"messages:{message_id}:triage_why"),
    }
    if reply_by is not None:
        # In the same statement: the sooner of the two (and none stays none).
        soon = literal(reply_by, UTCDateTime())
        values["reply_by"] = case(
            (and_(messages.c.reply_by.is_not(None), messages.c.reply_by > soon), soon),
            else_=messages.c.reply_by,
        )
    await conn.execute(update(messages).where(messages.c.id == message_id).values(**values))


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
        SystemNotes(tenant_id, case.id, message_id, key, at).entry(
            "routed",
            "Akut uden for åbningstid: døgnvagten kaldt straks",
            "Kaldt straks: døgnvagten. Sagsbehandleren får besked ved næste åbning.",
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
    await flag(conn, message_id, key, "akut", matched)
    entries = [
        SystemNotes(tenant_id, None, message_id, key, at).entry(
            "urgent", "Besked uden sag markeret som akut", "Udløst af: " + ", ".join(matched)
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
