"""The track-and-trace API: timelines, appointments (.ics), deadlines, promises,
send-later, tasks, quiet hours and case-type templates.

Each route declares its contract beside its view (checked before the view
runs); views turn the checked input into dates and times; scheduler.* decides.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput, Forbidden
from bot.http.auth import body_of, staff_user
from bot.http.integration.api import ID, TS, obj
from bot.http.integration.fields import BOOL, INT, NULL_STR, STR, day, flag, items, loose, moment
from bot.http.integration.fields import text as text_field
from bot.http.integration.openapi import Api, named
from scheduler import appointments as appts
from scheduler import deadlines, milestones, promises, scheduled, tasks
from scheduler import settings as quiet_store
from scheduler.store import person_visible

api = Api()
routes = api.routes

_ID = "{id:[^{}/.]+}"

# -- answers -------------------------------------------------------------------------------------

TIMELINE = named(
    "Timeline",
    loose(
        {
            "case_id": ID,
            "case_type": NULL_STR,
            "current": NULL_STR,
            "steps": {
                "type": "array",
                "items": loose(
                    {
                        "step": STR,
                        "title": STR,
                        "status": STR,
                        "expected_on": NULL_STR,
                        "started_at": NULL_STR,
                        "completed_at": NULL_STR,
                    },
                    ("step", "status"),
                ),
            },
        },
        ("case_id", "steps"),
    ),
)
APPOINTMENT = named(
    "Appointment",
    loose(
        {
            "id": ID,
            "case_id": ID,
            "starts_at": TS,
            "ends_at": TS,
            "place": NULL_STR,
            "video_url": NULL_STR,
            "attendees": {"type": "array", "items": STR},
            "status": STR,
            "sequence": INT,
            "reminders": {"type": "array"},
        },
        ("id", "case_id", "starts_at", "status"),
    ),
)
DEADLINE = named("Deadline", loose({"id": ID, "case_id": ID, "kind": STR}, ("id",)))
SCHEDULED = named(
    "ScheduledSms",
    loose({"id": ID, "conversation_id": ID, "send_at": STR, "status": STR}, ("id",)),
)
TASK = named(
    "Task",
    loose(
        {
            "id": ID,
            "kind": {
                "type": "string",
                "description": "nudge | promise_due | promise_broken | appointment_move | "
                "appointment_cancel | call",
            },
            "state": STR,
            "case_id": ID,
            "case_number": NULL_STR,
            "staff_id": ID,
            "covering": {
                "type": "boolean",
                "description": "on a colleague's list; shown because I cover for them today",
            },
            "title": STR,
            "ref_id": NULL_STR,
            "message_id": NULL_STR,
            "conversation_id": NULL_STR,
            "created_at": TS,
            "due_at": {"type": ["string", "null"], "format": "date-time"},
            "actions": {"type": "array", "items": STR},
            "appointment": {
                "type": ["object", "null"],
                "description": "FLYT/AFLYS: the appointment the citizen asked about",
            },
        },
        ("id", "kind", "state", "due_at", "actions"),
    ),
)
QUIET = named(
    "QuietHours",
    loose(
        {
            "enabled": BOOL,
            "quiet_from": STR,
            "quiet_until": STR,
            "sundays": BOOL,
            "holidays": BOOL,
        },
        ("enabled", "quiet_from", "quiet_until", "sundays", "holidays"),
    ),
)
QUIET_IN = named(
    "QuietHoursIn",
    obj(
        {
            "enabled": flag(),
            "quiet_from": text_field("bad_time", description="HH:MM"),
            "quiet_until": text_field("bad_time", description="HH:MM"),
            "sundays": flag(),
            "holidays": flag(),
        }
    ),
)
PERSON_QUIET = named(
    "PersonQuietHours",
    {
        **QUIET,
        "required": [*QUIET["required"], "own"],
        "properties": {**QUIET["properties"], "own": BOOL},
    },
)


# -- parsing -------------------------------------------------------------------------------------


def _datetime(data: dict[str, Any], name: str, *, required: bool = True) -> datetime | None:
    raw = data.get(name)
    if raw is None and not required:
        return None
    if not isinstance(raw, str):
        raise BadInput(f"{name} must be an ISO 8601 date and time", code="bad_datetime")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise BadInput(f"{name} must be an ISO 8601 date and time", code="bad_datetime") from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise BadInput(f"{name} needs a UTC offset (e.g. +01:00)", code="bad_datetime")
    return value


def _date(data: dict[str, Any], name: str, *, required: bool = True) -> date | None:
    raw = data.get(name)
    if raw is None and not required:
        return None
    if not isinstance(raw, str):
        raise BadInput(f"{name} must be a date like 2025-03-14", code="bad_date")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise BadInput(f"{name} must be a date like 2025-03-14", code="bad_date") from exc


def _text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    raw = data.get(name)
    if raw is None and not required:
        return None
    if not isinstance(raw, str):
        raise BadInput(f"{name} must be text", code="bad_field")
    return raw


def _bool(data: dict[str, Any], name: str, default: bool) -> bool:
    raw = data.get(name, default)
    if not isinstance(raw, bool):
        raise BadInput(f"{name} must be true or false", code="bad_field")
    return raw


def _services(request: web.Request) -> Any:
    return request.app[SERVICES]


# -- timelines (milepæle) ------------------------------------------------------------------------


@api.operation(
    "POST",
    f"/api/v1/cases/{_ID}/timeline",
    summary="Start the case's timeline (milepæle) from its case type's template",
    tag="track-and-trace",
    security="staff",
    resource="case",
    body=named(
        "TimelineIn",
        obj(
            {
                "case_type": text_field(null=True),
                "start": day(null=True),
                "expected": {
                    "type": "object",
                    "additionalProperties": day(),
                    "x-code": "bad_field",
                    "description": "step → expected date",
                },
            }
        ),
    ),
    responses={201: TIMELINE},
)
async def start_timeline(request: web.Request) -> web.Response:
    """Start the case's timeline from its case type's template."""
    user = await staff_user(request)
    data = body_of(request)
    expected_raw = data.get("expected", {})
    if not isinstance(expected_raw, dict):
        raise BadInput("expected must map steps to dates", code="bad_field")
    expected = {str(k): _date(expected_raw, k) for k in expected_raw}
    result = await milestones.start_timeline(
        _services(request),
        user,
        request.match_info["id"],
        case_type=_text(data, "case_type"),
        start=_date(data, "start", required=False),
        expected={k: v for k, v in expected.items() if v is not None},
    )
    return web.json_response(result, status=201)


@api.operation(
    "GET",
    f"/api/v1/cases/{_ID}/timeline",
    summary="The case's timeline",
    tag="track-and-trace",
    security="staff",
    resource="case",
    responses={200: TIMELINE},
)
async def get_timeline(request: web.Request) -> web.Response:
    """The case's timeline."""
    user = await staff_user(request)
    return web.json_response(
        await milestones.get_timeline(_services(request), user, request.match_info["id"])
    )


