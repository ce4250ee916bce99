"""File an unassigned message to a person and case; move a misfiled one (issue #19 point 4).

Pages (Danish, staff only) over ``bot.domain.filing``: a view parses the form,
calls one domain function and answers. A case the user may not file into, or
another municipality's, is the domain's 404 (the error page, nothing written);
a form the domain refuses is shown again with a plain message and its 4xx.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.base.appkeys import SERVICES
from bot.base.errors import ApiError, BadInput, Conflict, NotFound
from bot.domain import conversations as conv
from bot.domain import filing
from bot.domain.accounts import StaffIdentity
from bot.domain.directory import ROLES
from bot.http.pages.page import redirect, render
from bot.http.pages.views_staff import LOGIN, current_staff

routes = web.RouteTableDef()

FILE_URL = "/sagsbehandler/ikke-fordelt/{id}"
MOVE_URL = "/sagsbehandler/samtaler/{id}/flyt"

ROLE_LABELS = {
    "party": "Part",
    "parent": "Forælder",
    "bisidder": "Bisidder",
    "representative": "Repræsentant",
}
assert set(ROLE_LABELS) == set(ROLES)

# What went wrong, in plain Danish, by the domain's stable error codes.
ERRORS = {
    "bad_case_number": "Skriv et sagsnummer på højst 64 tegn.",
    "case_not_found": "Der er ingen sag med det nummer, som du har adgang til.",
    "case_closed": "Sagen er lukket. Vælg en åben sag.",
    "bad_name": "Skriv personens fulde navn (højst 200 tegn).",
    "bad_role": "Vælg personens rolle på sagen.",
    "bad_person": "Vælg en af sagens personer, eller afsenderen selv.",
    "other_author": (
        "Beskeden er skrevet af afsenderen og kan kun flyttes til en sag, hvor afsenderen"
        " er part (eller til en person, der deler telefon med afsenderen)."
    ),
    "sender_known": (
        "Afsenderen er allerede oprettet som person. "
        "Beskederne kan kun knyttes til afsenderen selv."
    ),
    "other_number": (
        "Personen har allerede et andet mobilnummer. Sæt kryds i "
        "\u201cErstat personens mobilnummer\u201d, hvis afsenderens nummer er personens nye nummer."
    ),
    "already_filed": "En kollega har lige arkiveret tråden. Der er ikke ændret noget.",
    "already_moved": (
        "En kollega har lige flyttet beskeden. Der er ikke ændret noget. Se, hvor den ligger nu."
    ),
    "same_case": "Beskeden ligger allerede på den sag hos den person. Vælg en anden.",
    "not_movable": "Kun beskeder fra borgeren kan flyttes.",
    "bad_message": "Vælg den besked, der skal flyttes.",
    "unassigned_thread": "Beskeden er ikke fordelt endnu. Arkivér den i stedet.",
}


def _text(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _to_login(request: web.Request) -> web.Response:
    return redirect(LOGIN, {"next": request.path_qs})


def _messages(thread: dict[str, Any]) -> list[dict[str, Any]]:
    for m in thread["messages"]:
        m["created"] = datetime.fromisoformat(m["created_at"])
    return list(thread["messages"])


async def _lookup(
    svc: Any, who: StaffIdentity, number: str, sender_id: str | None
) -> tuple[filing.CaseChoice | None, ApiError | None]:
    """The case the form names (by number), or why there is none."""
    if not number.strip():
        return None, None
    try:
        return await filing.find_case(svc, who.user, number, sender_id=sender_id), None
    except (BadInput, NotFound) as exc:
        return None, exc


def _page_error(error: ApiError | None, lookup: ApiError | None) -> tuple[str | None, int]:
    """The message to show and the page's status: the act's error first, else the lookup's."""
    shown = error or lookup
    if shown is None:
        return None, 200
    return shown.code, shown.status


# -- filing an unassigned thread --------------------------------------------------------------


