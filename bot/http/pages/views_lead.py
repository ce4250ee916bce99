"""The team lead's page and the data-protection page (issue #19 point 6).

- ``/sagsbehandler/ledelse`` (leads and admins): open urgent messages and their
  escalation step, breaches of the reply guarantee in a week, the figures per
  team and ISO week (``bot.domain.guarantee.reply_stats``, as the API), and
  the duty roster's gaps. A lead sees their own team, an admin every team of
  the municipality.
- ``/sagsbehandler/ledelse/bevaring`` (leads and admins): the municipality's
  retention rules per case type (how long a closed case is kept, and whether
  it is then removed whole or, under archive law, restricted), and a form to
  set one (``journal.retention.set_rule``, as the API).
- ``/sagsbehandler/databeskyttelse`` (admins): find a person by case number or
  phone number (blind index), see who read their messages and when, and take
  it as CSV. Every look is itself access-logged (``bot.domain.access_audit``).

Anyone else gets the house's "not found" (404), as for reply templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.clock import COPENHAGEN
from bot.base.errors import BadInput, NotFound
from bot.base.staff import StaffUser
from bot.base.workdays import format_long_date, format_time
from bot.domain import access_audit, lead_desk
from bot.domain.accounts import StaffIdentity
from bot.domain.lead_desk import IsoWeek
from bot.http.pages.page import redirect, render
from bot.http.pages.views_staff import LOGIN, current_staff
from journal import retention
from scheduler.store import local_date

routes = web.RouteTableDef()

LEAD = "/sagsbehandler/ledelse"
RETENTION = LEAD + "/bevaring"
DPO = "/sagsbehandler/databeskyttelse"
PERSON = DPO + "/{person:[0-9a-f-]{36}}"

STEPS = {
    0: "Hos sagsbehandleren",
    1: "Vagthavende kollega",
    2: "Teamleder",
    3: "Døgnvagten",
}
GAP_REASONS = {
    "nobody_on_roster": "Ingen på vagtplanen",
    "on_duty_is_absent": "Den på vagt er fraværende",
}
ACTIONS = {
    "read": "Læst",
    "search": "Søgt frem",
    "export": "Udleveret (eksport)",
    "download": "Hentet fil",
    "audit": "Adgangsloggen set",
}
ERRORS = {
    "bad_days": "Skriv antal dage som et helt tal fra 1 til 36525.",
    "bad_case_type": "Skriv en sagstype (1 til 64 tegn) eller * for alle andre typer.",
    "bad_action": "Vælg slet eller bevar (arkivloven).",
    "bad_week": "Ugen findes ikke eller er ikke begyndt. Skriv den som år og uge, fx 2025-W08.",
    "bad_search": "Skriv et sagsnummer eller et telefonnummer (3 til 40 tegn).",
}


def stamp(value: datetime | None) -> str:
    """ "fredag den 21. februar 2025 10:00" (Copenhagen time), whatever the day."""
    if value is None:
        return ""
    local = value.astimezone(COPENHAGEN)
    return f"{format_long_date(local.date(), 'da')} {local.year} {format_time(value, 'da')}"


async def _staff(
    request: web.Request, may: Callable[[StaffUser], bool]
) -> StaffIdentity | web.Response:
    """The signed-in staff member if ``may`` lets them in; not signed in: the login page.

    Raises:
        NotFound: signed in, but not someone ``may`` lets in (the page does not exist for them).
    """
    who = await current_staff(request)
    if who is None:
        return redirect(LOGIN, {"next": request.path_qs})
    if not may(who.user):
        raise NotFound("No such page", code="not_found")
    return who


# -- ledelse --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamView:
    """One team's figures per week and its roster gaps, as the page shows them."""

    team: lead_desk.Team
    figures: list[dict[str, Any]]
    gaps: list[lead_desk.GapRun]


def _week_label(week: IsoWeek) -> str:
    return f"uge {week.week} {week.year}"


@routes.get(LEAD, name="pages.staff.lead")
async def lead_page(request: web.Request) -> web.Response:
    """Ledelse: urgent, breaches, figures and roster gaps for the teams I lead."""
    who = await _staff(request, lead_desk.may_lead)
    if isinstance(who, web.Response):
        return who
    svc = request.app[SERVICES]
    today = local_date(svc.clock.now())
    chosen_team = request.query.get("team") or None
    all_teams = await lead_desk.teams_for(svc, who.user)
    shown = await lead_desk.teams_for(svc, who.user, chosen_team)
    base: dict[str, Any] = {
        "me": who,
        "all_teams": all_teams,
        "chosen_team": chosen_team,
        "week_value": request.query.get("uge", ""),
    }
    try:
        week = lead_desk.parse_week(request.query.get("uge"), today)
    except BadInput as exc:
        context = {**base, "error": exc.code, "error_text": ERRORS[exc.code]}
        return render(request, "staff/lead.html", context, status=400)
    context = {**base, **await _overview(request, who, shown, week)}
    return render(request, "staff/lead.html", context)


