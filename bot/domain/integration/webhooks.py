"""Outbound webhooks: events for the case system, through an outbox, signed.

Other modules call :func:`emit` inside their own transaction; it writes one
``webhook_deliveries`` row per subscription that wants the event, so an event
is sent if and only if the change that caused it commits. The relay (a ticker
job) claims due rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
POSTs them, and retries failures with exponential backoff and full jitter
until ``MAX_ATTEMPTS``, after which the row is ``dead``.

Each request carries ``X-Tovholder-Timestamp`` (Unix seconds) and
``X-Tovholder-Signature: sha256=<hex>``, the HMAC-SHA256 under the
subscription's secret of ``"<timestamp>.<body>"``. Payloads carry ids and
codes only, never personal data: :func:`emit` refuses anything else.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Any

import aiohttp
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base import metrics
from bot.base.errors import BadInput
from bot.base.ids import new_id
from bot.base.services import Services
from bot.domain.integration.rows import iso, one, page
from bot.domain.outbox import backoff_seconds
from bot.store.events import EVENTS as EVENTS
from bot.store.events import emit as emit
from bot.store.schema.integration import webhook_deliveries, webhook_subscriptions

log = logging.getLogger(__name__)


LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 15  # about 9 hours of backoff in all
TIMEOUT = 10.0
TIMESTAMP_HEADER = "X-Tovholder-Timestamp"
SIGNATURE_HEADER = "X-Tovholder-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# -- subscriptions -------------------------------------------------------------------


def _subscription(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "url": r.url,
        "events": r.events.split(),
        "active": r.active,
        "created_at": iso(r.created_at),
    }


def _allowed_url(svc: Services, url: str) -> None:
    allow_http = svc.config.demo_mode or svc.config.extra.get(
        "TOVHOLDER_WEBHOOK_ALLOW_HTTP", ""
    ) in ("1", "true", "yes")
    if not url.startswith("https://") and not (allow_http and url.startswith("http://")):
        raise BadInput("A webhook URL must use https", code="insecure_url")


async def subscribe(
    conn: AsyncConnection,
    svc: Services,
    tenant_id: str,
    *,
    url: str,
    events: list[str],
    key_id: str | None,
) -> dict[str, Any]:
    """A new subscription; its signing secret is in the answer, and only there."""
    _allowed_url(svc, url)
    sub_id = new_id()
    secret = "whsec_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    dek, wrapped = svc.new_dek("webhook_subscriptions", sub_id)
    now = svc.clock.now()
    await conn.execute(
        webhook_subscriptions.insert().values(
            id=sub_id,
            tenant_id=tenant_id,
            key_id=key_id,
            url=url,
            events=" ".join(sorted(set(events))),
            dek=wrapped,
            secret_enc=svc.seal(dek, "webhook_subscriptions", sub_id, "secret", secret),
            active=True,
            created_at=now,
        )
    )
    out = await get_subscription(conn, tenant_id, sub_id)
    out["secret"] = secret
    return out


async def get_subscription(conn: AsyncConnection, tenant_id: str, sub_id: str) -> dict[str, Any]:
    return _subscription(await one(conn, webhook_subscriptions, tenant_id, sub_id, "webhook"))


async def list_subscriptions(
    conn: AsyncConnection, tenant_id: str, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    q = select(webhook_subscriptions).where(webhook_subscriptions.c.tenant_id == tenant_id)
    rows, nxt = await page(conn, q, webhook_subscriptions.c.id, limit, cursor)
    return {"items": [_subscription(r) for r in rows], "next_cursor": nxt}


async def unsubscribe(conn: AsyncConnection, svc: Services, tenant_id: str, sub_id: str) -> None:
    """Stop a subscription; deliveries still queued for it are dropped by the relay."""
    await one(conn, webhook_subscriptions, tenant_id, sub_id, "webhook")
    await conn.execute(
        update(webhook_subscriptions)
        .where(webhook_subscriptions.c.id == sub_id)
        .values(active=False, disabled_at=svc.clock.now())
    )


# -- the relay -----------------------------------------------------------------------


async def _claim(svc: Services, limit: int) -> list[str]:
    now = svc.clock.now()
    due = or_(
        and_(webhook_deliveries.c.state == "pending", webhook_deliveries.c.next_attempt_at <= now),
        and_(webhook_deliveries.c.state == "sending", webhook_deliveries.c.lease_until < now),
    )
    async with svc.write() as conn:
        q = (
            select(webhook_deliveries.c.id)
            .where(due)
            .order_by(webhook_deliveries.c.next_attempt_at)
            .limit(limit)
        )
        if not svc.sqlite:
            q = q.with_for_update(skip_locked=True)
        ids = list((await conn.execute(q)).scalars())
        if ids:
            await conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id.in_(ids))
                .values(
                    state="sending",
                    lease_until=now + LEASE,
                    attempts=webhook_deliveries.c.attempts + 1,
                )
            )
    return ids


async def _finish(svc: Services, delivery_id: str, **values: Any) -> None:
    async with svc.write() as conn:
        await conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(lease_until=None, **values)
        )


async def _deliver(svc: Services, session: aiohttp.ClientSession, delivery_id: str) -> str:
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(
                    webhook_deliveries.c.body,
                    webhook_deliveries.c.event,
                    webhook_deliveries.c.event_id,
                    webhook_deliveries.c.attempts,
                    webhook_subscriptions.c.id.label("sub_id"),
                    webhook_subscriptions.c.url,
                    webhook_subscriptions.c.dek,
                    webhook_subscriptions.c.secret_enc,
                    webhook_subscriptions.c.active,
                )
                .join(
                    webhook_subscriptions,
                    webhook_subscriptions.c.id == webhook_deliveries.c.subscription_id,
                )
                .where(webhook_deliveries.c.id == delivery_id)
            )
        ).first()
    if row is None:
        return "gone"
    if not row.active:
        await _finish(svc, delivery_id, state="dead", last_error="subscription_disabled")
        return "dead"
    dek = svc.dek("webhook_subscriptions", row.sub_id, row.dek)
    secret = svc.unseal(dek, "webhook_subscriptions", row.sub_id, "secret", row.secret_enc)
    body = row.body.encode()
    timestamp = str(int(svc.clock.now().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tovholder-Webhooks/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        "X-Tovholder-Event": row.event,
        "X-Tovholder-Event-Id": row.event_id,
        "X-Tovholder-Delivery": delivery_id,
    }
    status: int | None = None
    error: str | None = None
    try:
        async with session.post(
            row.url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            allow_redirects=False,
        ) as resp:
            status = resp.status
            await resp.read()
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
        # ValueError: a URL the client cannot even use (bad host name); it counts
        # as a failed attempt, so it ends as "dead" instead of looping.
        error = type(exc).__name__[:64]
    if status is not None and 200 <= status < 300:
        await _finish(
            svc,
            delivery_id,
            state="done",
            last_status=status,
            last_error=None,
            delivered_at=svc.clock.now(),
        )
        return "done"
    error = error or f"http_{status}"
    if row.attempts >= MAX_ATTEMPTS:
        log.error(
            "webhook delivery %s dead after %s attempts (%s)", delivery_id, row.attempts, error
        )
        await _finish(svc, delivery_id, state="dead", last_status=status, last_error=error)
        return "dead"
    delay = backoff_seconds(row.attempts)
    log.warning("webhook delivery %s failed (%s); retry in %.1fs", delivery_id, error, delay)
    await _finish(
        svc,
        delivery_id,
        state="pending",
        last_status=status,
        last_error=error,
        next_attempt_at=svc.clock.now() + timedelta(seconds=delay),
    )
    return "retried"


async def relay_once(
    svc: Services, session: aiohttp.ClientSession, *, limit: int = 50, concurrency: int = 8
) -> dict[str, int]:
    """Claim and send one batch of due webhook deliveries. Safe in several workers."""
    ids = await _claim(svc, limit)
    gate = asyncio.Semaphore(concurrency)

    async def one_delivery(delivery_id: str) -> str:
        async with gate:
            try:
                return await _deliver(svc, session, delivery_id)
            except Exception:
                # The lease expires and the row is claimed again: nothing is lost.
                log.exception("webhook delivery %s: unexpected failure", delivery_id)
                return "error"

    outcomes = await asyncio.gather(*(one_delivery(i) for i in ids))
    counts = {k: outcomes.count(k) for k in ("done", "retried", "dead", "error")}
    for outcome, n in counts.items():
        if n:
            metrics.webhook_delivery(outcome, n)
    counts["claimed"] = len(ids)
    return counts


async def depth(conn: AsyncConnection) -> int:
    """Webhook deliveries not yet done (pending or in flight)."""
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(webhook_deliveries)
                .where(webhook_deliveries.c.state.in_(["pending", "sending"]))
            )
        ).scalar_one()
    )
