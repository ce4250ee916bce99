"""The caseworker's settings pages: absence (fravær), the duty roster (vagtplan) and the
team's reply templates (skabeloner)."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput, NotFound
from bot.domain import handover, inbox, reply_templates, staffing
from bot.domain.accounts import StaffIdentity
from bot.http.pages.page import redirect, render
from bot.http.pages.views_staff import ERRORS, _day, _form_text, _to_login, current_staff
from scheduler.store import local_date
from scheduler.templates import long_date

routes = web.RouteTableDef()


# -- fravær og vagtplan -------------------------------------------------------------------

ABSENCE = "/sagsbehandler/fravaer"
ROSTER = "/sagsbehandler/vagtplan"
ROSTER_DAYS = 28


async def _absence_page(
    request: web.Request,
    who: StaffIdentity,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    svc = request.app[SERVICES]
    today = local_date(svc.clock.now())
    moved = request.query.get("flyttet", "")
    names = await inbox.team_names(svc, who.user)
    mine = [
        a | {"starts": date.fromisoformat(a["starts_on"]), "ends": date.fromisoformat(a["ends_on"])}
        for a in await staffing.list_absences(svc, who.user, who.user.id)
    ]
    return render(
        request,
        "staff/absence.html",
        {
            "me": who,
            "absences": [a for a in mine if a["ends"] >= today],
            "colleagues": {k: v for k, v in names.items() if k != who.user.id},
            "names": names,
            "today": today,
            "date_text": lambda d: long_date(d, "da") if d else "",
            "saved": "gemt" in request.query,
            "moved": int(moved) if moved.isdigit() else 0,
            "removed": "slettet" in request.query,
            "error": error,
            "error_text": ERRORS.get(error or "", "Fraværet kunne ikke gemmes. Prøv igen."),
            "form": form or {},
        },
        status=400 if error else 200,
    )


@routes.get(ABSENCE, name="pages.staff.absence")
async def absence_page(request: web.Request) -> web.Response:
    """Mit fravær: my coming absences, and a form to add one with a substitute."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    return await _absence_page(request, who)


@routes.post(ABSENCE, name="pages.staff.absence_add")
async def absence_add(request: web.Request) -> web.Response:
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    svc = request.app[SERVICES]
    form = await request.post()
    fields = {k: _form_text(form, k) for k in ("starts_on", "ends_on", "substitute_id", "reason")}
    try:
        starts = _day(fields["starts_on"], "bad_absence_dates")
        ends = _day(fields["ends_on"], "bad_absence_dates")
        if starts is None or ends is None:
            raise BadInput("Both dates are needed", code="bad_absence_dates")
        if ends < local_date(svc.clock.now()):
            raise BadInput("The absence is over", code="absence_in_past")
        substitute = fields["substitute_id"] or None
        if substitute is not None and (
            substitute == who.user.id or substitute not in await inbox.team_names(svc, who.user)
        ):
            raise BadInput("Not a colleague in the team", code="bad_substitute")
        await staffing.add_absence(
            svc,
            who.user,
            {
                "starts_on": starts.isoformat(),
                "ends_on": ends.isoformat(),
                "substitute_id": substitute,
                "reason": fields["reason"].strip() or None,
            },
        )
    except BadInput as exc:
        return await _absence_page(request, who, error=exc.code, form=fields)
    # Already away? Then the questions waiting for me move on now, not only new ones.
    moved = await handover.hand_over(svc, who.user.tenant_id, who.user.id)
    return redirect(ABSENCE, {"gemt": "1", "flyttet": str(moved)})


@routes.post(ABSENCE + "/{aid}/slet", name="pages.staff.absence_remove")
async def absence_remove(request: web.Request) -> web.Response:
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    svc = request.app[SERVICES]
    aid = request.match_info["aid"]
    # Only my own absences from this page (a lead manages others' through the API).
    if aid not in {a["id"] for a in await staffing.list_absences(svc, who.user, who.user.id)}:
        raise NotFound("No such absence", code="absence_not_found")
    await staffing.remove_absence(svc, who.user, aid)
    return redirect(ABSENCE, {"slettet": "1"})


