"""One place that turns errors into responses.

An ApiError becomes JSON with its stable code; aiohttp's own HTTP errors keep
their status but speak the same JSON; anything else is logged with the request
id and answered 500 without internals.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.base.errors import ApiError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REQUEST_ID = web.RequestKey("request_id", str)

# Seconds a client has to send a whole request body (a body trickled a byte at
# a time must not hold a connection and a worker's memory for minutes).
BODY_DEADLINE = web.AppKey("body_deadline", float)
DEFAULT_BODY_DEADLINE = 15.0

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def error_response(status: int, code: str, message: str, request_id: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}},
        status=status,
        headers={"X-Request-Id": request_id},
    )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    try:
        response = await handler(request)
    except ApiError as exc:
        if exc.status >= 500:
            log.warning(
                "request %s: %s (%s)", request_id, exc.code, exc.__cause__.__class__.__name__
            )
        return error_response(exc.status, exc.code, exc.message, request_id)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return error_response(exc.status, code, exc.reason, request_id)
    except Exception:
        log.exception("request %s failed", request_id)
        return error_response(500, "internal", "Something went wrong on our side", request_id)
    response.headers["X-Request-Id"] = request_id
    return response


@web.middleware
async def body_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read a request's body within the deadline, before the view sees it (408 if not).

    The body is read here once (up to the app's size limit, 413 beyond) and
    kept, so the view's ``read``/``post``/``json`` use it. Multipart uploads
    are streamed by their views under their own limits, so they pass through.
    """
    if request.body_exists and not request.content_type.startswith("multipart/"):
        deadline = request.app.get(BODY_DEADLINE, DEFAULT_BODY_DEADLINE)
        try:
            async with asyncio.timeout(deadline):
                await request.read()
        except TimeoutError:
            raise ApiError(
                "The request body took too long to arrive", code="request_timeout", status=408
            ) from None
    return await handler(request)
