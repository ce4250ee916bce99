"""The JSON API for caseworkers (per-user bearer tokens)."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import BadInput
from bot.domain import conversations as conv
from bot.http.auth import json_object, staff_user

routes = web.RouteTableDef()


@routes.get("/api/v1/conversations")
async def list_conversations(request: web.Request) -> web.Response:
    """My open conversations: threads with a message waiting for an answer."""
    user = await staff_user(request)
    items = await conv.list_open(request.app[SERVICES], user)
    return web.json_response({"items": items})


@routes.get("/api/v1/conversations/{id}")
async def read_conversation(request: web.Request) -> web.Response:
    """One thread, decrypted; each message read is recorded in the access log."""
    user = await staff_user(request)
    thread = await conv.read_thread(request.app[SERVICES], user, request.match_info["id"])
    return web.json_response(thread)


@routes.post("/api/v1/conversations/{id}/replies")
async def post_reply(request: web.Request) -> web.Response:
    """Answer the citizen: the SMS goes through the outbox."""
    user = await staff_user(request)
    data = await json_object(
        request, allowed={"body", "sensitive", "promise_due", "nature", "urgent_reason"}
    )
    nature = data.get("nature", "message")
    if nature not in conv.NATURES:
        raise BadInput("nature must be message, guidance or decision", code="bad_field")
    body = data.get("body")
    if not isinstance(body, str):
        raise BadInput("body must be text", code="bad_field")
    sensitive = data.get("sensitive", False)
    if not isinstance(sensitive, bool):
        raise BadInput("sensitive must be true or false", code="bad_field")
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
        sensitive=sensitive,
        promise_due=promise_due,
        nature=str(nature),
        urgent_reason=data.get("urgent_reason"),
    )
    return web.json_response(message, status=201)
