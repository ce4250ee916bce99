"""Webhook events: queued inside the transaction that makes the change (ids only).

Kept apart from the relay (bot.domain.integration.webhooks) so the core can emit
without importing the outbox machinery.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.ids import new_id
from bot.store.schema.integration import webhook_deliveries, webhook_subscriptions

EVENTS = (
    "message.received",
    "message.delivered",
    "message.failed",
    "urgent.escalated",
    "journal.exported",
    "milestone.changed",
)

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_VALUE = re.compile(r"^[A-Za-z0-9_.:+\-]{0,100}$")
_PHONE_OR_CPR = re.compile(r"^\+?\d{8,}$|^\d{6}-?\d{4}$")


class PersonalDataInPayload(ValueError):
    """A webhook payload must hold ids and codes only."""


def check_payload(payload: Mapping[str, Any]) -> None:
    """Refuse anything but flat ids, codes, numbers, booleans and timestamps."""
    for key, value in payload.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise PersonalDataInPayload(f"payload key {key!r} is not a plain name")
        if value is None or isinstance(value, bool | int):
            continue
        if not isinstance(value, str) or not _VALUE.match(value) or _PHONE_OR_CPR.match(value):
            raise PersonalDataInPayload(
                f"payload value for {key!r} is not an id, code or timestamp"
            )


async def emit(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    event: str,
    payload: Mapping[str, Any],
    at: datetime,
) -> str:
    """Queue ``event`` for every subscription of the tenant that wants it.

    Call inside the transaction that makes the change, so the event is sent
    exactly when the change commits. ``payload`` must hold ids and codes
    only (e.g. ``{"message_id": ..., "case_id": ...}``).

    Args:
        at: the event's time, from the caller's clock (``svc.clock.now()``).

    Returns:
        The event id (the same in every delivery of this event).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    check_payload(payload)
    when = at
    event_id = new_id()
    subs = (
        await conn.execute(
            select(webhook_subscriptions.c.id, webhook_subscriptions.c.events).where(
                webhook_subscriptions.c.tenant_id == tenant_id,
                webhook_subscriptions.c.active.is_(True),
            )
        )
    ).all()
    wanted = [s.id for s in subs if event in s.events.split()]
    if not wanted:
        return event_id
    body = json.dumps(
        {
            "id": event_id,
            "type": event,
            "created_at": when.isoformat(),
            "tenant_id": tenant_id,
            "data": dict(payload),
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    await conn.execute(
        webhook_deliveries.insert(),
        [
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "subscription_id": sub_id,
                "event_id": event_id,
                "event": event,
                "body": body,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": when,
                "created_at": when,
            }
            for sub_id in wanted
        ],
    )
    return event_id
