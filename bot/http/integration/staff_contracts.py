"""Contracts of the caseworkers' API (staff tokens) under /api/v1.

The views live elsewhere (``bot/http/api.py``, ``bot/http/staffing_api.py``,
``journal/web.py``, ``scheduler/web.py``) and predate this module; their
contracts are declared here and enforced before the view runs by
:mod:`bot.http.integration.staff_gate`. ``tests/integration/test_openapi.py`` fails
when a route under /api/v1 has no contract, or a contract no route.

Request schemas check types, required fields and unknown fields. Value rules
(ranges, lengths, known steps or kinds) stay with the views, and a property's
``x-code`` keeps the error code those views have always answered with (a date
that is not a date is ``bad_date`` wherever it is refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.http.integration.api import ID, TS, api, obj, out
from bot.http.integration.openapi import Operation, named
from bot.http.validation import Schema

_NULL_STR: dict[str, Any] = {"type": ["string", "null"]}
_NULL_ID: dict[str, Any] = {"type": ["string", "null"], "format": "uuid"}
_INT: dict[str, Any] = {"type": "integer"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_STR: dict[str, Any] = {"type": "string"}


def _text(code: str = "bad_field", *, null: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": ["string", "null"] if null else "string", "x-code": code, **extra}


def _day(code: str = "bad_date", *, null: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"] if null else "string", "format": "date", "x-code": code}


def _moment(*, null: bool = False) -> dict[str, Any]:
    return {
        "type": ["string", "null"] if null else "string",
        "format": "date-time",
        "x-code": "bad_datetime",
        "description": "ISO 8601 with a UTC offset, e.g. 2025-03-04T10:00:00+01:00",
    }


def _flag() -> dict[str, Any]:
    return {"type": "boolean", "x-code": "bad_field"}


def _ref() -> dict[str, Any]:
    """An id in the body: text (an unknown or foreign id is a 404)."""
    return {"type": "string", "x-code": "bad_field"}


def _loose(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An answer object whose listed fields are typed; views may add more."""
    return {"type": "object", "required": list(required), "properties": properties}


def _items(item: dict[str, Any]) -> dict[str, Any]:
    return _loose({"items": {"type": "array", "items": item}}, ("items",))


def _errors(method: str, path: str, body: Schema | None) -> tuple[int, ...]:
    errors = {400, 401, 503}
    if "{" in path or method != "GET":
        errors.add(404)
    if method != "GET":
        errors |= {403, 409}
    if body is not None:
        errors |= {413, 415}
    if method == "POST":
        errors.add(422)
    return tuple(sorted(errors))


def staff(
    method: str,
    path: str,
    summary: str,
    *,
    tag: str,
    responses: Mapping[int, Schema | None],
    resource: str = "resource",
    body: Schema | None = None,
    query: Mapping[str, Schema] | None = None,
    description: str = "",
    body_type: str = "application/json",
    media: Mapping[int, tuple[str, ...]] | None = None,
    security: str = "staff",
    path_schemas: Mapping[str, Schema] | None = None,
) -> None:
    """Declare one caseworker route (staff token; Idempotency-Key optional on POST)."""
    api.declare(
        Operation(
            method,
            path,
            summary=summary,
            tag=tag,
            security=security,
            resource=resource,
            body=body,
            query=dict(query or {}),
            responses=dict(responses),
            errors=_errors(method, path, body)
            if security == "staff"
            else tuple(sorted({*_errors(method, path, body), 403})),
            description=description,
            body_type=body_type,
            media=dict(media or {}),
            path_schemas=dict(path_schemas or {}),
        )
    )


# -- conversations (bot/http/api.py) -----------------------------------------------------

