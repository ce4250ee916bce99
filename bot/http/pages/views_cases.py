"""My cases and the team's cases, filters, history and search (issue #19 point 2).

``/sagsbehandler/sager``: the cases I own or cover (a lead: the team's), with
filters and a search by name, case number or phone number (blind index);
``/sagsbehandler/sager/{case}``: one case with every thread, open or closed
(access-logged). Decisions and SQL live in ``bot.domain.caselist``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput
from bot.domain import caselist, person_language
from bot.domain.accounts import StaffIdentity
from bot.http.pages.page import redirect, render
from bot.http.pages.views_staff import LOGIN, current_staff
from scheduler.templates import long_date

routes = web.RouteTableDef()

CASES = "/sagsbehandler/sager"

ERRORS = {
    "search_too_short": "Skriv mindst 2 tegn for at søge.",
    "search_too_long": "Søgningen er for lang. Skriv højst 100 tegn.",
    "bad_quiet_days": "Antal dage uden aktivitet skal være et helt tal fra 1 til 365.",
    "bad_page": "Siden findes ikke.",
}
RELATIONS = {"mine": "Min sag", "covering": "Jeg dækker", "team": "Teamets sag"}
FIELDS = ("q", "stille", "haster", "venter", "overskredet")


def _to_login(request: web.Request) -> web.Response:
    return redirect(LOGIN, {"next": request.path_qs})


def _filters(query: Mapping[str, str]) -> caselist.CaseFilters:
    """The filters from the page's query string.

    Raises:
        BadInput: ``bad_quiet_days`` or ``bad_page`` for values that are not whole numbers.
    """
    quiet_text = query.get("stille", "").strip()
    page_text = query.get("side", "1").strip() or "1"
    quiet = None
    if quiet_text:
        if not quiet_text.isdigit() or len(quiet_text) > 4:
            raise BadInput("stille: a whole number of days", code="bad_quiet_days")
        quiet = int(quiet_text)
    if not page_text.isdigit() or len(page_text) > 6:
        raise BadInput("side: a whole number", code="bad_page")
    return caselist.CaseFilters(
        urgent=bool(query.get("haster")),
        waiting=bool(query.get("venter")),
        breached=bool(query.get("overskredet")),
        quiet_days=quiet,
        page=int(page_text),
    )


def _page_url(query: Mapping[str, str], page: int) -> str:
    kept = {k: query[k] for k in FIELDS if query.get(k)}
    return f"{CASES}?{urlencode({**kept, 'side': str(page)})}"


@routes.get(CASES, name="pages.staff.cases")
async def cases_page(request: web.Request) -> web.Response:
    """Mine sager: the list, its filters and the search."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    svc = request.app[SERVICES]
    query = request.query
    text = query.get("q", "")
    # An empty search box (the form always sends it) lists; anything typed is searched.
    searching = bool(text.strip())
    result, error = None, None
    try:
        filters = _filters(query)
        if searching:
            result = await caselist.search_cases(svc, who.user, text, filters)
        else:
            result = await caselist.list_cases(svc, who.user, filters)
    except BadInput as exc:
        error = exc.code
    return render(
        request,
        "staff/cases.html",
        {
            "me": who,
            "result": result,
            "searching": searching,
            "form": {k: query.get(k, "") for k in FIELDS},
            "error": error,
            "error_text": ERRORS.get(error or "", "Listen kunne ikke vises. Prøv igen."),
            "relations": RELATIONS,
            "date_text": lambda d: long_date(d, "da") if d else "",
            "page_url": lambda page: _page_url(query, page),
        },
        status=400 if error else 200,
    )


async def _case_page(
    request: web.Request,
    who: StaffIdentity,
    *,
    language_error: str | None = None,
    status: int = 200,
) -> web.Response:
    detail = await caselist.case_detail(request.app[SERVICES], who.user, request.match_info["case"])
    saved = request.query.get("sprog")
    return render(
        request,
        "staff/case.html",
        {
            "me": who,
            "detail": detail,
            "c": detail.case,
            "relations": RELATIONS,
            "date_text": lambda d: long_date(d, "da") if d else "",
            "sms_languages": person_language.DANISH_NAMES,
            "language_saved": next(
                (p for p in detail.participants if saved and p["id"] == saved), None
            ),
            "language_error": language_error,
        },
        status=status,
    )


@routes.get(CASES + "/{case}", name="pages.staff.case")
async def case_page(request: web.Request) -> web.Response:
    """One case: its participants, open items, next milestone and every thread."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    return await _case_page(request, who)


@routes.post(
    CASES + "/{case}/deltagere/{participant}/sprog", name="pages.staff.participant_language"
)
async def participant_language(request: web.Request) -> web.Response:
    """SMS-sprog: the caseworker sets the language a participant's SMS are written in."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    case_id, participant_id = request.match_info["case"], request.match_info["participant"]
    form = await request.post()
    try:
        await person_language.set_by_caseworker(
            request.app[SERVICES], who.user, case_id, participant_id, form.get("language")
        )
    except person_language.UnsupportedLanguage:
        return await _case_page(request, who, language_error=participant_id, status=422)
    return redirect(f"{CASES}/{case_id}", {"sprog": participant_id})
