"""The JSON API for caseworkers (per-user bearer tokens)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot import conversations as conv
from bot.errors import ApiError, BadInput
from bot.web.keys import SERVICES

routes = web.RouteTableDef()


def _token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def _user(request: web.Request) -> conv.StaffUser:
    return await conv.authenticate(request.app[SERVICES], _token(request))


async def _json_object(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ApiError("Send JSON", code="unsupported_media_type", status=415)
    try:
        data = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("The body is not valid JSON", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise BadInput("The body must be a JSON object", code="malformed_json")
    return data


@routes.get("/api/v1/conversations")
async def list_conversations(request: web.Request) -> web.Response:
    """My open conversations: threads with a message waiting for an answer."""
    user = await _user(request)
    items = await conv.list_open(request.app[SERVICES], user)
    return web.json_response({"items": items})


@routes.get("/api/v1/conversations/{id}")
async def read_conversation(request: web.Request) -> web.Response:
    """One thread, decrypted; each message read is recorded in the access log."""
    user = await _user(request)
    thread = await conv.read_thread(request.app[SERVICES], user, request.match_info["id"])
    return web.json_response(thread)


@routes.post("/api/v1/conversations/{id}/replies")
async def post_reply(request: web.Request) -> web.Response:
    """Answer the citizen: the SMS goes through the outbox."""
    user = await _user(request)
    data = await _json_object(request)
    unknown = set(data) - {"body"}
    if unknown:
        raise BadInput(f"Unknown field: {sorted(unknown)[0]}", code="unknown_field")
    body = data.get("body")
    if not isinstance(body, str):
        raise BadInput("body must be text", code="bad_field")
    message = await conv.reply(request.app[SERVICES], user, request.match_info["id"], body)
    return web.json_response(message, status=201)
