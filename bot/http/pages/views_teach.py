"""Staff teach the triage from the thread page: "Ikke akut", "Er akut", "Bekymring".

One form per citizen message (staff/_thread_messages.html); the view parses it
and calls :func:`bot.domain.triage_teach.teach`, which stores the example
sealed, journalises it and (for "Ikke akut" on an urgent message) stops the
escalation. A message in a thread the user may not see is the domain's 404; a
label that is none of the three is a 400 ``bad_level`` and changes nothing.
"""

from __future__ import annotations

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput
from bot.domain import triage_teach
from bot.http.pages.page import redirect
from bot.http.pages.views_staff import LOGIN, current_staff, to_thread

routes = web.RouteTableDef()

TEACH_URL = "/sagsbehandler/samtaler/{id}/beskeder/{mid}/triage"


@routes.post(TEACH_URL, name="pages.staff.teach")
async def teach(request: web.Request) -> web.Response:
    """Record the label as the municipality's example; back to the thread with a notice."""
    who = await current_staff(request)
    if who is None:
        return redirect(LOGIN, {"next": request.path})
    form = await request.post()
    level = form.get("niveau")
    if not isinstance(level, str) or level not in triage_teach.LEVELS:
        raise BadInput("The label must be none, akut or bekymring", code="bad_level")
    taught = await triage_teach.teach(
        request.app[SERVICES],
        who.user,
        request.match_info["mid"],
        level,
        conversation_id=request.match_info["id"],
    )
    query = {"laert": level}
    if taught.escalation_stopped:
        query["kvitteret"] = "1"
    return to_thread(request, taught.conversation_id, query)