async def _filing_page(
    request: web.Request,
    who: StaffIdentity,
    *,
    error: ApiError | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    svc = request.app[SERVICES]
    conv_id = request.match_info["id"]
    thread = await filing.unassigned_thread(svc, who.user, conv_id)  # 404 unless a lead's
    shown = _messages(await conv.read_thread(svc, who.user, conv_id, purpose="fordeling"))
    values = dict(form or {})
    number = values.get("sag", request.query.get("sag", ""))
    choice, lookup = await _lookup(svc, who, number, thread.person_id)
    code, status = _page_error(error, lookup)
    return render(
        request,
        "staff/filing.html",
        {
            "me": who,
            "thread": thread,
            "messages": shown,
            "number": number,
            "choice": choice,
            "roles": ROLE_LABELS,
            "form": values,
            "error": code,
            "error_text": ERRORS.get(code or "", "Det kunne ikke gennemføres. Prøv igen."),
            "registered": "oprettet" in request.query,
        },
        status=status,
    )


@routes.get(FILE_URL, name="pages.filing.thread")
async def filing_page(request: web.Request) -> web.Response:
    """Find a case by number; pick the person; or register the sender only."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    return await _filing_page(request, who)


def _recipient(fields: dict[str, str]) -> filing.Recipient:
    person = fields["person_id"] or filing.SENDER
    new_person = None
    if person == filing.SENDER and fields["name"].strip():
        new_person = filing.NewPerson.parse(fields["name"], fields["first_name"])
    return filing.Recipient(
        person_id=person,
        new_person=new_person,
        role=fields["role"] or "party",
        replace_number=bool(fields["replace_number"]),
    )


@routes.post(FILE_URL + "/arkiver", name="pages.filing.file")
async def file_post(request: web.Request) -> web.Response:
    """File the thread on the chosen case, for a participant or the sender."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    form = await request.post()
    names = ("case_id", "sag", "person_id", "name", "first_name", "role", "replace_number")
    fields = {k: _text(form, k) for k in names}
    try:
        filed = await filing.file_thread(
            request.app[SERVICES],
            who.user,
            request.match_info["id"],
            case_id=fields["case_id"],
            to=_recipient(fields),
        )
    except (BadInput, Conflict) as exc:
        return await _filing_page(request, who, error=exc, form=fields)
    return redirect(f"/sagsbehandler/samtaler/{filed.conversation_id}", {"arkiveret": "1"})


@routes.post(FILE_URL + "/person", name="pages.filing.person")
async def person_post(request: web.Request) -> web.Response:
    """Register the person behind the number; the thread stays unassigned."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    form = await request.post()
    fields = {k: _text(form, k) for k in ("new_name", "new_first_name")}
    conv_id = request.match_info["id"]
    try:
        who_new = filing.NewPerson.parse(fields["new_name"], fields["new_first_name"])
        await filing.register_sender(request.app[SERVICES], who.user, conv_id, who_new)
    except BadInput as exc:
        return await _filing_page(request, who, error=exc, form=fields)
    return redirect(FILE_URL.format(id=conv_id), {"oprettet": "1"})


# -- moving a misfiled message ----------------------------------------------------------------


async def _move_page(
    request: web.Request,
    who: StaffIdentity,
    *,
    error: ApiError | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    svc = request.app[SERVICES]
    conv_id = request.match_info["id"]
    thread = await conv.read_thread(svc, who.user, conv_id, purpose="flytning")  # 404
    movable = [m for m in _messages(thread) if m["direction"] == "in"]
    values = dict(form or {})
    number = values.get("sag", request.query.get("sag", ""))
    chosen = values.get("message_id", request.query.get("besked", ""))
    choice, lookup = await _lookup(svc, who, number, thread.get("person_id"))
    if choice is not None and chosen not in {m["id"] for m in movable}:
        choice, lookup = None, BadInput("Choose a message", code="bad_message")
    code, status = _page_error(error, lookup)
    return render(
        request,
        "staff/move.html",
        {
            "me": who,
            "thread": thread,
            "messages": movable,
            "chosen": chosen,
            "number": number,
            "choice": choice,
            "roles": ROLE_LABELS,
            "form": values,
            "error": code,
            "error_text": ERRORS.get(code or "", "Det kunne ikke gennemføres. Prøv igen."),
        },
        status=status,
    )


@routes.get(MOVE_URL, name="pages.filing.move")
async def move_page(request: web.Request) -> web.Response:
    """Pick the message and the right case (by number), then the person there."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    return await _move_page(request, who)


@routes.post(MOVE_URL, name="pages.filing.move_post")
async def move_post(request: web.Request) -> web.Response:
    """Move the message; the thread it left says so."""
    who = await current_staff(request)
    if who is None:
        return _to_login(request)
    form = await request.post()
    fields = {k: _text(form, k) for k in ("message_id", "case_id", "sag", "person_id")}
    conv_id = request.match_info["id"]
    try:
        if not fields["message_id"]:
            raise BadInput("Choose a message", code="bad_message")
        await filing.move_message(
            request.app[SERVICES],
            who.user,
            conv_id,
            fields["message_id"],
            case_id=fields["case_id"],
            person_id=fields["person_id"] or None,
        )
    except (BadInput, Conflict) as exc:
        return await _move_page(request, who, error=exc, form=fields)
    return redirect(f"/sagsbehandler/samtaler/{conv_id}", {"flyttet": "1"})