@api.operation(
    "POST",
    f"/api/v1/cases/{_ID}/timeline/moves",
    summary="Move the timeline to a step (backwards only with a reason); tells the participants",
    tag="track-and-trace",
    security="staff",
    resource="case",
    body=named(
        "MoveIn",
        obj(
            {
                "step": text_field(),
                "reason": text_field(null=True),
                "next_expected_on": day(null=True),
                "notify": flag(),
            },
            ("step",),
        ),
    ),
    responses={200: TIMELINE},
)
async def move_step(request: web.Request) -> web.Response:
    """Move the timeline to a step (backwards only with a reason); tells the participants."""
    user = await staff_user(request)
    data = body_of(request)
    step = _text(data, "step", required=True)
    assert step is not None
    result = await milestones.move_step(
        _services(request),
        user,
        request.match_info["id"],
        step=step,
        reason=_text(data, "reason"),
        next_expected_on=_date(data, "next_expected_on", required=False),
        notify=_bool(data, "notify", True),
    )
    return web.json_response(result)


# -- appointments --------------------------------------------------------------------------------


@api.operation(
    "POST",
    f"/api/v1/cases/{_ID}/appointments",
    summary="Book an appointment and schedule its reminders",
    tag="track-and-trace",
    security="staff",
    resource="case",
    body=named(
        "AppointmentIn",
        obj(
            {
                "starts_at": moment(),
                "ends_at": moment(null=True),
                "place": text_field(null=True),
                "video_url": text_field(null=True),
                "attendees": {
                    "type": ["array", "null"],
                    "items": {"type": "string"},
                    "minItems": 1,
                    "x-code": "bad_field",
                },
                "reminders": {
                    "type": "array",
                    "items": {"type": "object"},
                    "x-code": "bad_offset",
                    "description": 'e.g. [{"working_days_before": 1, "at": "10:00"}, '
                    '{"hours_before": 2}]',
                },
            },
            ("starts_at",),
        ),
    ),
    responses={201: APPOINTMENT},
)
async def create_appointment(request: web.Request) -> web.Response:
    """Book an appointment and schedule its reminders."""
    user = await staff_user(request)
    data = body_of(request)
    attendees = data.get("attendees")
    if attendees is not None and (
        not isinstance(attendees, list)
        or not all(isinstance(a, str) for a in attendees)
        or not attendees
    ):
        raise BadInput("attendees must be a list of person ids", code="bad_field")
    offsets = appts.parse_offsets(data["reminders"]) if "reminders" in data else None
    starts_at = _datetime(data, "starts_at")
    assert starts_at is not None
    result = await appts.create_appointment(
        _services(request),
        user,
        request.match_info["id"],
        starts_at=starts_at,
        ends_at=_datetime(data, "ends_at", required=False),
        place=_text(data, "place"),
        video_url=_text(data, "video_url"),
        attendees=attendees,
        offsets=offsets or appts.DEFAULT_OFFSETS,
    )
    return web.json_response(result, status=201)


