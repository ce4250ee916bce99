"""Afgørelse som brev: the decision guard's offer to send a refused text by Digital Post.

When Svar (thread reply) or Ny besked is refused because the text reads as an
afgørelse, the refused page offers "Send som brev i Digital Post" with a
klagevejledning field when Digital Post is set up for the municipality
(:mod:`bot.domain.guard.letter`); otherwise it says to send the decision through
the case system. The offer posts here; the letter is queued through
:func:`bot.domain.letters.queue_decision` (journalised), and the page says so.

A case the caseworker may not see is a 404, as everywhere on the desk.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput, Conflict
from bot.domain.accounts import StaffIdentity
from bot.domain.guard import letter
from bot.http.pages.page import JINJA, Handler, redirect, render
from bot.http.pages.views_staff import _to_login as to_login
from bot.http.pages.views_staff import current_staff

routes = web.RouteTableDef()

PATH = "/sagsbehandler/sager/{id}/afgoerelse-brev"
# The pages whose refusal ("decision_not_allowed") carries the offer.
REFUSING = frozenset({"pages.staff.reply", "pages.staff.compose_post"})
DEFAULT_TITLE = "Afgørelse"
# Whether Digital Post is set up for the caseworker's municipality, for this request's page.
_DIGITAL_POST: ContextVar[bool] = ContextVar("digital_post", default=False)

ERRORS = {
    "letter_title": "Skriv en titel på brevet (højst 200 tegn).",
    "letter_decision": "Skriv afgørelsen, før du sender brevet.",
    "letter_klagevejledning": (
        "Skriv klagevejledningen. En afgørelse sendes altid med klagevejledning."
    ),
    "letter_recipient": "Vælg, hvem brevet skal sendes til.",
    "invalid_letter": "Brevet kan ikke sendes med Digital Post. Ret titel og tekst.",
    "digital_post_not_configured": (
        "Digital Post er ikke sat op for kommunen. Send afgørelsen som brev med "
        "klagevejledning gennem sagssystemet."
    ),
}


def _text(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


@web.middleware
async def offer_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On Svar and Ny besked, tell the page whether Digital Post is set up (for the offer)."""
    route = request.match_info.route.name
    if route in REFUSING and request.method == "POST":
        who = await current_staff(request)
        if who is not None:
            configured = await letter.configured(request.app[SERVICES], who.user.tenant_id)
            token = _DIGITAL_POST.set(configured)
            try:
                return await handler(request)
            finally:
                _DIGITAL_POST.reset(token)
    return await handler(request)


def digital_post() -> bool:
    """For the offer's template: Digital Post is set up for this page's municipality."""
    return _DIGITAL_POST.get()


async def _page(
    request: web.Request,
    who: StaffIdentity,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    svc = request.app[SERVICES]
    case_id = request.match_info["id"]
    found = await letter.offer(svc, who.user, case_id)
    values = {"title": DEFAULT_TITLE, **(form or {})}
    context = {
        "me": who,
        "case_id": case_id,
        "offer": found,
        "form": values,
        "queued": "lagt_i_koe" in request.query,
        "error": error,
        "error_text": ERRORS.get(error or "", "Brevet kunne ikke lægges i kø. Prøv igen."),
    }
    return render(request, "staff/decision_letter.html", context, status=status)


@routes.get(PATH, name="pages.staff.decision_letter")
async def letter_page(request: web.Request) -> web.Response:
    """The letter form (or, after sending, the receipt); 404 for a case not yours."""
    who = await current_staff(request)
    if who is None:
        return to_login(request)
    return await _page(request, who)


@routes.post(PATH, name="pages.staff.decision_letter_post")
async def send_letter(request: web.Request) -> web.Response:
    """Queue the afgørelse with its klagevejledning as a Digital Post letter (journalised)."""
    who = await current_staff(request)
    if who is None:
        return to_login(request)
    svc = request.app[SERVICES]
    case_id = request.match_info["id"]
    posted = await request.post()
    form = {k: _text(posted, k) for k in ("to", "title", "decision", "klagevejledning")}
    to = form["to"]
    if not to:
        # The refused page does not know the case's letter recipients: one is chosen for it.
        found = (await letter.offer(svc, who.user, case_id)).recipients
        to = found[0].participant_id if len(found) == 1 else ""
    try:
        await letter.send_decision(
            svc,
            who.user,
            case_id,
            to=to,
            title=form["title"],
            decision=form["decision"],
            klagevejledning=form["klagevejledning"],
        )
    except (BadInput, Conflict) as exc:
        return await _page(request, who, form=form, error=exc.code, status=exc.status)
    return redirect(PATH.replace("{id}", case_id), {"lagt_i_koe": "1"})


def install(app: web.Application) -> None:
    """The routes, and the offer's middleware (inside the pages' own)."""
    app.router.add_routes(routes)
    app.middlewares.append(offer_middleware)
    app[JINJA].globals["digital_post"] = digital_post
