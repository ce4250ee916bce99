"""API for absences, hours, rosters, urgent acknowledgement and the reply guarantee.

Caseworkers' routes (staff tokens), each declared beside its view.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import ApiError, BadInput, NotFound
from bot.domain import conversations as conv
from bot.domain import staffing
from bot.domain.guarantee import reply_stats, stats_csv
from bot.domain.routing import local_day
from bot.http.auth import body_of, staff_user
from bot.http.integration.api import ID, obj
from bot.http.integration.fields import (
    BOOL,
    INT,
    NULL_ID,
    NULL_STR,
    STR,
    day,
    items,
    loose,
    ref,
    text,
)
from bot.http.integration.openapi import Api, named

api = Api()
routes = api.routes

MAX_ICAL_BYTES = 256 * 1024

ABSENCE = named(
    "Absence",
    loose(
        {
            "id": ID,
            "staff_id": ID,
            "starts_on": {"type": "string", "format": "date"},
            "ends_on": {"type": "string", "format": "date"},
            "substitute_id": NULL_ID,
            "source": STR,
            "reason": NULL_STR,
        },
        ("id", "staff_id", "starts_on", "ends_on", "substitute_id", "source"),
    ),
)


@api.operation(
    "POST",
    "/api/v1/absences",
    summary="Register an absence (fravær) for myself, or as lead/admin for a colleague",
    tag="staffing",
    security="staff",
    body=named(
        "AbsenceIn",
        obj(
            {
                "staff_id": ref(),
                "starts_on": day(),
                "ends_on": day(),
                "substitute_id": text(null=True),
                "reason": text(null=True, maxLength=200),
            },
            ("starts_on", "ends_on"),
        ),
    ),
    responses={201: ABSENCE},
)
async def add_absence(request: web.Request) -> web.Response:
    """Register an absence for myself (or, as lead/admin, for a colleague)."""
    user = await staff_user(request)
    data = body_of(request)
    return web.json_response(
        await staffing.add_absence(request.app[SERVICES], user, data), status=201
    )


@api.operation(
    "GET",
    "/api/v1/staff/{id}/absences",
    summary="A staff member's absences (own, own team as lead, all as admin)",
    tag="staffing",
    security="staff",
    resource="staff",
    responses={200: items(ABSENCE)},
)
async def list_absences(request: web.Request) -> web.Response:
    """A staff member's absences (own, own team as lead, all as admin)."""
    user = await staff_user(request)
    items = await staffing.list_absences(request.app[SERVICES], user, request.match_info["id"])
    return web.json_response({"items": items})


@api.operation(
    "DELETE",
    "/api/v1/absences/{id}",
    summary="Remove an absence",
    tag="staffing",
    security="staff",
    resource="absence",
    responses={204: None},
)
async def remove_absence(request: web.Request) -> web.Response:
    """Remove an absence."""
    user = await staff_user(request)
    await staffing.remove_absence(request.app[SERVICES], user, request.match_info["id"])
    return web.Response(status=204)


@api.operation(
    "POST",
    "/api/v1/staff/{id}/absences/ical",
    summary="Import absences from an iCalendar file",
    tag="staffing",
    security="staff",
    resource="staff",
    body={"type": "string", "description": "An iCalendar file (at most 256 KiB)"},
    body_type="text/calendar",
    responses={200: loose({"created": INT, "updated": INT}, ("created", "updated"))},
)
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


@api.operation(
    "PUT",
    "/api/v1/staff/{id}/work-phone",
    summary="The work phone that receives pages (never content) and may answer OK",
    tag="staffing",
    security="staff",
    resource="staff",
    body=named("WorkPhoneIn", obj({"phone": text()}, ("phone",))),
    responses={204: None},
)
async def set_work_phone(request: web.Request) -> web.Response:
    """The work phone that receives pages (never content) and may answer OK."""
    user = await staff_user(request)
    data = body_of(request)
    await staffing.set_work_phone(
        request.app[SERVICES], user, request.match_info["id"], data.get("phone")
    )
    return web.Response(status=204)