@api.operation(
    "GET",
    f"/api/v1/cases/{_ID}/appointments",
    summary="The case's appointments",
    tag="track-and-trace",
    security="staff",
    resource="case",
    responses={200: items(APPOINTMENT)},
)
async def list_appointments(request: web.Request) -> web.Response:
    """The case's appointments."""
    user = await staff_user(request)
    items = await appts.list_appointments(_services(request), user, request.match_info["id"])
    return web.json_response({"items": items})


@api.operation(
    "GET",
    f"/api/v1/appointments/{_ID}.ics",
    summary="The appointment as an iCalendar file",
    tag="track-and-trace",
    security="staff",
    resource="appointment",
    responses={200: None},
    media={200: ("text/calendar",)},
)
async def appointment_ics(request: web.Request) -> web.Response:
    """The appointment as an iCalendar file."""
    user = await staff_user(request)
    body = await appts.appointment_ics(_services(request), user, request.match_info["id"])
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="moede.ics"'},
    )


@api.operation(
    "GET",
    f"/api/v1/appointments/{_ID}",
    summary="One appointment with its reminders",
    tag="track-and-trace",
    security="staff",
    resource="appointment",
    responses={200: APPOINTMENT},
)
async def get_appointment(request: web.Request) -> web.Response:
    """One appointment with its reminders."""
    user = await staff_user(request)
    return web.json_response(
        await appts.get_appointment(_services(request), user, request.match_info["id"])
    )


@api.operation(
    "PATCH",
    f"/api/v1/appointments/{_ID}",
    summary="Move an appointment (or change where it is); reminders follow",
    tag="track-and-trace",
    security="staff",
    resource="appointment",
    body=named(
        "AppointmentPatch",
        obj(
            {
                "starts_at": moment(null=True),
                "ends_at": moment(null=True),
                "place": text_field(null=True),
                "video_url": text_field(null=True),
                "notify": flag(),
            }
        ),
    ),
    responses={200: APPOINTMENT},
)
async def move_appointment(request: web.Request) -> web.Response:
    """Move an appointment (or change where it is); reminders follow."""
    user = await staff_user(request)
    data = body_of(request)
    result = await appts.move_appointment(
        _services(request),
        user,
        request.match_info["id"],
        starts_at=_datetime(data, "starts_at", required=False),
        ends_at=_datetime(data, "ends_at", required=False),
        place=_text(data, "place"),
        video_url=_text(data, "video_url"),
        notify=_bool(data, "notify", True),
    )
    return web.json_response(result)