THREAD_ITEM = named(
    "OpenThread",
    out(
        {
            "id": ID,
            "case_number": _NULL_STR,
            "participant_name": _NULL_STR,
            "open_count": {"type": "integer"},
            "urgent": _BOOL,
            "group": {
                "type": "string",
                "enum": ["mine", "covering", "team", "team_unassigned", "unassigned"],
            },
            "reply_by": _NULL_STR,
            "last_message_at": TS,
        }
    ),
)
MESSAGE = named(
    "Message",
    obj(
        {
            "id": ID,
            "direction": {"type": "string", "enum": ["in", "out"]},
            "kind": {"type": "string"},
            "body": {"type": "string"},
            "status": {"type": "string"},
            "awaiting_reply": {"type": "boolean"},
            "urgent": _BOOL,
            "acknowledged_at": _NULL_STR,
            "reply_by": _NULL_STR,
            "created_at": TS,
            # A reply queued in quiet hours (stilletid) goes when they end; null: now.
            "sends_at": _NULL_STR,
        },
        ("id", "direction", "kind", "body", "status", "created_at"),
    ),
)
THREAD = named(
    "Thread",
    out(
        {
            "id": ID,
            "case_number": _NULL_STR,
            "participant_name": _NULL_STR,
            "messages": {"type": "array", "items": MESSAGE},
        }
    ),
)
REPLY_IN = named(
    "ReplyIn",
    obj(
        {
            "body": _text(),
            "sensitive": _flag(),
            "promise_due": _day(null=True),
            "nature": {
                "type": "string",
                "enum": ["message", "guidance", "decision"],
                "x-code": "bad_field",
            },
            "urgent_reason": _text(
                "urgent_reason_required",
                null=True,
                description="Marks the reply urgent; journalised with it",
            ),
        },
        ("body",),
    ),
)

staff(
    "GET",
    "/api/v1/conversations",
    "Caseworker: my open threads, earliest reply-by first",
    tag="caseworker",
    responses={200: out({"items": {"type": "array", "items": THREAD_ITEM}})},
)
staff(
    "GET",
    "/api/v1/conversations/{id}",
    "Caseworker: read a thread (every message read is access-logged)",
    tag="caseworker",
    resource="conversation",
    responses={200: THREAD},
)
staff(
    "POST",
    "/api/v1/conversations/{id}/replies",
    "Caseworker: answer the citizen (through the outbox)",
    tag="caseworker",
    resource="conversation",
    body=REPLY_IN,
    responses={201: MESSAGE},
)
staff(
    "POST",
    "/api/v1/conversations/{id}/close",
    "Handled another way (e.g. by phone): close the thread with a journal note",
    tag="caseworker",
    resource="conversation",
    body=named("CloseIn", obj({"note": _text("bad_note")}, ("note",))),
    responses={200: _loose({"id": ID, "closed": _INT}, ("id",))},
)
staff(
    "POST",
    "/api/v1/messages/{id}/acknowledge",
    "I have picked up this urgent message: stop escalating it",
    tag="caseworker",
    resource="message",
    responses={200: _loose({"id": ID, "acknowledged": _BOOL, "changed": _BOOL}, ("id",))},
)

# -- staffing (bot/http/staffing_api.py) ------------------------------------------------