@api.operation(
    "PUT",
    "/api/v1/teams/{id}/hours",
    summary="Opening hours, after-hours line, escalation limit and reply guarantee of a team",
    tag="staffing",
    security="staff",
    resource="team",
    body=named(
        "TeamHoursIn",
        obj(
            {
                "opens_at": text("bad_time", description="HH:MM"),
                "closes_at": text("bad_time", description="HH:MM"),
                "after_hours_phone": text("bad_number", null=True),
                "escalate_after_min": {"type": "integer", "x-code": "bad_field"},
                "reply_days": {"type": "integer", "x-code": "bad_field"},
            }
        ),
    ),
    responses={
        200: loose(
            {
                "id": ID,
                "opens_at": STR,
                "closes_at": STR,
                "after_hours_phone": NULL_STR,
                "escalate_after_min": INT,
                "reply_days": INT,
            },
            ("id", "opens_at", "closes_at"),
        )
    },
)
async def set_hours(request: web.Request) -> web.Response:
    """Opening hours, after-hours line, escalation limit and reply guarantee of a team."""
    user = await staff_user(request)
    data = body_of(request)
    result = await staffing.set_team_hours(
        request.app[SERVICES], user, request.match_info["id"], data
    )
    return web.json_response(result)


@api.operation(
    "POST",
    "/api/v1/closing-days",
    summary="Add a day the municipality is closed (leads and admins)",
    tag="staffing",
    security="staff",
    body=named("ClosingDayIn", obj({"day": day(), "name": text()}, ("day", "name"))),
    responses={201: loose({"day": STR, "name": STR}, ("day", "name"))},
)
async def add_closing_day(request: web.Request) -> web.Response:
    """Add a day the municipality is closed (leads and admins)."""
    user = await staff_user(request)
    data = body_of(request)
    return web.json_response(
        await staffing.add_closing_day(request.app[SERVICES], user, data), status=201
    )


@api.operation(
    "PUT",
    "/api/v1/teams/{id}/rotation",
    summary="The weekly duty rotation: weekday (0 = Monday) to staff id; replaces the old one",
    tag="staffing",
    security="staff",
    resource="team",
    body=named(
        "RotationIn",
        obj(
            {"rotation": {"type": "object", "additionalProperties": ref(), "x-code": "bad_field"}},
            ("rotation",),
        ),
    ),
    responses={200: loose({"team_id": ID, "rotation": {"type": "object"}}, ("team_id",))},
)
async def set_rotation(request: web.Request) -> web.Response:
    """The weekly duty rotation: weekday (0 = Monday) to staff id; replaces the old one."""
    user = await staff_user(request)
    data = body_of(request)
    result = await staffing.set_rotation(
        request.app[SERVICES], user, request.match_info["id"], data
    )
    return web.json_response(result)


@api.operation(
    "POST",
    "/api/v1/teams/{id}/overrides",
    summary="Give one day's duty to someone else",
    tag="staffing",
    security="staff",
    resource="team",
    body=named("OverrideIn", obj({"day": day(), "staff_id": ref()}, ("day", "staff_id"))),
    responses={
        201: loose({"id": ID, "team_id": ID, "day": STR, "staff_id": ID}, ("id", "team_id"))
    },
)
async def add_override(request: web.Request) -> web.Response:
    """Give one day's duty to someone else."""
    user = await staff_user(request)
    data = body_of(request)
    result = await staffing.add_override(
        request.app[SERVICES], user, request.match_info["id"], data
    )
    return web.json_response(result, status=201)


