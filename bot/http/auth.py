"""Who is calling, and what they sent: shared by every JSON view.

The route's contract (:meth:`bot.http.integration.openapi.Api.operation`)
authenticates the caller and validates the body before the view runs; these
helpers hand the view what it found.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import ApiError
from bot.base.staff import StaffUser
from bot.domain import conversations as conv
from bot.domain.integration.credentials import Integration

# The caseworker behind the request, once authenticated (the contract
# authenticates before the view; the view's own call then costs nothing).
STAFF_USER = web.RequestKey("staff_user", StaffUser)
# The integration key behind a request to a route open to keys and caseworkers.
INTEGRATION = web.RequestKey("integration", Integration)
# The request's JSON body, validated against the route's declared schema.
BODY = web.RequestKey("validated_body", dict)
# The deployment's operator token (TOVHOLDER_OPERATOR_TOKEN); "": operator routes are off.
OPERATOR_TOKEN = web.AppKey("operator_token", str)


def bearer_token(request: web.Request) -> str | None:
    """The bearer token in the Authorization header, if any."""
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


def require_operator(request: web.Request) -> None:
    """The caller holds the deployment's operator token (not a municipality's key).

    Raises:
        ApiError: 401 ``operator_token_required`` when no operator token is
            configured (the operator routes are off), 401 ``unauthorized`` when
            the bearer token is missing or not the operator token.
    """
    expected = request.app.get(OPERATOR_TOKEN, "")
    if not expected:
        raise ApiError(
            "Operator routes need TOVHOLDER_OPERATOR_TOKEN on the server",
            code="operator_token_required",
            status=401,
        )
    given = bearer_token(request) or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError("The operator token is required", code="unauthorized", status=401)


def integration_of(request: web.Request) -> Integration | None:
    """The integration key that called a route open to keys and caseworkers; None: a caseworker."""
    return request.get(INTEGRATION)


def body_of(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, already checked against the route's declared schema.

    Duplicate keys, NaN and Infinity, unknown fields and wrong types were
    refused before the view ran (400 with a stable code).
    """
    body: dict[str, Any] = request[BODY]
    return body