ABSENCE = named(
    "Absence",
    _loose(
        {
            "id": ID,
            "staff_id": ID,
            "starts_on": {"type": "string", "format": "date"},
            "ends_on": {"type": "string", "format": "date"},
            "substitute_id": _NULL_ID,
            "source": _STR,
            "reason": _NULL_STR,
        },
        ("id", "staff_id", "starts_on", "ends_on", "substitute_id", "source"),
    ),
)
staff(
    "POST",
    "/api/v1/absences",
    "Register an absence (fravær) for myself, or as lead/admin for a colleague",
    tag="staffing",
    body=named(
        "AbsenceIn",
        obj(
            {
                "staff_id": _ref(),
                "starts_on": _day(),
                "ends_on": _day(),
                "substitute_id": _text(null=True),
                "reason": _text(null=True, maxLength=200),
            },
            ("starts_on", "ends_on"),
        ),
    ),
    responses={201: ABSENCE},
)
staff(
    "GET",
    "/api/v1/staff/{id}/absences",
    "A staff member's absences (own, own team as lead, all as admin)",
    tag="staffing",
    resource="staff",
    responses={200: _items(ABSENCE)},
)
staff(
    "DELETE",
    "/api/v1/absences/{id}",
    "Remove an absence",
    tag="staffing",
    resource="absence",
    responses={204: None},
)
staff(
    "POST",
    "/api/v1/staff/{id}/absences/ical",
    "Import absences from an iCalendar file",
    tag="staffing",
    resource="staff",
    body={"type": "string", "description": "An iCalendar file (at most 256 KiB)"},
    body_type="text/calendar",
    responses={200: _loose({"created": _INT, "updated": _INT}, ("created", "updated"))},
)
staff(
    "PUT",
    "/api/v1/staff/{id}/work-phone",
    "The work phone that receives pages (never content) and may answer OK",
    tag="staffing",
    resource="staff",
    body=named("WorkPhoneIn", obj({"phone": _text()}, ("phone",))),
    responses={204: None},
)
staff(
    "PUT",
    "/api/v1/teams/{id}/hours",
    "Opening hours, after-hours line, escalation limit and reply guarantee of a team",
    tag="staffing",
    resource="team",
    body=named(
        "TeamHoursIn",
        obj(
            {
                "opens_at": _text("bad_time", description="HH:MM"),
                "closes_at": _text("bad_time", description="HH:MM"),
                "after_hours_phone": _text("bad_number", null=True),
                "escalate_after_min": {"type": "integer", "x-code": "bad_field"},
                "reply_days": {"type": "integer", "x-code": "bad_field"},
            }
        ),
    ),
    responses={
        200: _loose(
            {
                "id": ID,
                "opens_at": _STR,
                "closes_at": _STR,
                "after_hours_phone": _NULL_STR,
                "escalate_after_min": _INT,
                "reply_days": _INT,
            },
            ("id", "opens_at", "closes_at"),
        )
    },
)
staff(
    "POST",
    "/api/v1/closing-days",
    "Add a day the municipality is closed (leads and admins)",
    tag="staffing",
    body=named("ClosingDayIn", obj({"day": _day(), "name": _text()}, ("day", "name"))),
    responses={201: _loose({"day": _STR, "name": _STR}, ("day", "name"))},
)
staff(
    "PUT",
    "/api/v1/teams/{id}/rotation",
    "The weekly duty rotation: weekday (0 = Monday) to staff id; replaces the old one",
    tag="staffing",
    resource="team",
    body=named(
        "RotationIn",
        obj(
            {
                "rotation": {
                    "type": "object",
                    "additionalProperties": _ref(),
                    "x-code": "bad_field",
                }
            },
            ("rotation",),
        ),
    ),
    responses={200: _loose({"team_id": ID, "rotation": {"type": "object"}}, ("team_id",))},
)
staff(
    "POST",
    "/api/v1/teams/{id}/overrides",
    "Give one day's duty to someone else",
    tag="staffing",
    resource="team",
    body=named("OverrideIn", obj({"day": _day(), "staff_id": _ref()}, ("day", "staff_id"))),
    responses={
        201: _loose({"id": ID, "team_id": ID, "day": _STR, "staff_id": ID}, ("id", "team_id"))
    },
)
staff(
    "GET",
    "/api/v1/teams/{id}/roster",
    "Who is on duty, day by day, and the days with nobody on duty (the gap report)",
    tag="staffing",
    resource="team",
    query={
        "from": {"type": "string", "format": "date", "x-code": "bad_date"},
        "days": {"type": "integer", "default": 28, "x-code": "bad_field"},
    },
    responses={
        200: _loose(
            {
                "team_id": ID,
                "days": {"type": "array", "items": {"type": "object"}},
                "gaps": {"type": "array"},
            },
            ("team_id", "days", "gaps"),
        )
    },
)
staff(
    "GET",
    "/api/v1/teams/{id}/reply-stats",
    "The reply guarantee per week (leads and admins): JSON, or CSV with format=csv",
    tag="staffing",
    resource="team",
    query={
        "from": {"type": "string", "format": "date", "x-code": "bad_date"},
        "to": {"type": "string", "format": "date", "x-code": "bad_date"},
        "format": {"type": "string", "enum": ["json", "csv"], "x-code": "bad_format"},
    },
    responses={200: _items({"type": "object"})},
    media={200: ("text/csv",)},
)
staff(
    "POST",
    "/api/v1/triage-terms",
    "Add an urgent word or risk phrase for the municipality (leads and admins)",
    tag="staffing",
    body=named(
        "TriageTermIn",
        obj(
            {
                "kind": {"type": "string", "enum": ["urgent", "risk"], "x-code": "bad_field"},
                "term": _text(),
            },
            ("kind", "term"),
        ),
    ),
    responses={201: _loose({"kind": _STR, "term": _STR}, ("kind", "term"))},
)
staff(
    "POST",
    "/api/v1/cases/{id}/owner",
    "Give a case a new caseworker; the citizen is told who their new contact is",
    tag="staffing",
    resource="case",
    body=named("OwnerIn", obj({"owner_id": _ref()}, ("owner_id",))),
    responses={200: _loose({"case_id": ID, "owner_id": ID, "told": _INT}, ("case_id",))},
)