@api.operation(
    "DELETE",
    f"/api/v1/appointments/{_ID}",
    summary="Cancel an appointment; its reminders are withdrawn",
    tag="track-and-trace",
    security="staff",
    resource="appointment",
    query={"notify": {"type": "string", "enum": ["true", "false"], "default": "true"}},
    responses={200: APPOINTMENT},
)
async def cancel_appointment(request: web.Request) -> web.Response:
    """Cancel an appointment; its reminders are withdrawn."""
    user = await staff_user(request)
    notify = request.query.get("notify", "true") != "false"
    result = await appts.cancel_appointment(
        _services(request), user, request.match_info["id"], notify=notify
    )
    return web.json_response(result)


# -- deadlines (frister) -------------------------------------------------------------------------


@api.operation(
    "POST",
    f"/api/v1/cases/{_ID}/deadlines",
    summary="A deadline (frist) with a reminder N working days before",
    tag="track-and-trace",
    security="staff",
    resource="case",
    body=named(
        "DeadlineIn",
        obj(
            {
                "kind": text_field(),
                "due_on": day(),
                "remind_working_days_before": {"type": "integer", "x-code": "bad_offset"},
            },
            ("kind", "due_on"),
        ),
    ),
    responses={201: DEADLINE},
)
async def create_deadline(request: web.Request) -> web.Response:
    """A deadline with a reminder N working days before."""
    user = await staff_user(request)
    data = body_of(request)
    days = data.get("remind_working_days_before", 2)
    if isinstance(days, bool) or not isinstance(days, int):
        raise BadInput("remind_working_days_before must be a whole number", code="bad_offset")
    kind = _text(data, "kind", required=True)
    due_on = _date(data, "due_on")
    assert kind is not None and due_on is not None
    result = await deadlines.create_deadline(
        _services(request),
        user,
        request.match_info["id"],
        kind=kind,
        due_on=due_on,
        remind_days=days,
    )
    return web.json_response(result, status=201)


@api.operation(
    "GET",
    f"/api/v1/cases/{_ID}/deadlines",
    summary="The case's deadlines",
    tag="track-and-trace",
    security="staff",
    resource="case",
    responses={200: items(DEADLINE)},
)
async def list_deadlines(request: web.Request) -> web.Response:
    """The case's deadlines."""
    user = await staff_user(request)
    items = await deadlines.list_deadlines(_services(request), user, request.match_info["id"])
    return web.json_response({"items": items})


@api.operation(
    "DELETE",
    f"/api/v1/deadlines/{_ID}",
    summary="Cancel a deadline; its reminders are withdrawn",
    tag="track-and-trace",
    security="staff",
    resource="deadline",
    responses={200: DEADLINE},
)
async def cancel_deadline(request: web.Request) -> web.Response:
    """Cancel a deadline; its reminders are withdrawn."""
    user = await staff_user(request)
    return web.json_response(
        await deadlines.cancel_deadline(_services(request), user, request.match_info["id"])
    )


# -- promises and send-later ---------------------------------------------------------------------


@api.operation(
    "POST",
    f"/api/v1/conversations/{_ID}/promise",
    summary="Promise the citizen an answer by a date",
    tag="track-and-trace",
    security="staff",
    resource="conversation",
    body=named("PromiseIn", obj({"due": day()}, ("due",))),
    responses={201: loose({"id": ID, "conversation_id": ID, "due": STR}, ("id",))},
)
async def record_promise(request: web.Request) -> web.Response:
    """Promise the citizen an answer by a date."""
    user = await staff_user(request)
    data = body_of(request)
    due = _date(data, "due")
    assert due is not None
    result = await promises.promise_for_conversation(
        _services(request), user, request.match_info["id"], due
    )
    return web.json_response(result, status=201)


