"""The outbox relay: claims due outbound SMS rows and hands them to the gateway.

Durable work is data: a row is claimed with a lease (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so several workers never claim the same row), sent, and marked
done. A worker that dies mid-send leaves a lease that expires; the row is then
claimed again. Transient failures back off exponentially with full jitter;
permanent ones fail the message and are journalised.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.crypto import unseal
from bot.db.schema import (
    cases,
    messages,
    metadata,
    outbox,
    persons,
    staff,
    staff_notices,
    teams,
    tenants,
)
from bot.integration import metrics
from bot.integration.events import emit
from bot.privacy import create_link, needs_notice, notice_body, tenant_settings_for
from bot.services import Services
from bot.texts import text
from channels.base import DeliveryState, GatewayError, OutboundSms, SendResult
from journal.journal import append

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BASE_BACKOFF = 2.0
MAX_BACKOFF = 600.0
MAX_ATTEMPTS = 12


@dataclass(frozen=True, slots=True)
class RelayStats:
    claimed: int
    sent: int
    retried: int
    failed: int


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^n)]."""
    ceiling = min(MAX_BACKOFF, BASE_BACKOFF * (2 ** max(attempts - 1, 0)))
    return (rng or random).uniform(0, ceiling)


async def _claim(svc: Services, limit: int) -> list[str]:
    now = svc.clock.now()
    due = or_(
        and_(outbox.c.state == "pending", outbox.c.next_attempt_at <= now),
        and_(outbox.c.state == "sending", outbox.c.lease_until < now),
    )
    async with svc.write() as conn:
        q = select(outbox.c.id).where(due).order_by(outbox.c.next_attempt_at).limit(limit)
        if not svc.sqlite:
            q = q.with_for_update(skip_locked=True)
        ids = list((await conn.execute(q)).scalars())
        if ids:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(state="sending", lease_until=now + LEASE, attempts=outbox.c.attempts + 1)
            )
    return ids


@dataclass(frozen=True, slots=True)
class EmailJob:
    """An e-mail notice (never content) standing in for an SMS."""

    reference: str
    to: str
    subject: str
    text: str


# Answers to what the citizen just wrote go back the way they came: by SMS.
CONVERSATIONAL = ("receipt", "clarify", "auto")


