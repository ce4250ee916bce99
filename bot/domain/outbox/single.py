"""The one-by-one way out: staff notices, e-mail, inbox-first citizens and sensitive content.

A claimed row that is more than a plain SMS to a citizen is sent here, one at a
time, by :func:`send_one`, which knows every way a message may leave (or not).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import unseal
from bot.base.services import Services
from bot.domain.consent import email_consented
from bot.domain.gate import goes_by, quiet_hours
from bot.domain.outbox.notes import AS_NOTICE, SENSITIVE, UNREAD, note, note_delays, too_long
from bot.domain.outbox.policy import (
    CONVERSATIONAL,
    MAX_ATTEMPTS,
    QUIET_HOURS_EXEMPT,
    over_limit,
)
from bot.domain.outbox.settle import (
    NO_EMAIL_ADDRESS,
    NO_MOBILE,
    fail_notice,
    finish,
    record_sent,
    retry_one,
)
from bot.domain.privacy import (
    TenantChannelSettings,
    create_link,
    needs_notice,
    notice_body,
    tenant_settings_for,
)
from bot.domain.texts import text
from bot.store.schema.core import (
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
from channels.base import DeliveryState, GatewayError, OutboundSms, SendResult
from scheduler.calltasks import (
    GIVEN_UP,
    HELD_SENSITIVE,
    HELD_TOO_LONG,
    NO_PHONE,
    REFUSED,
    open_call_task,
)
from scheduler.settings import settings_for
from scheduler.urgent import urgent_ids

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EmailJob:
    """An e-mail notice (never content) standing in for an SMS."""

    reference: str
    to: str
    subject: str
    text: str


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
    if row is None:
        return None
    person_dek = svc.dek("persons", row.person_id, row.person_dek)
    if row.key_scope == "case":
        body_dek = svc.dek("cases", row.case_id, row.case_dek)
    else:
        body_dek = person_dek
    body = unseal(body_dek, row.body_enc, f"messages:{row.id}:body")
    email_yes = row.channel_pref == "email" and row.email_enc is not None
    if email_yes:
        async with svc.read() as conn:
            email_yes = await email_consented(conn, row.person_id)
    wants_email = "email" == goes_by(
        preset_via=row.preset_via,
        channel_pref=row.channel_pref,
        kind=row.kind,
        has_email=row.email_enc is not None,
        email_relay=svc.email is not None,
        email_consented=email_yes,
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
    if row.preset_via == "email" or row.phone_enc is None:
        # An e-mail notice with no address or relay, or a citizen with no mobile
        # number: nothing to send (the relay falls back: bot.domain.delivery.fall_back).
        return None
    async with svc.read() as conn:
        settings = await tenant_settings_for(conn, row.tenant_id)
    via = "sms"
    why = _why_notice(row, body, settings, force_notice=force_notice)
    if why is not None:
        if row.channel_pref == "sms_only":
            await _hold_for_call(
                svc, row, HELD_SENSITIVE if why in (SENSITIVE, UNREAD) else HELD_TOO_LONG
            )
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
            await note(conn, row.id, f"{AS_NOTICE}: {why}", svc.clock.now())
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


def _why_notice(
    row: Any, body: str, settings: TenantChannelSettings, *, force_notice: bool
) -> str | None:
    """Why the content may not travel by SMS (said in the journal), or None when it may."""
    if force_notice:
        return UNREAD
    if needs_notice(body, sensitive=row.sensitive, terms=settings.sensitive_terms):
        return SENSITIVE
    segments = over_limit(row.kind, body, settings.max_segments)
    if segments is not None:
        return too_long(segments, settings.max_segments)
    return None


async def _hold_for_call(svc: Services, row: Any, title: str) -> None:
    """SMS-only citizen, content that may not go by SMS (sensitive, or over the segment
    limit): nothing is sent; the caseworker calls instead (a task titled ``title``)."""
    async with svc.write() as conn:
        await conn.execute(
            update(messages).where(messages.c.id == row.id).values(status="held", via="none")
        )
        await open_call_task(
            conn,
            svc,
            tenant_id=row.tenant_id,
            case_id=row.case_id,
            message_id=row.id,
            subject=title,
            at=svc.clock.now(),
        )


async def _load_notice(svc: Services, conn: AsyncConnection, notice_id: str) -> OutboundSms | None:
    """A notice to staff: to their work phone, or the team's after-hours line. Never content."""
    from bot.domain.escalation import notice_text

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