@api.operation(
    "POST",
    f"/api/v1/conversations/{_ID}/scheduled",
    summary="Send an SMS later (never in quiet hours)",
    tag="track-and-trace",
    security="staff",
    resource="conversation",
    body=named(
        "ScheduledIn",
        obj(
            {
                "body": text_field(),
                "send_at": moment(),
                "urgent_reason": text_field("urgent_reason_required", null=True),
            },
            ("body", "send_at"),
        ),
    ),
    responses={201: SCHEDULED},
)
async def schedule_sms(request: web.Request) -> web.Response:
    """Send an SMS later (never in quiet hours, unless marked urgent with a reason)."""
    user = await staff_user(request)
    data = body_of(request)
    body = _text(data, "body", required=True)
    send_at = _datetime(data, "send_at")
    assert body is not None and send_at is not None
    result = await scheduled.schedule_sms(
        _services(request),
        user,
        request.match_info["id"],
        body=body,
        send_at=send_at,
        urgent_reason=_text(data, "urgent_reason"),
    )
    return web.json_response(result, status=201)


@api.operation(
    "GET",
    f"/api/v1/conversations/{_ID}/scheduled",
    summary="Scheduled SMS in the thread that have not gone out",
    tag="track-and-trace",
    security="staff",
    resource="conversation",
    responses={200: items(SCHEDULED)},
)
async def list_scheduled(request: web.Request) -> web.Response:
    """Scheduled SMS in the thread that have not gone out."""
    user = await staff_user(request)
    items = await scheduled.list_scheduled(_services(request), user, request.match_info["id"])
    return web.json_response({"items": items})


@api.operation(
    "DELETE",
    f"/api/v1/conversations/{_ID}/scheduled/{{message_id}}",
    summary="Withdraw a scheduled SMS before it goes out",
    tag="track-and-trace",
    security="staff",
    resource="conversation",
    responses={204: None},
)
async def withdraw_scheduled(request: web.Request) -> web.Response:
    """Withdraw a scheduled SMS before it goes out."""
    user = await staff_user(request)
    await scheduled.withdraw_scheduled(
        _services(request), user, request.match_info["id"], request.match_info["message_id"]
    )
    return web.Response(status=204)


# -- tasks ---------------------------------------------------------------------------------------


@api.operation(
    "GET",
    "/api/v1/tasks",
    summary="My open follow-up tasks, a covered colleague's while they are away "
    "(a lead also sees the team's); due first",
    tag="track-and-trace",
    security="staff",
    responses={200: items(TASK)},
)
async def list_tasks(request: web.Request) -> web.Response:
    """My open follow-up tasks (a covered colleague's, a lead's team's too)."""
    user = await staff_user(request)
    return web.json_response({"items": await tasks.list_tasks(_services(request), user)})


@api.operation(
    "POST",
    f"/api/v1/tasks/{_ID}/done",
    summary="Mark a task done (a call task needs /outcome: what happened)",
    tag="track-and-trace",
    security="staff",
    resource="task",
    responses={200: TASK},
)
async def complete_task(request: web.Request) -> web.Response:
    """Mark a task done."""
    user = await staff_user(request)
    return web.json_response(
        await tasks.complete_task(_services(request), user, request.match_info["id"])
    )


@api.operation(
    "POST",
    f"/api/v1/tasks/{_ID}/outcome",
    summary="Close a task with what happened (journalised, sealed); a call task needs this",
    tag="track-and-trace",
    security="staff",
    resource="task",
    body=named(
        "TaskOutcomeIn",
        obj(
            {
                "outcome": text_field(
                    "outcome_required", description='e.g. "ringede, talte med mor"'
                )
            },
            ("outcome",),
        ),
    ),
    responses={200: TASK},
)
async def task_outcome(request: web.Request) -> web.Response:
    """Close a task with what happened; the outcome is journalised on the case, sealed."""
    user = await staff_user(request)
    outcome = _text(body_of(request), "outcome", required=True)
    return web.json_response(
        await tasks.complete_task(
            _services(request), user, request.match_info["id"], outcome=outcome
        )
    )


