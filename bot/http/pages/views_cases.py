"""My cases and the team's cases, filters, history and search (issue #19 point 2).

``/sagsbehandler/sager``: the cases I own or cover (a lead: the team's), with
filters (GET, in the query string: they hold no personal data) and a search by
name, case number or phone number (blind index; a POST, so what was searched for
is never in a URL, an access log, the browser's history or a login's ``next``);
``/sagsbehandler/sager/{case}``: one case with every thread, open or closed
(access-logged). Decisions and SQL live in ``bot.domain.caselist``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput
from bot.domain import caselist, person_language
from bot.domain.accounts import StaffIdentity
from bot.http.pages.page import redirect, render
from bot.http.pages.views_staff import ANSWER, LOGIN, STATUS, current_staff
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
# What the list's URL may carry: the filters, which hold no personal data. The search
# (``q``: a name, a case number or a phone number) is posted and never put in a URL.
FILTERS = ("stille", "haster", "venter", "overskredet")
FIELDS = ("q", *FILTERS)


def _to_login(request: web.Request) -> web.Response:
    # ``next`` keeps the filters only: never what was searched for (names, phone numbers).
    return redirect(LOGIN, {"next": _filter_query(request.query)})


def _filters(query: Mapping[str, Any]) -> caselist.CaseFilters:
    """The filters from the page's query string or its form.

    Raises:
        BadInput: ``bad_quiet_days`` or ``bad_page`` for values that are not whole numbers.
    """
    quiet_text = _text(query, "stille").strip()
    page_text = _text(query, "side").strip() or "1"
    quiet = None
    if quiet_text:
        if not quiet_text.isdigit() or len(quiet_text) > 4:
            raise BadInput("stille: a whole number of days", code="bad_quiet_days")
        quiet = int(quiet_text)
    if not page_text.isdigit() or len(page_text) > 6:
        raise BadInput("side: a whole number", code="bad_page")
    return caselist.CaseFilters(
        urgent=bool(_text(query, "haster")),
        waiting=bool(_text(query, "venter")),
        breached=bool(_text(query, "overskredet")),
        quiet_days=quiet,
        page=int(page_text),
    )


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name, "")
    return value if isinstance(value, str) else ""


def _filter_query(fields: Mapping[str, Any], page: int | None = None) -> str:
    """The filters (never the search) as a query string, for a link or a redirect."""
    kept = {k: _text(fields, k) for k in FILTERS if _text(fields, k)}
    if page is not None:
        kept["side"] = str(page)
    return f"{CASES}?{urlencode(kept)}" if kept else CASES


@routes.get(CASES, name="pages.staff.cases")
async def cases_page(request: web.Request) -> web.Response:
    """Mine sager: the list and its filters (the search is a POST: see :func:`cases_search`)."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    if "q" in request.query:
        # An old link or a hand-typed URL: drop the search from the address at once.
        return redirect(_filter_query(request.query))
    result, error = None, None
    try:
        filters = _filters(request.query)
        result = await caselist.list_cases(request.app[SERVICES], who.user, filters)
    except BadInput as exc:
        error = exc.code
    return _render(request, who, request.query, result, error, searching=False)


@routes.post(CASES, name="pages.staff.cases_search")
async def cases_search(request: web.Request) -> web.Response:
    """Søg: the search (POST: a name or a phone number never lands in a URL, a server log,
    the browser's history or the login's ``next``); without a search, back to the list."""
    who = await current_staff(request)
    if who is None:
        return redirect(LOGIN, {"next": CASES})
    form = await request.post()
    text = _text(form, "q")
    if not text.strip():
        # An empty search box (the form always sends it): the list with these filters.
        return redirect(_filter_query(form))
    result, error = None, None
    try:
        filters = _filters(form)
        result = await caselist.search_cases(request.app[SERVICES], who.user, text, filters)
    except BadInput as exc:
        error = exc.code
    response = _render(request, who, form, result, error, searching=True)
    response.headers["Cache-Control"] = "no-store"
    return response


def _render(
    request: web.Request,
    who: StaffIdentity,
    fields: Mapping[str, Any],
    result: caselist.CasePage | None,
    error: str | None,
    *,
    searching: bool,
) -> web.Response:
    return render(
        request,
        "staff/cases.html",
        {
            "me": who,
            "result": result,
            "searching": searching,
            "form": {k: _text(fields, k) for k in FIELDS},
            "error": error,
            "error_text": ERRORS.get(error or "", "Listen kunne ikke vises. Prøv igen."),
            "relations": RELATIONS,
            "date_text": lambda d: long_date(d, "da") if d else "",
            "page_url": lambda page: _filter_query(fields, page),
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
            # A thread we started says what became of our message, in the thread page's words.
            "status_labels": STATUS,
            # A family's thread whose newest message never got our answer says so.
            "answer_labels": ANSWER,
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