async def _quiet_hours(svc: Services, outbox_id: str) -> bool:
    """Hold a proactive SMS (reminder, update, scheduled …) that fell due in quiet hours.

    The rule is :func:`bot.domain.gate.quiet_hours`, as for the batch
    (:mod:`.triage`). Returns True when the row was put back to wait.
    """
    now = svc.clock.now()
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(messages.c.id, messages.c.kind, messages.c.tenant_id, messages.c.person_id)
                .join(outbox, outbox.c.message_id == messages.c.id)
                .where(outbox.c.id == outbox_id)
            )
        ).first()
        if row is None or row.kind in QUIET_HOURS_EXEMPT:
            return False
        if await urgent_ids(conn, [row.id]):
            return False
        quiet = await settings_for(conn, row.tenant_id, row.person_id)
    hold = quiet_hours(now, quiet, svc.calendar)
    if hold is None:
        return False
    # Without what the SMS is about, quiet hours only ever delay (never "too late").
    when = hold.until
    assert when is not None
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
    await note_delays(svc, [(row.id, when)])
    return True


async def send_one(svc: Services, outbox_id: str) -> str:
    """Send one claimed row the one-by-one way, and record how it went.

    Args:
        svc: The services.
        outbox_id: The claimed outbox row.

    Returns:
        "sent", "retried", "failed", "held" (for a call), "quiet" (waits for the
        end of quiet hours), "deferred" (inbox first, not yet due) or "read".
    """
    if await _quiet_hours(svc, outbox_id):
        return "quiet"
    inbox_first = await _inbox_first(svc, outbox_id)
    if inbox_first in ("deferred", "read"):
        return inbox_first
    loaded = await _load(svc, outbox_id, force_notice=inbox_first == "notice")
    if loaded is None:
        return await _nothing_to_send(svc, outbox_id)
    sms, attempts, is_notice = loaded
    try:
        result = await _hand_over(svc, sms)
    except GatewayError as exc:
        if exc.transient and attempts < MAX_ATTEMPTS:
            await retry_one(svc, outbox_id, exc, attempts)
            return "retried"
        log.error("outbox %s: gateway refused the message (status %s)", outbox_id, exc.status)
        await finish(
            svc,
            outbox_id,
            state="failed",
            error=f"gateway_{exc.status or 'failed'}",
            message_id=None if is_notice else sms.reference,
            why=GIVEN_UP if exc.transient else REFUSED,
        )
        return "failed"
    await record_sent(svc, outbox_id, sms.reference, result, is_notice=is_notice)
    return "sent"


async def _nothing_to_send(svc: Services, outbox_id: str) -> str:
    """Settle a row with nothing to send: held for a call ("held"), else no recipient.

    A citizen's message with nowhere to go (no mobile number; an e-mail notice
    with no address or relay) is failed and falls back like one the gateway
    refused: an e-mail notice if allowed, else a call task.
    """
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(
                    messages.c.id,
                    messages.c.status,
                    messages.c.via,
                    outbox.c.staff_notice_id,
                )
                .select_from(outbox)
                .outerjoin(messages, outbox.c.message_id == messages.c.id)
                .where(outbox.c.id == outbox_id)
            )
        ).first()
    held, notice_id = (row.status, row.staff_notice_id) if row else (None, None)
    if held == "held":
        await finish(svc, outbox_id, state="done", error="held_for_call")
        return "held"
    if row is not None and row.id is not None and notice_id is None:
        by_email = row.via == "email"
        await finish(
            svc,
            outbox_id,
            state="failed",
            error="no_recipient",
            message_id=row.id,
            subject=NO_EMAIL_ADDRESS if by_email else NO_MOBILE,
            why=NO_PHONE,  # an e-mail that cannot go is a call task (fall_back)
        )
        return "failed"
    await finish(svc, outbox_id, state="failed", error="no_recipient")
    if notice_id is not None:
        # A page with nowhere to go (no work phone, no after-hours line) is said
        # aloud: the escalation goes on to the next level regardless.
        log.warning("outbox %s: page %s has no phone to go to", outbox_id, notice_id)
        await fail_notice(svc, notice_id)
    return "failed"


async def _hand_over(svc: Services, sms: OutboundSms | EmailJob) -> SendResult:
    """Give one SMS to the gateway, or one e-mail notice to the mail relay."""
    if isinstance(sms, EmailJob):
        assert svc.email is not None
        mail_id = await svc.email.send(
            to=sms.to, subject=sms.subject, text=sms.text, reference=sms.reference
        )
        return SendResult(mail_id[:64], DeliveryState.SENT, gateway="email")
    return await svc.gateway.send(sms)
