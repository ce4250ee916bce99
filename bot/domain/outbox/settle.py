"""Settling what the gateway said: mark sent, retry later with backoff, or fail and journalise.

The batched updates here keep the relay at a handful of statements per batch,
however many SMS it holds; the one-row forms serve the one-by-one way.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import bindparam, case, select, update

from bot.base import metrics
from bot.base.services import Services
from bot.domain.delivery import fall_back
from bot.domain.gate import NO_EMAIL_CONSENT, REASON_WORDS
from bot.domain.outbound import settle_message
from bot.domain.outbox.policy import MAX_ATTEMPTS, backoff_seconds
from bot.domain.outbox.triage import Plain
from bot.store.engine import update_many
from bot.store.events import emit
from bot.store.schema.core import messages, outbox, staff_notices
from channels.base import DeliveryState, GatewayError, SendResult
from scheduler.calltasks import GIVEN_UP, REFUSED

# A citizen SMS the send-time gate held back (bot.domain.gate): never sent.
WITHHELD = "withheld"

# Why a citizen's message failed before any gateway took it, in its case's journal.
NOT_HANDED_OVER = "SMS kunne ikke afleveres til gatewayen"
NO_MOBILE = "SMS ikke sendt: borgeren har intet mobilnummer"
NO_EMAIL_ADDRESS = "E-mail ikke sendt: ingen e-mailadresse eller mailserver"
# The journal names the channel that was held back: an e-mail notice is not an SMS.
CHANNEL_WORDS = {"sms": "SMS", "email": "E-mail"}

log = logging.getLogger(__name__)


async def finish(
    svc: Services,
    outbox_id: str,
    *,
    state: str,
    error: str,
    message_id: str | None = None,
    subject: str = NOT_HANDED_OVER,
    why: str = REFUSED,
) -> None:
    """Settle a row that will not be sent; a failed message is journalised, announced,
    and falls back (:func:`bot.domain.delivery.fall_back`: an e-mail notice if allowed,
    else a call task), in the same transaction.

    Args:
        svc: The services.
        outbox_id: The row.
        state: "done" or "failed".
        error: Why, for the row's ``last_error``.
        message_id: The citizen's message that failed, if any: it is marked failed,
            journalised and announced as ``message.failed``, and falls back.
        subject: The journal's words for the failure.
        why: The call task's title if the fallback comes to one (``scheduler.calltasks``).
    """
    async with svc.write() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(state=state, last_error=error, lease_until=None)
        )
        if message_id is None:
            return
        msg = await settle_message(
            conn,
            message_id,
            status=DeliveryState.FAILED.value,
            kind="delivery_failed",
            subject=subject,
            at=svc.clock.now(),
        )
        await fall_back(conn, svc, message_id, why=why)
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
            at=svc.clock.now(),
        )


async def withhold(svc: Services, outbox_id: str, message_id: str, reason: str) -> None:
    """Settle a citizen SMS the send-time gate holds back: never sent, said why, journalised.

    The message is marked ``withheld`` and its case's journal says which channel
    was held back and why in plain words (see :data:`bot.domain.gate.REASON_WORDS`);
    one transaction per message, so no two journal heads are held at once. An e-mail held back for
    want of e-mail consent leaves no channel: it falls back to a call task.
    """
    async with svc.write() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(state="done", last_error=f"withheld: {reason}", lease_until=None)
        )
        via = (
            await conn.execute(select(messages.c.via).where(messages.c.id == message_id))
        ).scalar_one()
        channel = "email" if via == "email" else "sms"
        await settle_message(
            conn,
            message_id,
            status=WITHHELD,
            kind="sms_withheld",
            subject=f"{CHANNEL_WORDS[channel]} ikke sendt: {REASON_WORDS[reason]}",
            at=svc.clock.now(),
            channel=channel,
        )
        if reason == NO_EMAIL_CONSENT:
            # An e-mail standing in for an SMS that did not arrive, with e-mail no longer
            # allowed: no channel is left, so a caseworker calls (fall_back's call task).
            await fall_back(conn, svc, message_id)
    log.info("outbox %s: message %s withheld (%s)", outbox_id, message_id, reason)


async def retry_one(svc: Services, outbox_id: str, exc: GatewayError, attempts: int) -> None:
    """Put a row that failed transiently back to wait, with backoff.

    Args:
        svc: The services.
        outbox_id: The row, still in the state "sending".
        exc: What the gateway said.
        attempts: How many times the row has been claimed.
    """
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


async def fail_notice(svc: Services, notice_id: str) -> None:
    """A page that could not go: its notice says so (the outbox row already does)."""
    async with svc.write() as conn:
        await conn.execute(
            update(staff_notices)
            .where(staff_notices.c.id == notice_id, staff_notices.c.status == "queued")
            .values(status=DeliveryState.FAILED.value)
        )


async def record_sent(
    svc: Services, outbox_id: str, reference: str, result: SendResult, *, is_notice: bool
) -> None:
    """Mark one row done and note on its message (or staff notice) what the gateway said.

    Args:
        svc: The services.
        outbox_id: The row.
        reference: The message's id, or the staff notice's.
        result: The gateway's answer.
        is_notice: Whether the row is a notice to staff.
    """
    async with svc.write() as conn:
        await conn.execute(
            update(outbox).where(outbox.c.id == outbox_id).values(state="done", lease_until=None)
        )
        if is_notice:
            # Forward only here too: the page's delivery report may already have come.
            await conn.execute(
                update(staff_notices)
                .where(staff_notices.c.id == reference, staff_notices.c.status == "queued")
                .values(status=result.state.value)
            )
            await conn.execute(
                update(staff_notices)
                .where(staff_notices.c.id == reference)
                .values(provider_id=result.provider_id)
            )
            return
        # Only move forward: a fast status callback may already have said more.
        await conn.execute(
            update(messages)
            .where(messages.c.id == reference, messages.c.status.in_(["queued"]))
            .values(status=result.state.value)
        )
        await conn.execute(
            update(messages)
            .where(messages.c.id == reference)
            .values(provider=result.gateway or svc.gateway.name, provider_id=result.provider_id)
        )


# What settle_plain's batched updates do one row at a time (SQLite, or a few rows).
_DONE = (
    update(outbox).where(outbox.c.id == bindparam("b_id")).values(state="done", lease_until=None)
)
_SENT = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(
        status=case(
            (messages.c.status == "queued", bindparam("b_status")),
            else_=messages.c.status,
        ),
        provider=bindparam("b_provider"),
        provider_id=bindparam("b_provider_id"),
        via="sms",
    )
)


async def settle_plain(
    svc: Services, plain: list[Plain], results: list[SendResult | GatewayError]
) -> tuple[int, int, int]:
    """Record what the gateway said about each plain SMS: (sent, retried, failed)."""
    done: list[tuple[Plain, SendResult]] = []
    retry: list[tuple[Plain, GatewayError]] = []
    failed: list[tuple[Plain, GatewayError]] = []
    for p, result in zip(plain, results, strict=True):
        if isinstance(result, SendResult):
            done.append((p, result))
        elif result.transient and p.attempts < MAX_ATTEMPTS:
            retry.append((p, result))
        else:
            failed.append((p, result))
    now = svc.clock.now()
    async with svc.write() as conn:
        if done:
            await update_many(
                conn,
                outbox,
                [{"id": p.outbox_id} for p, _ in done],
                fallback=_DONE,
                assign={"state": "'done'", "lease_until": "NULL"},
            )
            # Only move the status forward: a fast status callback may already have said more.
            await update_many(
                conn,
                messages,
                [
                    {
                        "id": p.message_id,
                        "status": r.state.value,
                        "provider": r.gateway or svc.gateway.name,
                        "provider_id": r.provider_id,
                    }
                    for p, r in done
                ],
                fallback=_SENT,
                assign={
                    "status": "CASE WHEN t.status = 'queued' THEN v.status ELSE t.status END",
                    "via": "'sms'",
                },
            )
        if retry:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == bindparam("b_id"), outbox.c.state == "sending")
                .values(
                    state="pending",
                    next_attempt_at=bindparam("b_when"),
                    lease_until=None,
                    last_error=bindparam("b_error"),
                ),
                [
                    {
                        "b_id": p.outbox_id,
                        "b_when": now + timedelta(seconds=backoff_seconds(p.attempts)),
                        "b_error": f"gateway_{exc.status or 'transient'}",
                    }
                    for p, exc in retry
                ],
            )
    if retry:
        log.warning("outbox: %d SMS failed transiently at the gateway; retrying", len(retry))
    for p, exc in failed:
        log.error("outbox %s: gateway refused the message (status %s)", p.outbox_id, exc.status)
        await finish(
            svc,
            p.outbox_id,
            state="failed",
            error=f"gateway_{exc.status or 'failed'}",
            message_id=p.message_id,
            why=GIVEN_UP if exc.transient else REFUSED,
        )
    if done:
        metrics.message_sent("sms", len(done))
    return len(done), len(retry), len(failed)