@routes.get(ROSTER, name="pages.staff.roster")
async def roster_page(request: web.Request) -> web.Response:
    """Vagtplan: who is on duty in my team the coming four weeks, with the gaps."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    svc = request.app[SERVICES]
    today = local_date(svc.clock.now())
    plan = await staffing.roster(svc, who.user, who.user.team_id, today, ROSTER_DAYS)
    names = await inbox.team_names(svc, who.user)
    gaps = {g["day"]: g for g in plan["gaps"]}
    days = [
        d | {"date": date.fromisoformat(d["day"]), "gap": gaps.get(d["day"])} for d in plan["days"]
    ]
    return render(
        request,
        "staff/roster.html",
        {
            "me": who,
            "days": days,
            "gap_count": len(gaps),
            "names": names,
            "date_text": lambda d: long_date(d, "da") if d else "",
        },
    )


# -- svarskabeloner (team leads) ------------------------------------------------------------

TEMPLATES = "/sagsbehandler/skabeloner"


async def _lead(request: web.Request) -> StaffIdentity | web.Response:
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    if not reply_templates.may_edit(who.user):
        raise NotFound("No such page", code="not_found")
    return who


@routes.get(TEMPLATES, name="pages.staff.templates")
async def templates_page(request: web.Request) -> web.Response:
    who = await _lead(request)
    if isinstance(who, web.Response):
        return who
    items = await reply_templates.list_templates(
        request.app[SERVICES], who.user, include_retired=True
    )
    return render(
        request,
        "staff/templates.html",
        {
            "me": who,
            "groups": reply_templates.versions(items),
            "languages": reply_templates.LANGUAGE_NAMES,
            "saved": "gemt" in request.query,
            "variables": reply_templates.VARIABLES,
        },
    )


async def _template_form(
    request: web.Request,
    who: StaffIdentity,
    item: reply_templates.ReplyTemplate | None,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    detail: str | None = None,
) -> web.Response:
    values = form or (
        {
            "title": item.title,
            "language": item.language,
            "body": item.body,
            "active": "1" if item.active else "",
        }
        if item
        else {
            # "Add a language version" links here with the title and language filled in.
            "title": request.query.get("titel", ""),
            "language": request.query.get("sprog", "da"),
            "body": "",
            "active": "1",
        }
    )
    return render(
        request,
        "staff/template_edit.html",
        {
            "me": who,
            "item": item,
            "form": values,
            "variables": reply_templates.VARIABLES,
            "languages": reply_templates.LANGUAGE_NAMES,
            "max_chars": reply_templates.BODY_MAX,
            "error": error,
            "error_text": detail or ERRORS.get(error or "", "Skabelonen kunne ikke gemmes."),
        },
        status=400 if error else 200,
    )


@routes.get(TEMPLATES + "/ny", name="pages.staff.template_new")
async def template_new(request: web.Request) -> web.Response:
    who = await _lead(request)
    if isinstance(who, web.Response):
        return who
    return await _template_form(request, who, None)


@routes.get(TEMPLATES + "/{tid}", name="pages.staff.template")
async def template_edit(request: web.Request) -> web.Response:
    who = await _lead(request)
    if isinstance(who, web.Response):
        return who
    item = await reply_templates.get_template(
        request.app[SERVICES], who.user, request.match_info["tid"]
    )
    return await _template_form(request, who, item)


@routes.post(TEMPLATES + "/{tid}", name="pages.staff.template_save")
async def template_save(request: web.Request) -> web.Response:
    """Save a new ("ny") or changed template."""
    who = await _lead(request)
    if isinstance(who, web.Response):
        return who
    svc = request.app[SERVICES]
    tid = request.match_info["tid"]
    item = None if tid == "ny" else await reply_templates.get_template(svc, who.user, tid)
    form = await request.post()
    fields = {k: _form_text(form, k) for k in ("title", "language", "body", "active")}
    try:
        await reply_templates.save_template(
            svc,
            who.user,
            item.id if item else None,
            title=fields["title"],
            body=fields["body"],
            active=bool(fields["active"]),
            language=fields["language"] or None,
        )
    except BadInput as exc:
        # Too long for SMS: the message names the language and the count.
        detail = exc.message if exc.code == "template_too_long" else None
        return await _template_form(request, who, item, error=exc.code, form=fields, detail=detail)
    return redirect(TEMPLATES, {"gemt": "1"})
