"""The JSON API for caseworkers (per-user bearer tokens): their threads and replies."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput
from bot.domain import conversations as conv
from bot.http.auth import body_of, staff_user
from bot.http.integration.api import ID, TS, obj, out
from bot.http.integration.fields import BOOL, NULL_STR, day, flag, text
from bot.http.integration.openapi import Api, named

api = Api()
routes = api.routes

THREAD_ITEM = named(
    "OpenThread",
    out(
        {
            "id": ID,
            "case_number": NULL_STR,
            "participant_name": NULL_STR,
            "open_count": {"type": "integer"},
            "urgent": BOOL,
            # Bekymring (a concern): answer today; listed first after the urgent threads.
            "concern": BOOL,
            "group": {
                "type": "string",
                "enum": ["mine", "covering", "team", "team_unassigned", "unassigned"],
            },
            "reply_by": NULL_STR,
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
            "urgent": BOOL,
            # What triage read (akut | bekymring | null) and why (the phrase as the
            # citizen wrote it, or the model's strongest features).
            "triage_level": {"type": ["string", "null"], "enum": ["akut", "bekymring", None]},
            "triage_why": {"type": "array", "items": {"type": "string"}},
            "acknowledged_at": NULL_STR,
            "reply_by": NULL_STR,
            "created_at": TS,
            # A reply queued in quiet hours (stilletid) goes when they end; null: now.
            "sends_at": NULL_STR,
            # Why the send-time gate held a withheld message back (bot.domain.gate): opted_out,
            # restricted, no_consent, authority_not_in_force or decision; else null.
            "withheld_reason": NULL_STR,
            # A family message: the status of the newest message a caseworker wrote in the
            # run after it (failed, withheld…: the family never got the answer); null: none.
            "answer_status": NULL_STR,
        },
        ("id", "direction", "kind", "body", "status", "created_at"),
    ),
)
THREAD = named(
    "Thread",
    out(
        {
            "id": ID,
            "case_number": NULL_STR,
            "participant_name": NULL_STR,
            "person_id": ID,
            "messages": {"type": "array", "items": MESSAGE},
        }
    ),
)
REPLY_IN = named(
    "ReplyIn",
    obj(
        {
            "body": text(),
            "sensitive": flag(),
            "promise_due": day(null=True),
            "nature": {
                "type": "string",
                "enum": ["message", "guidance", "decision"],
                "x-code": "bad_field",
            },
            "urgent_reason": text(
                "urgent_reason_required",
                null=True,
                description="Marks the reply urgent; journalised with it",
            ),
        },
        ("body",),
    ),
)


@api.operation(
    "GET",
    "/api/v1/conversations",
    summary="Caseworker: my open threads, earliest reply-by first",
    tag="caseworker",
    security="staff",
    responses={200: out({"items": {"type": "array", "items": THREAD_ITEM}})},
)
async def list_conversations(request: web.Request) -> web.Response:
    """My open conversations: threads with a message waiting for an answer."""
    user = await staff_user(request)
    items = await conv.list_open(request.app[SERVICES], user)
    return web.json_response({"items": items})


@api.operation(
    "GET",
    "/api/v1/conversations/{id}",
    summary="Caseworker: read a thread (every message read is access-logged)",
    tag="caseworker",
    security="staff",
    resource="conversation",
    responses={200: THREAD},
)
async def read_conversation(request: web.Request) -> web.Response:
    """One thread, decrypted; each message read is recorded in the access log."""
    user = await staff_user(request)
    thread = await conv.read_thread(request.app[SERVICES], user, request.match_info["id"])
    return web.json_response(thread)


@api.operation(
    "POST",
    "/api/v1/conversations/{id}/replies",
    summary="Caseworker: answer the citizen (through the outbox)",
    tag="caseworker",
    security="staff",
    resource="conversation",
    body=REPLY_IN,
    responses={201: MESSAGE},
)
async def post_reply(request: web.Request) -> web.Response:
    """Answer the citizen: the SMS goes through the outbox."""
    user = await staff_user(request)
    data = body_of(request)
    nature = data.get("nature", "message")
    if nature not in conv.NATURES:
        raise BadInput("nature must be message, guidance or decision", code="bad_field")
    body = data["body"]
    promise = data.get("promise_due")
    try:
        promise_due = date.fromisoformat(promise) if isinstance(promise, str) else None
    except ValueError:
        promise_due = None
    if promise is not None and promise_due is None:
        raise BadInput("promise_due must be a date (YYYY-MM-DD)", code="bad_date")
    message = await conv.reply(
        request.app[SERVICES],
        user,
        request.match_info["id"],
        body,
        sensitive=data.get("sensitive", False),
        promise_due=promise_due,
        nature=str(nature),
        urgent_reason=data.get("urgent_reason"),
    )
    return web.json_response(message, status=201)