@api.operation(
    "GET",
    "/api/v1/teams/{id}/roster",
    summary="Who is on duty, day by day, and the days with nobody on duty (the gap report)",
    tag="staffing",
    security="staff",
    resource="team",
    query={
        "from": {"type": "string", "format": "date", "x-code": "bad_date"},
        "days": {"type": "integer", "default": 28, "x-code": "bad_field"},
    },
    responses={
        200: loose(
            {
                "team_id": ID,
                "days": {"type": "array", "items": {"type": "object"}},
                "gaps": {"type": "array"},
            },
            ("team_id", "days", "gaps"),
        )
    },
)
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


@api.operation(
    "GET",
    "/api/v1/teams/{id}/reply-stats",
    summary="The reply guarantee per week (leads and admins): JSON, or CSV with format=csv",
    tag="staffing",
    security="staff",
    resource="team",
    query={
        "from": {"type": "string", "format": "date", "x-code": "bad_date"},
        "to": {"type": "string", "format": "date", "x-code": "bad_date"},
        "format": {"type": "string", "enum": ["json", "csv"], "x-code": "bad_format"},
    },
    responses={200: items({"type": "object"})},
    media={200: ("text/csv",)},
)
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


@api.operation(
    "POST",
    "/api/v1/triage-terms",
    summary="Add an urgent word or risk phrase for the municipality (leads and admins)",
    tag="staffing",
    security="staff",
    body=named(
        "TriageTermIn",
        obj(
            {
                "kind": {"type": "string", "enum": ["urgent", "risk"], "x-code": "bad_field"},
                "term": text(),
            },
            ("kind", "term"),
        ),
    ),
    responses={201: loose({"kind": STR, "term": STR}, ("kind", "term"))},
)
async def add_triage_term(request: web.Request) -> web.Response:
    """Add an urgent word or risk phrase for the municipality (leads and admins)."""
    user = await staff_user(request)
    data = body_of(request)
    return web.json_response(
        await staffing.add_triage_term(request.app[SERVICES], user, data), status=201
    )


@api.operation(
    "POST",
    "/api/v1/cases/{id}/owner",
    summary="Give a case a new caseworker; the citizen is told who their new contact is",
    tag="staffing",
    security="staff",
    resource="case",
    body=named("OwnerIn", obj({"owner_id": ref()}, ("owner_id",))),
    responses={200: loose({"case_id": ID, "owner_id": ID, "told": INT}, ("case_id",))},
)
async def change_owner(request: web.Request) -> web.Response:
    """Give a case a new caseworker; the citizen is told who their new contact is."""
    user = await staff_user(request)
    data = body_of(request)
    result = await staffing.change_owner(
        request.app[SERVICES], user, request.match_info["id"], data.get("owner_id")
    )
    return web.json_response(result)


@api.operation(
    "POST",
    "/api/v1/messages/{id}/acknowledge",
    summary="I have picked up this urgent message: stop escalating it",
    tag="caseworker",
    security="staff",
    resource="message",
    responses={200: loose({"id": ID, "acknowledged": BOOL, "changed": BOOL}, ("id",))},
)
async def acknowledge(request: web.Request) -> web.Response:
    """I have picked up this urgent message: stop escalating it."""
    user = await staff_user(request)
    result = await conv.acknowledge_message(request.app[SERVICES], user, request.match_info["id"])
    return web.json_response(result)


@api.operation(
    "POST",
    "/api/v1/conversations/{id}/close",
    summary="Handled another way (e.g. by phone): close the thread with a journal note",
    tag="caseworker",
    security="staff",
    resource="conversation",
    body=named("CloseIn", obj({"note": text("bad_note")}, ("note",))),
    responses={200: loose({"id": ID, "closed": INT}, ("id",))},
)
async def close(request: web.Request) -> web.Response:
    """Handled another way (e.g. by phone): close the thread with a journal note."""
    user = await staff_user(request)
    note: str = body_of(request)["note"]
    result = await conv.close_with_note(request.app[SERVICES], user, request.match_info["id"], note)
    return web.json_response(result)