async def _load(
    svc: Services, outbox_id: str, *, force_notice: bool = False
) -> tuple[OutboundSms | EmailJob, int, bool] | None:
    """The SMS an outbox row stands for: (sms, attempts, is_staff_notice)."""
    async with svc.read() as conn:
        head = (
            await conn.execute(
                select(outbox.c.attempts, outbox.c.staff_notice_id).where(outbox.c.id == outbox_id)
            )
        ).first()
        if head is None:
            return None
        if head.staff_notice_id is not None:
            notice = await _load_notice(svc, conn, head.staff_notice_id)
            return (notice, head.attempts, True) if notice is not None else None
        row = (
            await conn.execute(
                select(
                    messages.c.id,
                    messages.c.tenant_id,
                    messages.c.key_scope,
                    messages.c.body_enc,
                    messages.c.case_id,
                    messages.c.person_id,
                    messages.c.sensitive,
                    messages.c.via.label("preset_via"),
                    messages.c.kind,
                    persons.c.email_enc,
                    cases.c.dek.label("case_dek"),
                    persons.c.dek.label("person_dek"),
                    persons.c.phone_enc,
                    persons.c.language,
                    persons.c.channel_pref,
                    tenants.c.sms_number,
                    tenants.c.name.label("tenant_name"),
                )
                .join(messages, messages.c.id == outbox.c.message_id)
                .join(persons, persons.c.id == messages.c.person_id)
                .join(tenants, tenants.c.id == messages.c.tenant_id)
                .outerjoin(cases, cases.c.id == messages.c.case_id)
                .where(outbox.c.id == outbox_id)
            )
        ).first()
    if row is None or row.phone_enc is None:
        return None
    person_dek = svc.dek("persons", row.person_id, row.person_dek)
    if row.key_scope == "case":
        body_dek = svc.dek("cases", row.case_id, row.case_dek)
    else:
        body_dek = person_dek
    body = unseal(body_dek, row.body_enc, f"messages:{row.id}:body")
    wants_email = row.preset_via == "email" or (
        row.channel_pref == "email" and row.kind not in CONVERSATIONAL
    )
    if wants_email and svc.email is not None and row.email_enc is not None:
        async with svc.write() as conn:
            url = await create_link(
                conn,
                tenant_id=row.tenant_id,
                person_id=row.person_id,
                message_id=row.id,
                base_url=svc.config.public_base_url,
                at=svc.clock.now(),
            )
            await conn.execute(update(messages).where(messages.c.id == row.id).values(via="email"))
        job = EmailJob(
            reference=row.id,
            to=unseal(person_dek, row.email_enc, f"persons:{row.person_id}:email"),
            subject=text(row.language, "email_subject", tenant=row.tenant_name),
            text=notice_body(row.tenant_name, url, row.language),
        )
        return job, head.attempts, False
    if row.preset_via == "email":
        return None  # an e-mail fallback with no address or relay: nothing to send
    async with svc.read() as conn:
        settings = await tenant_settings_for(conn, row.tenant_id)
    via = "sms"
    if force_notice or needs_notice(body, sensitive=row.sensitive, terms=settings.sensitive_terms):
        if row.channel_pref == "sms_only":
            await _hold_for_call(svc, row)
            return None
        # The content stays in the secure inbox; the SMS only says where to read it.
        async with svc.write() as conn:
            url = await create_link(
                conn,
                tenant_id=row.tenant_id,
                person_id=row.person_id,
                message_id=row.id,
                base_url=svc.config.public_base_url,
                at=svc.clock.now(),
            )
            await conn.execute(update(messages).where(messages.c.id == row.id).values(via="notice"))
        body = notice_body(row.tenant_name, url, row.language)
        via = "notice"
    sms = OutboundSms(
        reference=row.id,
        sender=row.sms_number,
        recipient=unseal(person_dek, row.phone_enc, f"persons:{row.person_id}:phone"),
        body=body,
        route=settings.gateways,
    )
    if via == "sms":
        async with svc.write() as conn:
            await conn.execute(update(messages).where(messages.c.id == row.id).values(via="sms"))
    return sms, head.attempts, False


async def _hold_for_call(svc: Services, row: Any) -> None:
    """SMS-only citizen, sensitive content: nothing is sent; the caseworker calls instead."""
    async with svc.write() as conn:
        await conn.execute(
            update(messages).where(messages.c.id == row.id).values(status="held", via="none")
        )
        await append(
            conn,
            tenant_id=row.tenant_id,
            case_id=row.case_id,
            kind="call_task",
            direction="internal",
            channel="system",
            subject="Følsom besked ikke sendt på SMS: ring til borgeren",
            actor="system",
            at=svc.clock.now(),
            message_id=row.id,
        )


async def _load_notice(svc: Services, conn: AsyncConnection, notice_id: str) -> OutboundSms | None:
    """A notice to staff: to their work phone, or the team's after-hours line. Never content."""
    from bot.escalation import notice_text

    row = (
        await conn.execute(
            select(
                staff_notices.c.id,
                staff_notices.c.kind,
                staff_notices.c.staff_id,
                staff.c.dek,
                staff.c.work_phone_enc,
                teams.c.after_hours_phone,
                tenants.c.sms_number,
                cases.c.number,
            )
            .join(teams, teams.c.id == staff_notices.c.team_id)
            .join(tenants, tenants.c.id == staff_notices.c.tenant_id)
            .outerjoin(staff, staff.c.id == staff_notices.c.staff_id)
            .outerjoin(messages, messages.c.id == staff_notices.c.message_id)
            .outerjoin(cases, cases.c.id == messages.c.case_id)
            .where(staff_notices.c.id == notice_id)
        )
    ).first()
    if row is None:
        return None
    if row.staff_id is not None:
        if row.work_phone_enc is None:
            return None
        dek = svc.dek("staff", row.staff_id, row.dek)
        recipient = unseal(dek, row.work_phone_enc, f"staff:{row.staff_id}:work_phone")
    elif row.after_hours_phone:
        recipient = row.after_hours_phone
    else:
        return None
    return OutboundSms(
        reference=row.id,
        sender=row.sms_number,
        recipient=recipient,
        body=notice_text(row.kind, row.number),
    )