# -- the case file (journal/web.py) ------------------------------------------------------

ENTRY = named(
    "JournalEntry",
    _loose(
        {
            "id": ID,
            "case_id": ID,
            "seq": _INT,
            "kind": _STR,
            "subject": _NULL_STR,
            "created_at": TS,
            "hash": _STR,
            "export": {},
        },
        ("id", "case_id"),
    ),
)
staff(
    "POST",
    "/api/v1/cases/{case_id}/notes",
    "File a caseworker's note on the case (owner or team lead)",
    tag="journal",
    resource="case",
    body=named("NoteIn", obj({"subject": _text(), "text": _text()}, ("subject", "text"))),
    responses={201: ENTRY},
)
staff(
    "GET",
    "/api/v1/cases/{case_id}/journal",
    "The case's journal, in order, with each entry's export status",
    tag="journal",
    resource="case",
    responses={
        200: _loose(
            {"case_id": ID, "case_number": _NULL_STR, "items": {"type": "array", "items": ENTRY}},
            ("case_id", "items"),
        )
    },
)
staff(
    "GET",
    "/api/v1/cases/{case_id}/journal/{entry_id}",
    "One journal entry with its export status",
    tag="journal",
    resource="case",
    responses={200: ENTRY},
)
staff(
    "GET",
    "/api/v1/persons/{person_id}/access-copy",
    "Aktindsigt: the person's messages and staff look-ups, as JSON or PDF (leads/admins)",
    tag="journal",
    resource="person",
    query={"format": {"type": "string", "enum": ["json", "pdf"], "x-code": "bad_format"}},
    responses={200: {"type": "object"}},
    media={200: ("application/pdf",)},
)
staff(
    "POST",
    "/api/v1/persons/{id}/restriction",
    "An erasure request, recorded as a restriction of processing (never a deletion)",
    tag="journal",
    resource="person",
    body=named("RestrictionIn", obj({"reason": _text("bad_reason")}, ("reason",))),
    responses={201: {"type": "object"}},
)

# -- track and trace (scheduler/web.py) --------------------------------------------------