async def _overview(
    request: web.Request, who: StaffIdentity, shown: list[lead_desk.Team], week: IsoWeek
) -> dict[str, Any]:
    svc = request.app[SERVICES]
    today = local_date(svc.clock.now())
    this_week = IsoWeek.of(today)
    urgent = await lead_desk.urgent_open(svc, who.user, shown)
    late = await lead_desk.breaches(svc, who.user, shown, week)
    per_team = [
        TeamView(
            t,
            await lead_desk.figures(svc, t, week),
            await lead_desk.roster_gaps(svc, who.user, t, today),
        )
        for t in shown
    ]
    names = await lead_desk.staff_names(
        svc, who.user, {u.owner_id for u in urgent} | {b.owner_id for b in late}
    )
    gap_staff = {g.staff_id for p in per_team for g in p.gaps}
    names |= await lead_desk.staff_names(svc, who.user, gap_staff)
    previous = week.back(1)
    following = week.back(-1)
    return {
        "week": week,
        "week_value": week.label,
        "week_text": _week_label(week),
        "this_week": week == this_week,
        "previous": previous.label,
        "following": following.label if following.monday <= today else None,
        "team_names": {t.id: t.name for t in shown},
        "own_teams": {t.id for t in shown if t.own},
        "urgent": urgent,
        "breaches": late,
        "per_team": per_team,
        "names": names,
        "steps": STEPS,
        "gap_reasons": GAP_REASONS,
        "stamp": stamp,
        "date_text": lambda d: format_long_date(d, "da"),
        "gap_days": lead_desk.GAP_DAYS,
    }


# -- databeskyttelse -----------------------------------------------------------------------


@routes.get(DPO, name="pages.staff.dpo")
async def dpo_page(request: web.Request) -> web.Response:
    """Databeskyttelse: the search form."""
    who = await _staff(request, access_audit.may_audit)
    if isinstance(who, web.Response):
        return who
    return render(request, "staff/dpo.html", {"me": who, "hits": None, "query": ""})


@routes.post(DPO, name="pages.staff.dpo_search")
async def dpo_search(request: web.Request) -> web.Response:
    """Find the person (POST: the number never lands in a URL or a server log)."""
    who = await _staff(request, access_audit.may_audit)
    if isinstance(who, web.Response):
        return who
    form = await request.post()
    query = form.get("q", "")
    query = query if isinstance(query, str) else ""
    try:
        hits = await access_audit.find_persons(request.app[SERVICES], who.user, query)
    except BadInput as exc:
        context = {"me": who, "hits": None, "query": query, "error": exc.code}
        return render(
            request, "staff/dpo.html", context | {"error_text": ERRORS[exc.code]}, status=400
        )
    if len(hits) == 1:
        return redirect(f"{DPO}/{hits[0].id}")
    return render(request, "staff/dpo.html", {"me": who, "hits": hits, "query": query})


@routes.get(PERSON + ".csv", name="pages.staff.dpo_csv")
async def dpo_csv(request: web.Request) -> web.Response:
    """The person's access log as CSV; the export is logged too."""
    who = await _staff(request, access_audit.may_audit)
    if isinstance(who, web.Response):
        return who
    person = request.match_info["person"]
    report = await access_audit.person_access(request.app[SERVICES], who.user, person, export=True)
    return web.Response(
        text=access_audit.report_csv(report),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="adgangslog-{person}.csv"'},
    )


@routes.get(PERSON, name="pages.staff.dpo_person")
async def dpo_person(request: web.Request) -> web.Response:
    """Who read this person's messages, and when; the look is logged."""
    who = await _staff(request, access_audit.may_audit)
    if isinstance(who, web.Response):
        return who
    report = await access_audit.person_access(
        request.app[SERVICES], who.user, request.match_info["person"]
    )
    return render(
        request,
        "staff/dpo_person.html",
        {
            "me": who,
            "report": report,
            "lookups": report.lookups(),
            "limit": access_audit.PAGE_ROWS,
            "actions": ACTIONS,
            "stamp": stamp,
        },
    )


# -- bevaringsregler -------------------------------------------------------------------------


async def _rules_page(
    request: web.Request, who: StaffIdentity, status: int = 200, **extra: Any
) -> web.Response:
    rules = await retention.list_rules(request.app[SERVICES], who.user.tenant_id)
    context = {
        "me": who,
        "rules": rules,
        "default_days": retention.DEFAULT_DAYS,
        "default_by_type": retention.DEFAULT_BY_TYPE,
        "form": {"case_type": "", "days": "", "then": "remove"},
        "saved": None,
        "error": None,
        **extra,
    }
    return render(request, "staff/retention.html", context, status=status)


@routes.get(RETENTION, name="pages.staff.retention")
async def retention_page(request: web.Request) -> web.Response:
    """Bevaring: the municipality's retention rules per case type."""
    who = await _staff(request, lead_desk.may_lead)
    if isinstance(who, web.Response):
        return who
    return await _rules_page(request, who, saved=request.query.get("gemt"))


@routes.post(RETENTION, name="pages.staff.retention_set")
async def retention_set(request: web.Request) -> web.Response:
    """Set one rule; a bad field is a 400 with the form kept and nothing changed."""
    who = await _staff(request, lead_desk.may_lead)
    if isinstance(who, web.Response):
        return who
    form = await request.post()
    # "then", not "action": the form's field for what happens when the period ends.
    fields = {k: str(form.get(k, "")).strip() for k in ("case_type", "days", "then")}
    days: Any = int(fields["days"]) if fields["days"].isdigit() else fields["days"]
    try:
        await retention.set_rule(
            request.app[SERVICES], who.user.tenant_id, fields["case_type"], days, fields["then"]
        )
    except BadInput as exc:
        return await _rules_page(
            request, who, 400, form=fields, error=exc.code, error_text=ERRORS[exc.code]
        )
    return redirect(RETENTION, {"gemt": fields["case_type"]})
