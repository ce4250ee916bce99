"""Delivery reports: move an outbound message along queued → sent → delivered | failed.

A page to a staff phone (a ``staff_notices`` row, sent under its own id as the
reference) gets its reports too: its status moves the same way, and its final
state is journalised on the case of the message it was about.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base import metrics
from bot.base.crypto import SealingKey, unseal
from bot.base.services import Services
from bot.domain.consent import email_consented
from bot.domain.outbound import SUBJECTS, queue_sms
from bot.store.events import emit
from bot.store.schema.core import cases, messages, persons, staff_notices
from channels.base import DeliveryReport, DeliveryState
from journal.journal import append
from scheduler.calltasks import (
    EMAIL_FAILED,
    GIVEN_UP,
    NO_PHONE,
    REFUSED,
    UNDELIVERED,
    open_call_task,
)

log = logging.getLogger(__name__)

FINAL_SUBJECTS = {
    DeliveryState.DELIVERED: "SMS leveret til borgerens telefon",
    DeliveryState.FAILED: "SMS kunne ikke leveres",
    DeliveryState.EXPIRED: "SMS udløb uden at blive leveret",
}
PAGE_SUBJECTS = {
    DeliveryState.DELIVERED: "Besked til medarbejderens telefon leveret",
    DeliveryState.FAILED: "Besked til medarbejderens telefon kunne ikke leveres",
    DeliveryState.EXPIRED: "Besked til medarbejderens telefon udløb uden at blive leveret",
}
PAGE_KINDS = {
    "urgent": "Akut besked",
    "escalation": "Eskalering",
    "reminder": "Påmindelse",
    "breach": "Svarfrist overskredet",
}


async def message_sent_as(svc: Services, provider: str, provider_id: str) -> str | None:
    """Our message that ``provider`` accepted under its own id ``provider_id`` (None: not ours)."""
    async with svc.read() as conn:
        found = await conn.execute(
            select(messages.c.id).where(
                messages.c.provider == provider, messages.c.provider_id == provider_id
            )
        )
        mine = found.scalar_one_or_none()
        if mine is None:  # a page to a staff phone, sent under the notice's id
            mine = (
                await conn.execute(
                    select(staff_notices.c.id).where(staff_notices.c.provider_id == provider_id)
                )
            ).scalar_one_or_none()
        return mine


async def apply_report(svc: Services, message_id: str, report: DeliveryReport) -> bool:
    """Apply one delivery report to our message ``message_id``.

    A report that would move the state backwards (a late "sent" after
    "delivered") or repeats the current state changes nothing. A report that
    reaches a final state is journalised on the case.

    Returns:
        True when the message changed.
    """
    async with svc.write() as conn:
        msg = (
            await conn.execute(
                select(
                    messages.c.id,
                    messages.c.status,
                    messages.c.tenant_id,
                    messages.c.case_id,
                    messages.c.provider_id,
                    messages.c.direction,
                ).where(messages.c.id == message_id)
            )
        ).first()
        if msg is None:
            paged = await _page_report(conn, svc, message_id, report)
            if paged is not None:
                return paged
        if msg is None or msg.direction != "out":
            log.warning("delivery report for unknown message %s ignored", message_id)
            return False
        if msg.provider_id is not None and msg.provider_id != report.provider_id:
            log.warning("delivery report for %s names another provider id; ignored", message_id)
            return False
        try:
            current = DeliveryState(msg.status)
        except ValueError:  # withdrawn: nothing was sent, nothing to move
            return False
        if current.is_final or report.state.rank <= current.rank:
            return False
        await conn.execute(
            update(messages)
            .where(messages.c.id == message_id)
            .values(status=report.state.value, provider_id=report.provider_id)
        )
        if report.state in (DeliveryState.FAILED, DeliveryState.EXPIRED):
            await fall_back(conn, svc, message_id)
        if report.state.is_final:
            await emit(
                conn,
                tenant_id=msg.tenant_id,
                event="message.delivered"
                if report.state is DeliveryState.DELIVERED
                else "message.failed",
                payload={
                    "message_id": message_id,
                    "case_id": msg.case_id,
                    "status": report.state.value,
                },
                at=svc.clock.now(),
            )
            await append(
                conn,
                tenant_id=msg.tenant_id,
                case_id=msg.case_id,
                kind=f"delivery_{report.state.value}",
                direction="internal",
                channel="sms",
                subject=FINAL_SUBJECTS[report.state],
                actor="gateway",
                at=svc.clock.now(),
                message_id=message_id,
            )
    if report.state.is_final:
        metrics.delivery_outcome(report.state.value)
    return True


async def _page_report(
    conn: AsyncConnection, svc: Services, notice_id: str, report: DeliveryReport
) -> bool | None:
    """Apply a delivery report to the page ``notice_id`` (None: no such page either).

    Forward only, like a message's; a final state is journalised on the case of the
    message the page was about (its chain, or the unassigned queue's), naming whose
    phone it went to (sealed under the case's key).
    """
    row = (
        await conn.execute(
            select(
                staff_notices.c.status,
                staff_notices.c.provider_id,
                staff_notices.c.tenant_id,
                staff_notices.c.staff_id,
                staff_notices.c.kind,
                staff_notices.c.message_id,
                messages.c.case_id,
                cases.c.dek.label("case_dek"),
            )
            .outerjoin(messages, messages.c.id == staff_notices.c.message_id)
            .outerjoin(cases, cases.c.id == messages.c.case_id)
            .where(staff_notices.c.id == notice_id)
        )
    ).first()
    if row is None:
        return None
    if row.provider_id is not None and row.provider_id != report.provider_id:
        log.warning("delivery report for page %s names another provider id; ignored", notice_id)
        return False
    try:
        current = DeliveryState(row.status)
    except ValueError:
        return False
    if current.is_final or report.state.rank <= current.rank:
        return False
    await conn.execute(
        update(staff_notices)
        .where(staff_notices.c.id == notice_id)
        .values(status=report.state.value, provider_id=report.provider_id)
    )
    if report.state.is_final:
        content = key = None
        if row.case_id is not None:
            # The staff id is named by name and role in the case system's document.
            to = row.staff_id or "teamets vagttelefon"
            content = f"{PAGE_KINDS.get(row.kind, row.kind)} til: {to}"
            key = SealingKey("case", row.case_id, svc.dek("cases", row.case_id, row.case_dek))
        await append(
            conn,
            tenant_id=row.tenant_id,
            case_id=row.case_id,
            kind=f"page_{report.state.value}",
            direction="internal",
            channel="sms",
            subject=PAGE_SUBJECTS[report.state],
            actor="gateway",
            at=svc.clock.now(),
            content=content,
            key=key,
            message_id=row.message_id,
        )
    return True


# What the journal says when an e-mail notice takes over, by why the SMS did not go.
_BY_EMAIL = {
    UNDELIVERED: "SMS kunne ikke leveres: borgeren får besked på e-mail",
    REFUSED: "SMS afvist af SMS-udbyderen: borgeren får besked på e-mail",
    GIVEN_UP: "SMS kunne ikke sendes: borgeren får besked på e-mail",
    NO_PHONE: "Borgeren har intet mobilnummer: borgeren får besked på e-mail",
}


async def fall_back(
    conn: AsyncConnection, svc: Services, message_id: str, *, why: str = UNDELIVERED
) -> None:
    """A message that did not reach the citizen is never silent: an e-mail notice if
    allowed, else a call task. The one fallback path, whatever found the failure.

    Doors: a delivery report that says failed or expired (``UNDELIVERED``), and
    the outbox relay when the gateway refused an SMS for good (``REFUSED``), gave
    up after its retries (``GIVEN_UP``), the citizen has no mobile number
    (``NO_PHONE``) or an e-mail could not go. The e-mail notice is the same
    message by another channel: it keeps the message's kind, so the send-time
    gate judges it as what it is (the e-mail of a reminder is still a reminder,
    held back after STOP). An e-mail that fails leaves no channel: a call task.

    Args:
        why: the call task's title if it comes to one (``scheduler.calltasks``).
    """
    msg = (
        await conn.execute(
            select(
                messages,
                persons.c.email_enc,
                persons.c.dek.label("person_dek"),
                cases.c.dek.label("case_dek"),
            )
            .join(persons, persons.c.id == messages.c.person_id)
            .outerjoin(cases, cases.c.id == messages.c.case_id)
            .where(messages.c.id == message_id)
        )
    ).one()
    now = svc.clock.now()
    by_email = msg.via == "email" or msg.kind == "fallback"
    if (
        by_email
        or svc.email is None
        or msg.email_enc is None
        or not await email_consented(conn, msg.person_id)
    ):
        # No other channel: a caseworker calls (a task on the owner's list, due next morning).
        await open_call_task(
            conn,
            svc,
            tenant_id=msg.tenant_id,
            case_id=msg.case_id,
            message_id=message_id,
            subject=EMAIL_FAILED if by_email else why,
            at=now,
        )
        return
    await append(
        conn,
        tenant_id=msg.tenant_id,
        case_id=msg.case_id,
        kind="delivery_fallback",
        direction="internal",
        channel="system",
        subject=_BY_EMAIL.get(why, _BY_EMAIL[UNDELIVERED]),
        actor="system",
        at=now,
        message_id=message_id,
    )
    if msg.key_scope == "case":
        key = SealingKey("case", msg.case_id, svc.dek("cases", msg.case_id, msg.case_dek))
    else:
        key = SealingKey("person", msg.person_id, svc.dek("persons", msg.person_id, msg.person_dek))
    body = unseal(key.dek, msg.body_enc, f"messages:{msg.id}:body")
    await queue_sms(
        conn,
        tenant_id=msg.tenant_id,
        conversation_id=msg.conversation_id,
        case_id=msg.case_id,
        person_id=msg.person_id,
        kind=msg.kind,
        body=body,
        key=key,
        at=now,
        via="email",
        sensitive=msg.sensitive,
        subject=SUBJECTS["fallback"],
    )
    svc.wake_relay()