async def _inbox_first(svc: Services, outbox_id: str) -> str | None:
    """For "secure inbox first" citizens: wait, then notify only if the message is still unread.

    Returns "deferred" (not yet due), "read" (read in the inbox: nothing to send),
    "notice" (unread: send a notice with a link), or None (not such a message).
    """
    reads = metadata.tables.get("web_citizen_reads")
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(
                    messages.c.id, messages.c.kind, messages.c.created_at, persons.c.channel_pref
                )
                .join(outbox, outbox.c.message_id == messages.c.id)
                .join(persons, persons.c.id == messages.c.person_id)
                .where(outbox.c.id == outbox_id)
            )
        ).first()
        if row is None or row.channel_pref != "inbox_first" or row.kind in CONVERSATIONAL:
            return None
        due = row.created_at + timedelta(minutes=svc.config.inbox_unread_minutes)
        if svc.clock.now() < due:
            outcome = "deferred"
        elif (
            reads is not None
            and (
                await conn.execute(select(reads.c.message_id).where(reads.c.message_id == row.id))
            ).first()
        ):
            outcome = "read"
        else:
            return "notice"
    async with svc.write() as conn:
        if outcome == "deferred":
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(
                    state="pending",
                    next_attempt_at=due,
                    lease_until=None,
                    attempts=outbox.c.attempts - 1,
                )
            )
        else:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id)
                .values(state="done", lease_until=None, last_error=None)
            )
            await conn.execute(
                update(messages).where(messages.c.id == row.id).values(status="read", via="inbox")
            )
    return outcome


# Answers to what the citizen just wrote, and their login codes, go at any hour.
QUIET_HOURS_EXEMPT = (*CONVERSATIONAL, "reply", "login_code", "fallback")


async def _quiet_hours(svc: Services, outbox_id: str) -> bool:
    """Hold a proactive SMS (reminder, update, scheduled …) that fell due in quiet hours.

    The scheduler already plans around quiet hours; this catches what retries or
    an outage pushed into the night. Returns True when the row was put back to wait.
    """
    from scheduler.quiet import allowed_send_time
    from scheduler.settings import settings_for

    now = svc.clock.now()
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(messages.c.kind, messages.c.tenant_id, messages.c.person_id)
                .join(outbox, outbox.c.message_id == messages.c.id)
                .where(outbox.c.id == outbox_id)
            )
        ).first()
        if row is None or row.kind in QUIET_HOURS_EXEMPT:
            return False
        quiet = await settings_for(conn, row.tenant_id, row.person_id)
    when = allowed_send_time(now, quiet, svc.calendar)
    if when <= now:
        return False
    async with svc.write() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(
                state="pending",
                next_attempt_at=when,
                lease_until=None,
                attempts=outbox.c.attempts - 1,
            )
        )
    return True


