"""Samtykke on the caseworker's desk: what the family said about SMS and e-mail, from a thread.

``/sagsbehandler/samtaler/{id}/samtykke`` shows where the thread's citizen
stands (SMS reminders and news; e-mail notices) with every consent record
that counts on the case, newest first, and records what the family told the
caseworker (``bot.domain.consent_desk``). Owner or lead of the case's team
only; anyone else gets a 404, as from the thread.
"""

from __future__ import annotations

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput
from bot.domain import consent, consent_desk
from bot.domain.accounts import StaffIdentity
from bot.http.pages.page import redirect, render
from bot.http.pages.views_lead import stamp
from bot.http.pages.views_staff import LOGIN, current_staff

routes = web.RouteTableDef()

PAGE = "/sagsbehandler/samtaler/{id}/samtykke"

STATE_WORDS = {
    consent.GIVEN: "ja",
    consent.WITHDRAWN: "nej (trukket tilbage)",
    consent.REFUSED: "nej",
}
SOURCE_WORDS = {
    consent.SMS_STOP: "SMS (STOP/START)",
    consent.API: "sagssystemet",
    consent.PAGE: "sagsbehandler",
    consent.MIGRATION: "overført fra før",
}
CHANNEL_WORDS = {"sms": "SMS", "email": "e-mail", "digital_post": "Digital Post", "web": "web"}
SCOPE_WORDS = {
    consent.PROACTIVE: "påmindelser og nyheder",
    consent.ANSWERS: "alle beskeder undtagen svar på borgerens egne SMS",
}
ERRORS = {"bad_consent_choice": "Vælg, hvad borgeren har sagt."}


def sms_words(standing: consent.Standing) -> str:
    """The SMS standing in a sentence for the caseworker."""
    if standing.answers_refused:
        return "Borgeren vil ikke have SMS (kun svar på egne SMS sendes)."
    if not standing.proactive:
        return "Borgeren har frameldt påmindelser og nyheder på SMS. Svar sendes stadig."
    if standing.latest is None:
        return "Intet registreret: påmindelser og nyheder sendes på SMS."
    return "Borgeren vil gerne have påmindelser og nyheder på SMS."


def email_words(standing: consent.Standing) -> str:
    """The e-mail standing in a sentence (e-mail needs an explicit yes)."""
    if standing.latest == consent.GIVEN:
        return "Borgeren har sagt ja til besked på e-mail."
    if standing.latest is None:
        return "Intet registreret: der sendes ikke e-mail."
    return "Borgeren har sagt nej til besked på e-mail."


def actor_words(actor: str, me: str) -> str:
    """Who said it, without names: the citizen, the case system, a caseworker (or you)."""
    if actor == f"staff:{me}":
        return "dig"
    if actor.startswith("staff:"):
        return "en medarbejder"
    if actor.startswith("integration"):
        return "sagssystemet"
    return "borgeren" if actor == "citizen" else "overført"


async def _page(
    request: web.Request, who: StaffIdentity, *, error: str | None = None, status: int = 200
) -> web.Response:
    view = await consent_desk.thread_consent(
        request.app[SERVICES], who.user, request.match_info["id"]
    )
    return render(
        request,
        "staff/consent.html",
        {
            "me": who,
            "view": view,
            "sms_text": sms_words(view.sms),
            "email_text": email_words(view.email),
            "states": STATE_WORDS,
            "sources": SOURCE_WORDS,
            "channels": CHANNEL_WORDS,
            "scopes": SCOPE_WORDS,
            "actor": lambda a: actor_words(a, who.user.id),
            "stamp": stamp,
            "error": error,
            "error_text": ERRORS.get(error or "", ""),
            "saved": request.query.get("gemt") == "1",
        },
        status=status,
    )


@routes.get(PAGE, name="pages.staff.consent")
async def consent_page(request: web.Request) -> web.Response:
    """The thread's citizen's consent, and the form to record what they said."""
    who = await current_staff(request)
    if who is None:
        return redirect(LOGIN, {"next": request.path_qs})
    return await _page(request, who)


@routes.post(PAGE, name="pages.staff.consent_record")
async def consent_record(request: web.Request) -> web.Response:
    """Record what the family said; a missing or unknown choice is a 400 and changes nothing."""
    who = await current_staff(request)
    if who is None:
        return redirect(LOGIN, {"next": request.path_qs})
    form = await request.post()
    conv_id = request.match_info["id"]
    try:
        await consent_desk.record_from_thread(
            request.app[SERVICES], who.user, conv_id, form.get("choice")
        )
    except BadInput as exc:
        return await _page(request, who, error=exc.code, status=400)
    return redirect(PAGE.replace("{id}", conv_id), {"gemt": "1"})
