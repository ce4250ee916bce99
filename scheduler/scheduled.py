"""Send later: a caseworker's SMS queued now, handed to the gateway at a chosen time.

The message goes through bot.domain.outbound.queue_sms with ``not_before`` (moved
out of the recipient's quiet hours), so it is stored, journalised and in the
outbox at once; withdrawing it before its time stops it for good.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey
from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.conversations import check_sms_fits
from bot.domain.outbound import queue_sms, withdraw_sms
from bot.store.schema.core import cases, conversations, messages, outbox
from scheduler import settings as quiet_store
from scheduler.quiet import allowed_send_time
from scheduler.store import case_key, case_visible, require_open
from scheduler.urgent import check_reason, mark_urgent

MAX_AHEAD = timedelta(days=366)


async def _thread(conn: AsyncConnection, user: StaffUser, conv_id: str) -> Any:
    row = (
        await conn.execute(
            select(
                conversations.c.id,
                conversations.c.person_id,
                cases.c.id.label("case_id"),
                cases.c.tenant_id,
                cases.c.status,
                cases.c.dek,
            )
            .join(cases, cases.c.id == conversations.c.case_id)
            .where(conversations.c.id == conv_id, case_visible(user))
        )
    ).first()
    if row is None:
        raise NotFound("No such conversation", code="conversation_not_found")
    return row


async def schedule_sms(
    svc: Services,
    user: StaffUser,
    conv_id: str,
    *,
    body: str,
    send_at: datetime,
    urgent_reason: str | None = None,
) -> dict[str, Any]:
    """Queue an SMS to go out at ``send_at`` (or the first allowed time after quiet hours).

    Marked urgent (``urgent_reason``, journalised), it goes at ``send_at`` even
    in quiet hours.

    Raises:
        NotFound: no such thread on a case this user works on.
        BadInput: an empty or over-long body (also: more SMS segments than the
            municipality allows), ``send_at`` in the past or more than a year ahead.
        CaseClosed: the case is closed.
    """
    reason = check_reason(urgent_reason) if urgent_reason is not None else None
    body = body.strip()
    if not body:
        raise BadInput("The message is empty", code="empty_body")
    if len(body) > svc.config.max_body_chars:
        raise BadInput(
            f"The message is longer than {svc.config.max_body_chars} characters",
            code="body_too_long",
        )
    check_send_at(svc.clock.now(), send_at)
    async with svc.write() as conn:
        thread = await _thread(conn, user, conv_id)
        require_open(thread)
        await check_sms_fits(conn, thread.tenant_id, body)
        mid, effective = await queue_later(
            conn,
            svc,
            author_id=user.id,
            tenant_id=thread.tenant_id,
            conversation_id=conv_id,
            case_id=thread.case_id,
            person_id=thread.person_id,
            key=case_key(svc, thread.case_id, thread.dek),
            body=body,
            send_at=send_at,
            urgent_reason=reason,
        )
    return {
        "id": mid,
        "conversation_id": conv_id,
        "body": body,
        "requested_send_at": send_at.isoformat(),
        "send_at": effective.isoformat(),
        "status": "queued",
        "urgent": reason is not None,
    }


def check_send_at(now: datetime, send_at: datetime) -> None:
    """400 when ``send_at`` is not after ``now``, or more than a year ahead."""
    if send_at <= now:
        raise BadInput("send_at is in the past", code="send_at_in_past")
    if send_at - now > MAX_AHEAD:
        raise BadInput("send_at is more than a year ahead", code="bad_datetime")


async def queue_later(
    conn: AsyncConnection,
    svc: Services,
    *,
    author_id: str,
    tenant_id: str,
    conversation_id: str,
    case_id: str,
    person_id: str,
    key: SealingKey,
    body: str,
    send_at: datetime,
    urgent_reason: str | None = None,
) -> tuple[str, datetime]:
    """Queue one send-later SMS in the caller's transaction (its checks already made).

    Returns:
        The message's id, and when it may go (``send_at`` moved out of the
        recipient's quiet hours unless ``urgent_reason`` is given).
    """
    quiet = await quiet_store.settings_for(conn, tenant_id, person_id)
    effective = send_at if urgent_reason else allowed_send_time(send_at, quiet, svc.calendar)
    mid = await queue_sms(
        conn,
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        case_id=case_id,
        person_id=person_id,
        kind="scheduled",
        body=body,
        key=key,
        at=svc.clock.now(),
        author_id=author_id,
        not_before=effective,
        subject="Planlagt SMS til borger",
    )
    if urgent_reason is not None:
        await mark_urgent(
            conn,
            tenant_id=tenant_id,
            case_id=case_id,
            message_id=mid,
            staff_id=author_id,
            reason=urgent_reason,
            key=key,
            at=svc.clock.now(),
        )
    return mid, effective


async def list_scheduled(svc: Services, user: StaffUser, conv_id: str) -> list[dict[str, Any]]:
    """Scheduled SMS in a thread that have not gone out yet."""
    async with svc.read() as conn:
        await _thread(conn, user, conv_id)
        rows = await conn.execute(
            select(messages.c.id, outbox.c.next_attempt_at)
            .join(outbox, outbox.c.message_id == messages.c.id)
            .where(
                messages.c.conversation_id == conv_id,
                messages.c.kind == "scheduled",
                outbox.c.state == "pending",
            )
            .order_by(outbox.c.next_attempt_at, messages.c.id)
        )
        return [{"id": r.id, "send_at": r.next_attempt_at.isoformat()} for r in rows]


async def withdraw_scheduled(svc: Services, user: StaffUser, conv_id: str, message_id: str) -> None:
    """Withdraw a scheduled SMS that has not gone out.

    Raises:
        NotFound: no such thread, or no scheduled SMS with that id in it.
        Conflict (already_sent): it is already on its way.
    """
    now = svc.clock.now()
    async with svc.write() as conn:
        await _thread(conn, user, conv_id)
        found = (
            await conn.execute(
                select(messages.c.id).where(
                    messages.c.id == message_id,
                    messages.c.conversation_id == conv_id,
                    messages.c.kind == "scheduled",
                )
            )
        ).first()
        if found is None:
            raise NotFound("No such scheduled message", code="scheduled_not_found")
        if not await withdraw_sms(
            conn, message_id=message_id, at=now, reason="trukket tilbage af sagsbehandler"
        ):
            raise Conflict("The message has already been sent", code="already_sent")