@api.operation(
    "POST",
    f"/api/v1/tasks/{_ID}/send-still-working",
    summary='One click on a nudge: send "we are still working on your case" and close it',
    tag="track-and-trace",
    security="staff",
    resource="task",
    responses={200: {"type": "object"}},
)
async def still_working(request: web.Request) -> web.Response:
    """One click on a nudge: send "we are still working on your case" and close it."""
    user = await staff_user(request)
    return web.json_response(
        await tasks.still_working_from_task(_services(request), user, request.match_info["id"])
    )


# -- quiet hours ---------------------------------------------------------------------------------


@api.operation(
    "GET",
    "/api/v1/settings/quiet-hours",
    summary="The municipality's quiet hours",
    tag="track-and-trace",
    security="staff",
    responses={200: QUIET},
)
async def get_tenant_quiet(request: web.Request) -> web.Response:
    """The municipality's quiet hours."""
    user = await staff_user(request)
    async with _services(request).read() as conn:
        current = await quiet_store.settings_for(conn, user.tenant_id)
    return web.json_response(quiet_store.as_json(current))


@api.operation(
    "PUT",
    "/api/v1/settings/quiet-hours",
    summary="Set the municipality's quiet hours (leads and admins)",
    tag="track-and-trace",
    security="staff",
    body=QUIET_IN,
    responses={200: QUIET},
)
async def put_tenant_quiet(request: web.Request) -> web.Response:
    """Set the municipality's quiet hours (team leads and admins)."""
    user = await staff_user(request)
    if user.role not in ("lead", "admin"):
        raise Forbidden("Only a team lead or an admin may change this", code="forbidden")
    data = body_of(request)
    svc = _services(request)
    async with svc.write() as conn:
        new = quiet_store.parse(data, await quiet_store.settings_for(conn, user.tenant_id))
        await quiet_store.store(
            conn, tenant_id=user.tenant_id, person_id=None, settings=new, at=svc.clock.now()
        )
    return web.json_response(quiet_store.as_json(new))


@api.operation(
    "GET",
    f"/api/v1/persons/{_ID}/quiet-hours",
    summary="The quiet hours that apply to a participant, and whether they are their own",
    tag="track-and-trace",
    security="staff",
    resource="person",
    responses={200: PERSON_QUIET},
)
async def get_person_quiet(request: web.Request) -> web.Response:
    """The quiet hours that apply to a participant, and whether they are their own."""
    user = await staff_user(request)
    pid = request.match_info["id"]
    async with _services(request).read() as conn:
        await person_visible(conn, user, pid)
        own = await quiet_store.own_settings(conn, user.tenant_id, pid)
        current = own or await quiet_store.settings_for(conn, user.tenant_id)
    return web.json_response({**quiet_store.as_json(current), "own": own is not None})


@api.operation(
    "PUT",
    f"/api/v1/persons/{_ID}/quiet-hours",
    summary="Store a participant's own quiet-hours preference",
    tag="track-and-trace",
    security="staff",
    resource="person",
    body=QUIET_IN,
    responses={200: PERSON_QUIET},
)
async def put_person_quiet(request: web.Request) -> web.Response:
    """Store a participant's own quiet-hours preference."""
    user = await staff_user(request)
    pid = request.match_info["id"]
    data = body_of(request)
    svc = _services(request)
    async with svc.write() as conn:
        await person_visible(conn, user, pid)
        base = await quiet_store.settings_for(conn, user.tenant_id, pid)
        new = quiet_store.parse(data, base)
        await quiet_store.store(
            conn, tenant_id=user.tenant_id, person_id=pid, settings=new, at=svc.clock.now()
        )
    return web.json_response({**quiet_store.as_json(new), "own": True})


@api.operation(
    "DELETE",
    f"/api/v1/persons/{_ID}/quiet-hours",
    summary="Drop a participant's own preference: the municipality's applies again",
    tag="track-and-trace",
    security="staff",
    resource="person",
    responses={204: None},
)
async def clear_person_quiet(request: web.Request) -> web.Response:
    """Drop a participant's own preference: the municipality's applies again."""
    user = await staff_user(request)
    pid = request.match_info["id"]
    svc = _services(request)
    async with svc.write() as conn:
        await person_visible(conn, user, pid)
        await quiet_store.clear(conn, tenant_id=user.tenant_id, person_id=pid)
    return web.Response(status=204)
