"""The caseworker's task list: nudges, promises due, FLYT/AFLYS, call tasks (issue #19 point 3).

``/sagsbehandler/opgaver`` lists what the caseworker sees in ``/api/v1/tasks``
(their own tasks, an absent colleague's while they cover, a lead's team's),
due first. A nudge is one click ("Send opdateringen"); any task is closed with
an optional word on what happened, and a call task only with one. Everything
is decided by ``scheduler.tasks``; a task the caseworker may not see is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput, Conflict
from bot.domain import inbox
from bot.domain.accounts import StaffIdentity
from bot.http.pages.page import redirect, render
from bot.http.pages.views_staff import current_staff
from scheduler import tasks
from scheduler.store import CaseClosed

routes = web.RouteTableDef()

TASKS = "/sagsbehandler/opgaver"

KIND_LABELS = {
    "nudge": "Ingen nyt til borgeren",
    "promise_due": "Lovet svar forfalder",
    "promise_broken": "Lovet svar er overskredet",
    "appointment_move": "Borgeren vil flytte et møde (FLYT)",
    "appointment_cancel": "Borgeren vil aflyse et møde (AFLYS)",
    "call": "Ring til borgeren",
    "letter_failed": "Brev kunne ikke sendes via Digital Post",
}

ERRORS = {
    "outcome_required": "Skriv kort, hvad der skete (fx \u201eringede, talte med mor\u201c), "
    "før du afslutter en ringeopgave.",
    "outcome_too_long": f"Skriv højst {tasks.OUTCOME_MAX} tegn om, hvad der skete.",
    "task_done": "Opgaven er allerede afsluttet.",
    "case_closed": "Sagen er lukket, så der kan ikke sendes noget.",
    "wrong_task_kind": "Den handling passer ikke til opgaven.",
}


def _times(items: list[dict[str, Any]], now: datetime) -> None:
    """Give each task its times as datetimes (and whether it is due), for the template."""
    for t in items:
        t["due"] = datetime.fromisoformat(t["due_at"]) if t["due_at"] else None
        t["is_due"] = t["due"] is not None and t["due"] <= now
        t["created"] = datetime.fromisoformat(t["created_at"])
        appt = t.get("appointment")
        if appt:
            appt["starts"] = datetime.fromisoformat(appt["starts_at"])


async def _page(
    request: web.Request,
    who: StaffIdentity,
    *,
    error: str | None = None,
    failed: str | None = None,
    outcome: str = "",
    status: int = 200,
) -> web.Response:
    svc = request.app[SERVICES]
    items = await tasks.list_tasks(svc, who.user, contacts=True)
    _times(items, svc.clock.now())
    if failed is not None and all(t["id"] != failed for t in items):
        failed = None  # closed meanwhile: the message goes at the top of the page
    names = await inbox.team_names(svc, who.user) if any(t["covering"] for t in items) else {}
    return render(
        request,
        "staff/tasks.html",
        {
            "me": who,
            "tasks": items,
            "kinds": KIND_LABELS,
            "names": names,
            "closed": "afsluttet" in request.query,
            "sent": "sendt" in request.query,
            "error": error,
            "error_text": ERRORS.get(error or "", "Det kunne ikke gennemføres. Prøv igen."),
            "failed": failed,
            "outcome": outcome,
            "outcome_max": tasks.OUTCOME_MAX,
        },
        status=status,
    )


@routes.get(TASKS, name="pages.staff.tasks")
async def task_list(request: web.Request) -> web.Response:
    """Mine (and covered colleagues') open tasks, due first."""
    who = await current_staff(request)
    if who is None:
        return redirect("/sagsbehandler/log-ind", {"next": request.path_qs})
    return await _page(request, who)


@routes.post(TASKS + "/{id}/afslut", name="pages.staff.task_done")
async def close_task(request: web.Request) -> web.Response:
    """Close a task, with what happened (journalised; required for a call task)."""
    who = await current_staff(request)
    if who is None:
        return redirect("/sagsbehandler/log-ind")
    form = await request.post()
    raw = form.get("outcome", "")
    outcome = raw if isinstance(raw, str) else ""
    task_id = request.match_info["id"]
    try:
        await tasks.complete_task(request.app[SERVICES], who.user, task_id, outcome=outcome)
    except (BadInput, Conflict) as exc:
        return await _page(
            request, who, error=exc.code, failed=task_id, outcome=outcome, status=exc.status
        )
    return redirect(TASKS, {"afsluttet": "1"})


@routes.post(TASKS + "/{id}/send-opdatering", name="pages.staff.task_still_working")
async def send_update(request: web.Request) -> web.Response:
    """One click on a nudge: the "we are still working on it" update goes, the task closes."""
    who = await current_staff(request)
    if who is None:
        return redirect("/sagsbehandler/log-ind")
    task_id = request.match_info["id"]
    try:
        await tasks.still_working_from_task(request.app[SERVICES], who.user, task_id)
    except (Conflict, CaseClosed) as exc:
        return await _page(request, who, error=exc.code, failed=task_id, status=exc.status)
    return redirect(TASKS, {"sendt": "1"})
