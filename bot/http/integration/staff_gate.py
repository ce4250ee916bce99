"""The gate in front of the caseworkers' API: declared contracts and Idempotency-Key.

The staff-token views (``bot/http/api.py``, ``bot/http/staffing_api.py``,
``journal/web.py``, ``scheduler/web.py``) are plain aiohttp handlers. Their
contracts are declared in :mod:`bot.http.integration.staff_contracts`; this one
middleware enforces them before any view runs, so each view need not:

1. authenticate the caseworker (401), remembered on the request for the view
   (a route open to integration keys too authenticates in its view);
2. every id in the path is one of ours, else 404 as for an unknown id;
3. query parameters are declared and well-formed (400 ``unknown_parameter``,
   ``bad_parameter``);
4. the body has the declared media type (415), fits (413), is JSON (400
   ``malformed_json``) and matches its schema (400 ``unknown_field``,
   ``missing_field``, ``bad_field`` or the property's own ``x-code``);
5. a POST with ``Idempotency-Key`` has one effect and one answer (see
   :mod:`bot.domain.integration.idempotency`). The header is optional for
   caseworkers: the browser inbox and older clients post without it.

Every check runs before the view, so refused input writes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from aiohttp import web

from bot.base.appkeys import SERVICES
from bot.base.errors import ApiError, Unauthorized
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.integration import idempotency
from bot.http.auth import bearer_token, staff_user
from bot.http.integration.api import api
from bot.http.integration.openapi import Operation, check_ids, read_body, read_query
from bot.http.middleware import Handler

log = logging.getLogger(__name__)

# How long a duplicate waits for the first request's answer, and how often it looks.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05


def operation_of(request: web.Request) -> Operation | None:
    """The declared contract of the route this request matched, if any."""
    route = getattr(request.match_info, "route", None)
    resource = getattr(route, "resource", None)
    if resource is None:
        return None
    # HEAD runs the GET view: it gets the GET's checks.
    method = "GET" if request.method == "HEAD" else request.method
    return api.operations.get((method, resource.canonical))


async def _raw_body(request: web.Request, op: Operation) -> bytes:
    if request.content_type != op.body_type:
        raise ApiError(f"Send {op.body_type}", code="unsupported_media_type", status=415)
    return await request.read()  # aiohttp enforces client_max_size: 413 body_too_large


@web.middleware
async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Enforce the declared contract of a caseworker route, then run its view."""
    op = operation_of(request)
    if op is None or op.security not in ("staff", "either"):
        return await handler(request)
    # "either": an integration key or a staff token; the view authenticates.
    user = await staff_user(request) if op.security == "staff" else None
    if user is None and bearer_token(request) is None:
        raise Unauthorized("A bearer token is required")
    check_ids(op, request)
    read_query(request, op.query)
    body: Any = None
    if op.body is not None:
        if op.body_type == "application/json":
            body = await read_body(request, op.body)
        else:
            body = hashlib.sha256(await _raw_body(request, op)).hexdigest()
    if user is None or not op.idempotency_optional:
        return await handler(request)
    key = idempotency.key_from(request.headers, required=False)
    if key is None:
        return await handler(request)
    req_hash = idempotency.request_hash(request.method, request.path_qs, body)
    return await _once(request, handler, request.app[SERVICES], user, key, req_hash)


def _replay(answer: idempotency.StaffAnswer) -> web.Response:
    headers = {"Idempotent-Replayed": "true"}
    if answer.content_type:
        headers["Content-Type"] = answer.content_type
    return web.Response(status=answer.status, body=answer.body or None, headers=headers)


async def _claim(
    svc: Services, user: StaffUser, key: str, req_hash: str
) -> tuple[str, bytes] | web.Response:
    """Our claim on the key, or the earlier request's answer to replay."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        claim = await idempotency.staff_claim(svc, user.tenant_id, user.id, key, req_hash)
        if claim is not None:
            return claim
        async with svc.read() as conn:
            seen = await idempotency.staff_lookup(conn, svc, user.tenant_id, user.id, key)
        if seen is not None:
            if seen.request_hash != req_hash:
                raise idempotency.reused()
            if seen.done:
                return _replay(seen)
            if svc.clock.now() - seen.created_at > idempotency.LEASE:
                raise idempotency.in_doubt()
        if loop.time() >= deadline:
            raise idempotency.in_progress()
        await asyncio.sleep(POLL_SECONDS)


async def _release(svc: Services, row_id: str) -> None:
    try:
        await idempotency.staff_release(svc, row_id)
    except Exception:  # the claim then stays "in doubt": safe, never a second effect
        log.exception("could not release idempotency claim %s", row_id)


async def _once(
    request: web.Request,
    handler: Handler,
    svc: Services,
    user: StaffUser,
    key: str,
    req_hash: str,
) -> web.StreamResponse:
    claimed = await _claim(svc, user, key, req_hash)
    if isinstance(claimed, web.Response):
        return claimed
    row_id, dek = claimed
    try:
        response = await handler(request)
    except (ApiError, web.HTTPException):
        # Refused by the view: its transaction rolled back, so a retry may run.
        await _release(svc, row_id)
        raise
    # Any other failure leaves the claim pending: the effect may have been committed.
    body = response.body if isinstance(response, web.Response) else None
    if response.status >= 500 or not isinstance(body, bytes):
        await _release(svc, row_id)
        return response
    try:
        await idempotency.staff_finish(
            svc,
            row_id,
            dek,
            response.status,
            response.headers.get("Content-Type"),
            body.decode("utf-8"),
        )
    except Exception:  # the effect stands; the key stays "in doubt" rather than run twice
        log.exception("could not store the answer for idempotency claim %s", row_id)
    return response
