"""Contracts of the caseworker API in :mod:`bot.web.api` (views owned elsewhere).

They are declared here, not beside the views, because those views predate
this module; the OpenAPI test fails if a declared route disappears.
"""

from __future__ import annotations

from typing import Any

from bot.integration.api import ID, TS, api, obj, out
from bot.integration.openapi import Operation, named

_NULL_STR: dict[str, Any] = {"type": ["string", "null"]}

THREAD_ITEM = named(
    "OpenThread",
    out(
        {
            "id": ID,
            "case_number": _NULL_STR,
            "participant_name": _NULL_STR,
            "open_count": {"type": "integer"},
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
            "reply_by": _NULL_STR,
            "created_at": TS,
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
            "body": {"type": "string"},
            "sensitive": {"type": "boolean"},
            "promise_due": {"type": "string", "format": "date"},
            "nature": {"type": "string", "enum": ["message", "guidance", "decision"]},
        },
        ("body",),
    ),
)

api.declare(
    Operation(
        "GET",
        "/api/v1/conversations",
        summary="Caseworker: my open threads, earliest reply-by first",
        tag="caseworker",
        security="staff",
        responses={200: out({"items": {"type": "array", "items": THREAD_ITEM}})},
        errors=(401, 503),
    )
)
api.declare(
    Operation(
        "GET",
        "/api/v1/conversations/{id}",
        summary="Caseworker: read a thread (every message read is access-logged)",
        tag="caseworker",
        security="staff",
        resource="conversation",
        responses={200: THREAD},
        errors=(401, 404, 503),
    )
)
api.declare(
    Operation(
        "POST",
        "/api/v1/conversations/{id}/replies",
        summary="Caseworker: answer the citizen (through the outbox)",
        tag="caseworker",
        security="staff",
        resource="conversation",
        body=REPLY_IN,
        responses={201: MESSAGE},
        errors=(400, 401, 404, 413, 415, 503),
    )
)