async def _send_one(svc: Services, outbox_id: str) -> str:
    if await _quiet_hours(svc, outbox_id):
        return "quiet"
    inbox_first = await _inbox_first(svc, outbox_id)
    if inbox_first in ("deferred", "read"):
        return inbox_first
    loaded = await _load(svc, outbox_id, force_notice=inbox_first == "notice")
    if loaded is None:
        async with svc.read() as conn:
            held = (
                await conn.execute(
                    select(messages.c.status)
                    .join(outbox, outbox.c.message_id == messages.c.id)
                    .where(outbox.c.id == outbox_id)
                )
            ).scalar_one_or_none()
        if held == "held":
            await _finish(svc, outbox_id, state="done", error="held_for_call")
            return "held"
        await _finish(svc, outbox_id, state="failed", error="no_recipient")
        return "failed"
    sms, attempts, is_notice = loaded
    try:
        if isinstance(sms, EmailJob):
            assert svc.email is not None
            mail_id = await svc.email.send(
                to=sms.to, subject=sms.subject, text=sms.text, reference=sms.reference
            )
            result = SendResult(mail_id[:64], DeliveryState.SENT, gateway="email")
        else:
            result = await svc.gateway.send(sms)
    except GatewayError as exc:
        if exc.transient and attempts < MAX_ATTEMPTS:
            delay = backoff_seconds(attempts)
            async with svc.write() as conn:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == outbox_id, outbox.c.state == "sending")
                    .values(
                        state="pending",
                        next_attempt_at=svc.clock.now() + timedelta(seconds=delay),
                        lease_until=None,
                        last_error=f"gateway_{exc.status or 'transient'}",
                    )
                )
            log.warning("outbox %s: transient gateway failure, retry in %.1fs", outbox_id, delay)
            return "retried"
        log.error("outbox %s: gateway refused the message (status %s)", outbox_id, exc.status)
        await _finish(
            svc,
            outbox_id,
            state="failed",
            error=f"gateway_{exc.status or 'failed'}",
            message_id=None if is_notice else sms.reference,
        )
        return "failed"
    async with svc.write() as conn:
        await conn.execute(
            update(outbox).where(outbox.c.id == outbox_id).values(state="done", lease_until=None)
        )
        if is_notice:
            await conn.execute(
                update(staff_notices)
                .where(staff_notices.c.id == sms.reference)
                .values(status=result.state.value, provider_id=result.provider_id)
            )
            return "sent"
        # Only move forward: a fast status callback may already have said more.
        await conn.execute(
            update(messages)
            .where(messages.c.id == sms.reference, messages.c.status.in_(["queued"]))
            .values(status=result.state.value)
        )
        await conn.execute(
            update(messages)
            .where(messages.c.id == sms.reference)
            .values(provider=result.gateway or svc.gateway.name, provider_id=result.provider_id)
        )
    return "sent"


async def _finish(
    svc: Services, outbox_id: str, *, state: str, error: str, message_id: str | None = None
) -> None:
    async with svc.write() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(state=state, last_error=error, lease_until=None)
        )
        if message_id is None:
            return
        await conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status=DeliveryState.FAILED.value)
        )
        msg = (
            await conn.execute(
                select(messages.c.tenant_id, messages.c.case_id).where(messages.c.id == message_id)
            )
        ).one()
        await append(
            conn,
            tenant_id=msg.tenant_id,
            case_id=msg.case_id,
            kind="delivery_failed",
            direction="internal",
            channel="sms",
            subject="SMS kunne ikke afleveres til gatewayen",
            actor="system",
            at=svc.clock.now(),
            message_id=message_id,
        )
        await emit(
            conn,
            tenant_id=msg.tenant_id,
            event="message.failed",
            payload={
                "message_id": message_id,
                "case_id": msg.case_id,
                "status": "failed",
                "reason": error,
            },
        )


async def relay_once(svc: Services, limit: int | None = None) -> RelayStats:
    """Claim and send one batch of due outbound SMS. Safe to run in several workers."""
    ids = await _claim(svc, limit or svc.config.outbox_batch)
    if not ids:
        return RelayStats(0, 0, 0, 0)
    gate = asyncio.Semaphore(svc.config.send_concurrency)

    async def one(oid: str) -> str:
        async with gate:
            try:
                return await _send_one(svc, oid)
            except Exception:
                # The lease expires and the row is claimed again: nothing is lost.
                log.exception("outbox %s: unexpected failure while sending", oid)
                return "error"

    outcomes = await asyncio.gather(*(one(i) for i in ids))
    if outcomes.count("sent"):
        metrics.message_sent("sms", outcomes.count("sent"))
    return RelayStats(
        claimed=len(ids),
        sent=outcomes.count("sent"),
        retried=outcomes.count("retried"),
        failed=outcomes.count("failed"),
    )


async def drain(svc: Services, *, max_rounds: int = 100) -> int:
    """Relay until nothing is due (tests and the CLI use this). Returns how many were sent."""
    sent = 0
    for _ in range(max_rounds):
        stats = await relay_once(svc)
        sent += stats.sent
        if stats.claimed == 0:
            break
    return sent


__all__ = ["RelayStats", "backoff_seconds", "drain", "relay_once"]
