"""Who is calling, and what they sent: shared by every JSON view."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import ApiError, BadInput
from bot.base.staff import StaffUser
from bot.domain import conversations as conv
from bot.http.validation import strict_json_loads

# The caseworker behind the request, once authenticated (the contract gate
# authenticates before the view; the view's own call then costs nothing).
STAFF_USER = web.RequestKey("staff_user", StaffUser)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def staff_user(request: web.Request) -> StaffUser:
    """The staff member behind the request's bearer token (401 otherwise)."""
    known: StaffUser | None = request.get(STAFF_USER)
    if known is not None:
        return known
    user = await conv.authenticate(request.app[SERVICES], bearer_token(request))
    request[STAFF_USER] = user
    return user


async def json_object(
    request: web.Request, allowed: Collection[str] | None = None
) -> dict[str, Any]:
    """The request's JSON object body; unknown fields are refused when ``allowed`` is given.

    Duplicate keys, NaN and Infinity are not JSON and are refused like any
    other malformed body (400 ``malformed_json``).
    """
    if request.content_type != "application/json":
        raise ApiError("Send JSON", code="unsupported_media_type", status=415)
    try:
        data = strict_json_loads(await request.read())
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadInput("The body is not valid JSON", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise BadInput("The body must be a JSON object", code="malformed_json")
    if allowed is not None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise BadInput(f"Unknown field: {unknown[0]}", code="unknown_field")
    return data
