"""Idempotency-Key on caseworker and operator POSTs: one effect and one answer per key.

The header is optional for caseworkers (the browser inbox and older clients
post without it) and for the deployment operator (``POST /api/v1/tenants``).
When given, the first request claims the key (see
:mod:`bot.domain.integration.idempotency`), runs its view and stores the
answer, sealed; a duplicate waits for that answer and gets it replayed with
``Idempotent-Replayed: true``. The contract checks (token, ids, query, body)
have run before (:func:`bot.http.integration.openapi.Api.operation`), so a
refused request never claims a key.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.base.errors import ApiError
from bot.base.services import Services
from bot.domain.integration import idempotency
from bot.http.middleware import Handler

log = logging.getLogger(__name__)

# How long a duplicate waits for the first request's answer, and how often it looks.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05


def _replay(answer: idempotency.ClaimedAnswer) -> web.Response:
    headers = {"Idempotent-Replayed": "true"}
    if answer.content_type:
        headers["Content-Type"] = answer.content_type
    return web.Response(status=answer.status, body=answer.body or None, headers=headers)


async def _claim(
    svc: Services, owner: idempotency.Owner, key: str, req_hash: str
) -> tuple[str, bytes] | web.Response:
    """Our claim on the key, or the earlier request's answer to replay."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        claim = await idempotency.claim(svc, owner, key, req_hash)
        if claim is not None:
            return claim
        async with svc.read() as conn:
            seen = await idempotency.claim_lookup(conn, svc, owner, key)
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


async def _release(svc: Services, owner: idempotency.Owner, row_id: str) -> None:
    try:
        await idempotency.claim_release(svc, owner, row_id)
    except Exception:  # the claim then stays "in doubt": safe, never a second effect
        log.exception("could not release idempotency claim %s", row_id)


async def once(
    request: web.Request,
    handler: Handler,
    svc: Services,
    owner: idempotency.Owner,
    key: str,
    req_hash: str,
) -> web.StreamResponse:
    """Run ``handler`` once for this caller's ``key``; replay its answer to duplicates.

    Args:
        request: the request, already checked against its contract.
        handler: the view.
        svc: the services.
        owner: whose keys (a caseworker's, or the operator token's).
        key: the Idempotency-Key.
        req_hash: the request's hash (method, path and query, body).

    Returns:
        The view's answer, or the first request's answer replayed.
    """
    claimed = await _claim(svc, owner, key, req_hash)
    if isinstance(claimed, web.Response):
        return claimed
    row_id, dek = claimed
    try:
        response = await handler(request)
    except (ApiError, web.HTTPException):
        # Refused by the view: its transaction rolled back, so a retry may run.
        await _release(svc, owner, row_id)
        raise
    # Any other failure leaves the claim pending: the effect may have been committed.
    body = response.body if isinstance(response, web.Response) else None
    if response.status >= 500 or not isinstance(body, bytes):
        await _release(svc, owner, row_id)
        return response
    try:
        await idempotency.claim_finish(
            svc,
            owner,
            row_id,
            dek,
            response.status,
            response.headers.get("Content-Type"),
            body.decode("utf-8"),
        )
    except Exception:  # the effect stands; the key stays "in doubt" rather than run twice
        log.exception("could not store the answer for idempotency claim %s", row_id)
    return response