TIMELINE = named(
    "Timeline",
    _loose(
        {
            "case_id": ID,
            "case_type": _NULL_STR,
            "current": _NULL_STR,
            "steps": {
                "type": "array",
                "items": _loose(
                    {
                        "step": _STR,
                        "title": _STR,
                        "status": _STR,
                        "expected_on": _NULL_STR,
                        "started_at": _NULL_STR,
                        "completed_at": _NULL_STR,
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
    _loose(
        {
            "id": ID,
            "case_id": ID,
            "starts_at": TS,
            "ends_at": TS,
            "place": _NULL_STR,
            "video_url": _NULL_STR,
            "attendees": {"type": "array", "items": _STR},
            "status": _STR,
            "sequence": _INT,
            "reminders": {"type": "array"},
        },
        ("id", "case_id", "starts_at", "status"),
    ),
)
DEADLINE = named("Deadline", _loose({"id": ID, "case_id": ID, "kind": _STR}, ("id",)))
SCHEDULED = named(
    "ScheduledSms",
    _loose({"id": ID, "conversation_id": ID, "send_at": _STR, "status": _STR}, ("id",)),
)
TASK = named("Task", _loose({"id": ID, "kind": _STR, "state": _STR}, ("id",)))
QUIET = named(
    "QuietHours",
    _loose(
        {
            "enabled": _BOOL,
            "quiet_from": _STR,
            "quiet_until": _STR,
            "sundays": _BOOL,
            "holidays": _BOOL,
        },
        ("enabled", "quiet_from", "quiet_until", "sundays", "holidays"),
    ),
)
QUIET_IN = named(
    "QuietHoursIn",
    obj(
        {
            "enabled": _flag(),
            "quiet_from": _text("bad_time", description="HH:MM"),
            "quiet_until": _text("bad_time", description="HH:MM"),
            "sundays": _flag(),
            "holidays": _flag(),
        }
    ),
)
PERSON_QUIET = named(
    "PersonQuietHours",
    {
        **QUIET,
        "required": [*QUIET["required"], "own"],
        "properties": {**QUIET["properties"], "own": _BOOL},
    },
)

staff(
    "POST",
    "/api/v1/cases/{id}/timeline",
    "Start the case's timeline (milepæle) from its case type's template",
    tag="track-and-trace",
    resource="case",
    body=named(
        "TimelineIn",
        obj(
            {
                "case_type": _text(null=True),
                "start": _day(null=True),
                "expected": {
                    "type": "object",
                    "additionalProperties": _day(),
                    "x-code": "bad_field",
                    "description": "step → expected date",
                },
            }
        ),
    ),
    responses={201: TIMELINE},
)
staff(
    "GET",
    "/api/v1/cases/{id}/timeline",
    "The case's timeline",
    tag="track-and-trace",
    resource="case",
    responses={200: TIMELINE},
)
staff(
    "POST",
    "/api/v1/cases/{id}/timeline/moves",
    "Move the timeline to a step (backwards only with a reason); tells the participants",
    tag="track-and-trace",
    resource="case",
    body=named(
        "MoveIn",
        obj(
            {
                "step": _text(),
                "reason": _text(null=True),
                "next_expected_on": _day(null=True),
                "notify": _flag(),
            },
            ("step",),
        ),
    ),
    responses={200: TIMELINE},
)
staff(
    "POST",
    "/api/v1/cases/{id}/appointments",
    "Book an appointment and schedule its reminders",
    tag="track-and-trace",
    resource="case",
    body=named(
        "AppointmentIn",
        obj(
            {
                "starts_at": _moment(),
                "ends_at": _moment(null=True),
                "place": _text(null=True),
                "video_url": _text(null=True),
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
staff(
    "GET",
    "/api/v1/cases/{id}/appointments",
    "The case's appointments",
    tag="track-and-trace",
    resource="case",
    responses={200: _items(APPOINTMENT)},
)
staff(
    "GET",
    "/api/v1/appointments/{id}.ics",
    "The appointment as an iCalendar file",
    tag="track-and-trace",
    resource="appointment",
    responses={200: None},
    media={200: ("text/calendar",)},
)
staff(
    "GET",
    "/api/v1/appointments/{id}",
    "One appointment with its reminders",
    tag="track-and-trace",
    resource="appointment",
    responses={200: APPOINTMENT},
)
staff(
    "PATCH",
    "/api/v1/appointments/{id}",
    "Move an appointment (or change where it is); reminders follow",
    tag="track-and-trace",
    resource="appointment",
    body=named(
        "AppointmentPatch",
        obj(
            {
                "starts_at": _moment(null=True),
                "ends_at": _moment(null=True),
                "place": _text(null=True),
                "video_url": _text(null=True),
                "notify": _flag(),
            }
        ),
    ),
    responses={200: APPOINTMENT},
)
staff(
    "DELETE",
    "/api/v1/appointments/{id}",
    "Cancel an appointment; its reminders are withdrawn",
    tag="track-and-trace",
    resource="appointment",
    query={"notify": {"type": "string", "enum": ["true", "false"], "default": "true"}},
    responses={200: APPOINTMENT},
)
staff(
    "POST",
    "/api/v1/cases/{id}/deadlines",
    "A deadline (frist) with a reminder N working days before",
    tag="track-and-trace",
    resource="case",
    body=named(
        "DeadlineIn",
        obj(
            {
                "kind": _text(),
                "due_on": _day(),
                "remind_working_days_before": {"type": "integer", "x-code": "bad_offset"},
            },
            ("kind", "due_on"),
        ),
    ),
    responses={201: DEADLINE},
)
staff(
    "GET",
    "/api/v1/cases/{id}/deadlines",
    "The case's deadlines",
    tag="track-and-trace",
    resource="case",
    responses={200: _items(DEADLINE)},
)
staff(
    "DELETE",
    "/api/v1/deadlines/{id}",
    "Cancel a deadline; its reminders are withdrawn",
    tag="track-and-trace",
    resource="deadline",
    responses={200: DEADLINE},
)
staff(
    "POST",
    "/api/v1/conversations/{id}/promise",
    "Promise the citizen an answer by a date",
    tag="track-and-trace",
    resource="conversation",
    body=named("PromiseIn", obj({"due": _day()}, ("due",))),
    responses={201: _loose({"id": ID, "conversation_id": ID, "due": _STR}, ("id",))},
)
staff(
    "POST",
    "/api/v1/conversations/{id}/scheduled",
    "Send an SMS later (never in quiet hours)",
    tag="track-and-trace",
    resource="conversation",
    body=named(
        "ScheduledIn",
        obj(
            {
                "body": _text(),
                "send_at": _moment(),
                "urgent_reason": _text("urgent_reason_required", null=True),
            },
            ("body", "send_at"),
        ),
    ),
    responses={201: SCHEDULED},
)
staff(
    "GET",
    "/api/v1/conversations/{id}/scheduled",
    "Scheduled SMS in the thread that have not gone out",
    tag="track-and-trace",
    resource="conversation",
    responses={200: _items(SCHEDULED)},
)
staff(
    "DELETE",
    "/api/v1/conversations/{id}/scheduled/{message_id}",
    "Withdraw a scheduled SMS before it goes out",
    tag="track-and-trace",
    resource="conversation",
    responses={204: None},
)
staff(
    "GET",
    "/api/v1/tasks",
    "My open follow-up tasks (a lead also sees the team's)",
    tag="track-and-trace",
    responses={200: _items(TASK)},
)
staff(
    "POST",
    "/api/v1/tasks/{id}/done",
    "Mark a task done",
    tag="track-and-trace",
    resource="task",
    responses={200: TASK},
)
staff(
    "POST",
    "/api/v1/tasks/{id}/send-still-working",
    'One click on a nudge: send "we are still working on your case" and close it',
    tag="track-and-trace",
    resource="task",
    responses={200: {"type": "object"}},
)
staff(
    "GET",
    "/api/v1/settings/quiet-hours",
    "The municipality's quiet hours",
    tag="track-and-trace",
    responses={200: QUIET},
)
staff(
    "PUT",
    "/api/v1/settings/quiet-hours",
    "Set the municipality's quiet hours (leads and admins)",
    tag="track-and-trace",
    body=QUIET_IN,
    responses={200: QUIET},
)
staff(
    "GET",
    "/api/v1/persons/{id}/quiet-hours",
    "The quiet hours that apply to a participant, and whether they are their own",
    tag="track-and-trace",
    resource="person",
    responses={200: PERSON_QUIET},
)
staff(
    "PUT",
    "/api/v1/persons/{id}/quiet-hours",
    "Store a participant's own quiet-hours preference",
    tag="track-and-trace",
    resource="person",
    body=QUIET_IN,
    responses={200: PERSON_QUIET},
)
staff(
    "DELETE",
    "/api/v1/persons/{id}/quiet-hours",
    "Drop a participant's own preference: the municipality's applies again",
    tag="track-and-trace",
    resource="person",
    responses={204: None},
)

# -- case-type templates (scheduler/web.py): the case system or a lead writes them ------

CASE_TYPE_CODE: dict[str, Any] = {
    "type": "string",
    "pattern": "^[a-z][a-z0-9_]{1,31}$",
    "description": "The case type's code, e.g. paragraf_50",
}
TEMPLATE = named(
    "CaseTypeTemplate",
    _loose(
        {"code": _STR, "version": _INT, "steps": {"type": "array"}, "updated_at": TS},
        ("code", "version"),
    ),
)
for _method, _summary in (
    ("GET", "The municipality's timeline template and follow-up policy for a case type"),
    ("PUT", "Replace a case type's template (a new version); running timelines keep theirs"),
):
    staff(
        _method,
        "/api/v1/case-types/{code}/template",
        _summary,
        tag="track-and-trace",
        resource="case_type",
        security="either",
        path_schemas={"code": CASE_TYPE_CODE},
        body=named(
            "CaseTypeTemplateIn",
            obj(
                {
                    "steps": {"type": "array", "items": {"type": "object"}, "x-code": "bad_field"},
                    "nudge_days": {"type": "integer", "x-code": "bad_offset"},
                    "auto_update": {"type": "boolean", "x-code": "bad_field"},
                },
                ("steps", "nudge_days", "auto_update"),
            ),
        )
        if _method == "PUT"
        else None,
        responses={200: TEMPLATE},
    )
