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
    """Have a request's whole body arrive within the deadline (408 if not).

    An ordinary body is read here once (up to the app's size limit, 413 beyond)
    and kept, so the view's ``read``/``post``/``json`` use it. A multipart
    upload is streamed by its view under its own limits: the view runs under the
    deadline until the body's last byte has arrived, and is cancelled (nothing
    it began is committed) and the connection closed if it has not by then.
    """
    if not request.body_exists:
        return await handler(request)
    deadline = request.app.get(BODY_DEADLINE, DEFAULT_BODY_DEADLINE)
    if request.content_type.startswith("multipart/"):
        return await _streamed_in_time(request, handler, deadline)
    try:
        async with asyncio.timeout(deadline):
            await request.read()
    except TimeoutError:
        raise ApiError(
            "The request body took too long to arrive", code="request_timeout", status=408
        ) from None
    return await handler(request)


async def _streamed_in_time(
    request: web.Request, handler: Handler, deadline: float
) -> web.StreamResponse:
    """Run a view that streams the body; the deadline holds until the body's end arrives."""
    inside = True
    try:
        async with asyncio.timeout(deadline) as window:

            def arrived() -> None:
                # The last byte lifts the deadline: what the view does after it is not timed.
                if inside and not window.expired():
                    window.reschedule(None)

            if request.content.is_eof():
                arrived()
            else:
                request.content.on_eof(arrived)
            try:
                return await handler(request)
            finally:
                inside = False
    except TimeoutError:
        log.info("request %s: a streamed body was cut at the deadline", request.get(REQUEST_ID))
        response = error_response(
            408,
            "request_timeout",
            "The request body took too long to arrive",
            request.get(REQUEST_ID, ""),
        )
        # Connection: close; aiohttp then reads and throws away what still trickles in for
        # a few seconds at most (a lingering close, so that the 408 is not lost to a reset).
        response.force_close()
        return response
