"""API for absences, hours, rosters, urgent acknowledgement and the reply guarantee."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import ApiError, BadInput, NotFound
from bot.domain import conversations as conv
from bot.domain import staffing
from bot.domain.guarantee import reply_stats, stats_csv
from bot.domain.routing import local_day
from bot.http.auth import json_object, staff_user

routes = web.RouteTableDef()

MAX_ICAL_BYTES = 256 * 1024


@routes.post("/api/v1/absences")
async def add_absence(request: web.Request) -> web.Response:
    """Register an absence for myself (or, as lead/admin, for a colleague)."""
    user = await staff_user(request)
    data = await json_object(
        request, {"staff_id", "starts_on", "ends_on", "substitute_id", "reason"}
    )
    return web.json_response(
        await staffing.add_absence(request.app[SERVICES], user, data), status=201
    )


@routes.get("/api/v1/staff/{id}/absences")
async def list_absences(request: web.Request) -> web.Response:
    user = await staff_user(request)
    items = await staffing.list_absences(request.app[SERVICES], user, request.match_info["id"])
    return web.json_response({"items": items})


@routes.delete("/api/v1/absences/{id}")
async def remove_absence(request: web.Request) -> web.Response:
    user = await staff_user(request)
    await staffing.remove_absence(request.app[SERVICES], user, request.match_info["id"])
    return web.Response(status=204)


@routes.post("/api/v1/staff/{id}/absences/ical")
async def import_ical(request: web.Request) -> web.Response:
    """Import absences from an iCalendar file (text/calendar)."""
    user = await staff_user(request)
    if request.content_type != "text/calendar":
        raise ApiError("Send text/calendar", code="unsupported_media_type", status=415)
    payload = await request.read()
    if len(payload) > MAX_ICAL_BYTES:
        raise ApiError("The calendar is too large", code="body_too_large", status=413)
    result = await staffing.import_ical(
        request.app[SERVICES], user, request.match_info["id"], payload
    )
    return web.json_response(result)


@routes.put("/api/v1/staff/{id}/work-phone")
async def set_work_phone(request: web.Request) -> web.Response:
    user = await staff_user(request)
    data = await json_object(request, {"phone"})
    await staffing.set_work_phone(
        request.app[SERVICES], user, request.match_info["id"], data.get("phone")
    )
    return web.Response(status=204)


@routes.put("/api/v1/teams/{id}/hours")
async def set_hours(request: web.Request) -> web.Response:
    """Opening hours, after-hours line, escalation limit and reply guarantee of a team."""
    user = await staff_user(request)
    data = await json_object(
        request, {"opens_at", "closes_at", "after_hours_phone", "escalate_after_min", "reply_days"}
    )
    result = await staffing.set_team_hours(
        request.app[SERVICES], user, request.match_info["id"], data
    )
    return web.json_response(result)


@routes.post("/api/v1/closing-days")
async def add_closing_day(request: web.Request) -> web.Response:
    user = await staff_user(request)
    data = await json_object(request, {"day", "name"})
    return web.json_response(
        await staffing.add_closing_day(request.app[SERVICES], user, data), status=201
    )


@routes.put("/api/v1/teams/{id}/rotation")
async def set_rotation(request: web.Request) -> web.Response:
    user = await staff_user(request)
    data = await json_object(request, {"rotation"})
    result = await staffing.set_rotation(
        request.app[SERVICES], user, request.match_info["id"], data
    )
    return web.json_response(result)


@routes.post("/api/v1/teams/{id}/overrides")
async def add_override(request: web.Request) -> web.Response:
    user = await staff_user(request)
    data = await json_object(request, {"day", "staff_id"})
    result = await staffing.add_override(
        request.app[SERVICES], user, request.match_info["id"], data
    )
    return web.json_response(result, status=201)


@routes.get("/api/v1/teams/{id}/roster")
async def roster(request: web.Request) -> web.Response:
    """Who is on duty, day by day, and the days with nobody on duty (the gap report)."""
    user = await staff_user(request)
    svc = request.app[SERVICES]
    start = (
        staffing.parse_day(request.query["from"], "from")
        if "from" in request.query
        else local_day(svc.clock.now())
    )
    try:
        days = int(request.query.get("days", "28"))
    except ValueError as exc:
        raise BadInput("days must be a whole number", code="bad_field") from exc
    return web.json_response(
        await staffing.roster(svc, user, request.match_info["id"], start, days)
    )


@routes.get("/api/v1/teams/{id}/reply-stats")
async def reply_guarantee_stats(request: web.Request) -> web.Response:
    """The reply guarantee per week: JSON, or CSV with ?format=csv."""
    user = await staff_user(request)
    svc = request.app[SERVICES]
    team_id = request.match_info["id"]
    if user.role not in ("lead", "admin") or (user.role == "lead" and user.team_id != team_id):
        raise NotFound("No such team", code="team_not_found")
    until = (
        staffing.parse_day(request.query["to"], "to")
        if "to" in request.query
        else local_day(svc.clock.now())
    )
    since = (
        staffing.parse_day(request.query["from"], "from")
        if "from" in request.query
        else until - timedelta(weeks=12)
    )
    if since > until:
        raise BadInput("from is after to", code="bad_date_range")
    async with svc.read() as c:
        await staffing._team(c, user, team_id, manage=False)
    rows = await reply_stats(svc, team_id=team_id, since=since, until=until)
    if request.query.get("format") == "csv":
        return web.Response(text=stats_csv(rows), content_type="text/csv")
    return web.json_response({"items": rows})


@routes.post("/api/v1/triage-terms")
async def add_triage_term(request: web.Request) -> web.Response:
    user = await staff_user(request)
    data = await json_object(request, {"kind", "term"})
    return web.json_response(
        await staffing.add_triage_term(request.app[SERVICES], user, data), status=201
    )


@routes.post("/api/v1/cases/{id}/owner")
async def change_owner(request: web.Request) -> web.Response:
    """Give a case a new caseworker; the citizen is told who their new contact is."""
    user = await staff_user(request)
    data = await json_object(request, {"owner_id"})
    result = await staffing.change_owner(
        request.app[SERVICES], user, request.match_info["id"], data.get("owner_id")
    )
    return web.json_response(result)


@routes.post("/api/v1/messages/{id}/acknowledge")
async def acknowledge(request: web.Request) -> web.Response:
    """I have picked up this urgent message: stop escalating it."""
    user = await staff_user(request)
    result = await conv.acknowledge_message(request.app[SERVICES], user, request.match_info["id"])
    return web.json_response(result)


@routes.post("/api/v1/conversations/{id}/close")
async def close(request: web.Request) -> web.Response:
    """Handled another way (e.g. by phone): close the thread with a journal note."""
    user = await staff_user(request)
    data = await json_object(request, {"note"})
    note = data.get("note")
    if not isinstance(note, str):
        raise BadInput("note must be text", code="bad_note")
    result = await conv.close_with_note(request.app[SERVICES], user, request.match_info["id"], note)
    return web.json_response(result)
