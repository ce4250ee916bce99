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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import TextClause, and_, bindparam, case, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base import metrics
from bot.base.crypto import unseal
from bot.base.services import Services
from bot.domain.privacy import create_link, needs_notice, notice_body, tenant_settings_for
from bot.domain.texts import text
from bot.store.engine import records, update_many
from bot.store.events import emit
from bot.store.schema.core import (
    UTCDateTime,
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


# Automatic answers to what the citizen just wrote (receipts, "which case?"), and their
# login codes, go at any hour. Everything else a citizen gets (a caseworker's reply,
# updates, scheduled SMS, reminders) waits for the end of quiet hours, unless a
# caseworker marked it urgent with a reason (scheduler.urgent); reminders and nudges
# never are.
QUIET_HOURS_EXEMPT = (*CONVERSATIONAL, "login_code", "fallback")


async def _quiet_hours(svc: Services, outbox_id: str) -> bool:
    """Hold a proactive SMS (reminder, update, scheduled …) that fell due in quiet hours.

    The scheduler already plans around quiet hours; this catches what retries or
    an outage pushed into the night. Returns True when the row was put back to wait.
    """
    from scheduler.quiet import allowed_send_time
    from scheduler.settings import settings_for
    from scheduler.urgent import urgent_ids

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
            at=svc.clock.now(),
        )


# GatewayAPI takes a list of messages in one request; this many per request.
MESSAGES_PER_REQUEST = 100


# PostgreSQL's claim, one statement: the ids are picked in queue order along
# ix_outbox_due (state, next attempt, queued at), walking only the rows in the state
# asked for and stopping at the limit, and locked, skipping rows another worker holds;
# the UPDATE then finds them by primary key. Rows whose lease ran out (a worker died
# mid-send) come first; the batch may then hold up to twice the limit. The limit is
# written into the statement, so that PostgreSQL plans the walk for it.
_CLAIM_PG = """
UPDATE outbox AS o SET state = 'sending', lease_until = :lease, attempts = o.attempts + 1
FROM (SELECT unnest(
    ARRAY(SELECT id FROM outbox WHERE state = 'sending' AND lease_until < :now
          ORDER BY next_attempt_at, created_at LIMIT {limit} FOR UPDATE SKIP LOCKED)
    || ARRAY(SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= :now
             ORDER BY next_attempt_at, created_at LIMIT {limit} FOR UPDATE SKIP LOCKED)
) AS id) AS picked
WHERE o.id = picked.id
RETURNING o.id, o.message_id, o.staff_notice_id, o.attempts, o.next_attempt_at, o.created_at
"""
_CLAIMS: dict[int, TextClause] = {}


def _claim_pg(limit: int) -> TextClause:
    stmt = _CLAIMS.get(limit)
    if stmt is None:
        stmt = _CLAIMS[limit] = sql_text(_CLAIM_PG.format(limit=int(limit))).bindparams(
            bindparam("lease", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime())
        )
    return stmt


async def _claim_batch(svc: Services, limit: int) -> list[Any]:
    """Claim due rows: on PostgreSQL with one ``UPDATE … RETURNING`` (``SKIP LOCKED``).

    The rows come back in the order they were queued (next attempt, then queued
    at): RETURNING itself promises no order, and a citizen's SMS must go in order.
    """
    now = svc.clock.now()
    if not svc.sqlite:
        async with svc.write() as conn:
            rows = records(await conn.execute(_claim_pg(limit), {"lease": now + LEASE, "now": now}))
        rows.sort(key=lambda r: (r.next_attempt_at, r.created_at))
        return rows
    due = or_(
        and_(outbox.c.state == "pending", outbox.c.next_attempt_at <= now),
        and_(outbox.c.state == "sending", outbox.c.lease_until < now),
    )
    pick = (
        select(outbox.c.id)
        .where(due)
        .order_by(outbox.c.next_attempt_at, outbox.c.created_at)
        .limit(limit)
    )
    claimed = (outbox.c.id, outbox.c.message_id, outbox.c.staff_notice_id, outbox.c.attempts)
    claim = {"state": "sending", "lease_until": now + LEASE, "attempts": outbox.c.attempts + 1}
    # One writer, and its RETURNING sees only the updated table: pick, then claim.
    async with svc.write() as conn:
        ids = list((await conn.execute(pick)).scalars())
        if not ids:
            return []
        rows = list(
            await conn.execute(
                update(outbox).where(outbox.c.id.in_(ids)).values(**claim).returning(*claimed)
            )
        )
    order = {oid: i for i, oid in enumerate(ids)}
    rows.sort(key=lambda r: order[r.id])
    return rows


@dataclass(slots=True)
class _Plain:
    """A claimed row that is an ordinary SMS to a citizen, ready to go."""

    outbox_id: str
    message_id: str
    kind: str
    attempts: int
    sms: OutboundSms


async def _triage(svc: Services, claimed: list[Any]) -> tuple[list[_Plain], list[str], list[str]]:
    """Split a claimed batch: (plain SMS to send together, rows for one-by-one, quiet rows).

    One query loads every message of the batch. What needs more than a plain
    SMS (a staff notice, e-mail, an inbox-first citizen, a notice instead of
    sensitive content) goes the one-by-one way, which knows all of that.
    """
    from scheduler.quiet import allowed_send_time
    from scheduler.settings import pick, settings_map
    from scheduler.urgent import urgent_ids

    by_message = {r.message_id: r for r in claimed if r.staff_notice_id is None and r.message_id}
    single = [r.id for r in claimed if r.message_id not in by_message]
    if not by_message:
        return [], single, []
    now = svc.clock.now()
    async with svc.read() as conn:
        rows = records(
            await conn.execute(
                select(
                    messages.c.id,
                    messages.c.tenant_id,
                    messages.c.key_scope,
                    messages.c.body_enc,
                    messages.c.case_id,
                    messages.c.person_id,
                    messages.c.sensitive,
                    messages.c.via,
                    messages.c.kind,
                    cases.c.dek.label("case_dek"),
                    persons.c.dek.label("person_dek"),
                    persons.c.phone_enc,
                    persons.c.channel_pref,
                    tenants.c.sms_number,
                )
                .join(persons, persons.c.id == messages.c.person_id)
                .join(tenants, tenants.c.id == messages.c.tenant_id)
                .outerjoin(cases, cases.c.id == messages.c.case_id)
                .where(messages.c.id.in_(list(by_message)))
            )
        )
        tenant_ids = sorted({r.tenant_id for r in rows})
        proactive = [r for r in rows if r.kind not in QUIET_HOURS_EXEMPT]
        quiet = (
            await settings_map(conn, tenant_ids, sorted({r.person_id for r in proactive}))
            if proactive
            else {}
        )
        urgent = await urgent_ids(conn, [r.id for r in proactive]) if proactive else set()
        settings = {t: await tenant_settings_for(conn, t) for t in tenant_ids}
    loaded = {r.id: r for r in rows}
    single += [by_message[m].id for m in by_message if m not in loaded]
    plain: list[_Plain] = []
    held: list[tuple[str, Any]] = []
    # A batch often holds many SMS of one case or one text: unwrap and check each once.
    deks: dict[tuple[str, str], bytes] = {}
    notice: dict[tuple[str, str], bool] = {}
    # Most rows share their municipality's quiet hours: when they allow sending, once each.
    allowed: dict[int, datetime] = {}

    def dek(table: str, row_id: str, wrapped: bytes) -> bytes:
        if (table, row_id) not in deks:
            deks[(table, row_id)] = svc.dek(table, row_id, wrapped)
        return deks[(table, row_id)]

    for mid, claim in by_message.items():
        row = loaded.get(mid)
        if row is None:
            continue
        if row.kind not in QUIET_HOURS_EXEMPT and row.id not in urgent:
            applies = pick(quiet, row.tenant_id, row.person_id)
            when = allowed.get(id(applies))
            if when is None:
                when = allowed[id(applies)] = allowed_send_time(now, applies, svc.calendar)
            if when > now:
                held.append((claim.id, when))
                continue
        if (
            row.phone_enc is None
            or row.via is not None
            or row.channel_pref in ("email", "inbox_first")
            or row.sensitive
        ):
            single.append(claim.id)
            continue
        body_dek = dek(
            "cases" if row.key_scope == "case" else "persons",
            row.case_id if row.key_scope == "case" else row.person_id,
            row.case_dek if row.key_scope == "case" else row.person_dek,
        )
        body = unseal(body_dek, row.body_enc, f"messages:{row.id}:body")
        tenant = settings[row.tenant_id]
        if (row.tenant_id, body) not in notice:
            notice[(row.tenant_id, body)] = needs_notice(
                body, sensitive=False, terms=tenant.sensitive_terms
            )
        if notice[(row.tenant_id, body)]:
            single.append(claim.id)
            continue
        person_dek = dek("persons", row.person_id, row.person_dek)
        sms = OutboundSms(
            reference=row.id,
            sender=row.sms_number,
            recipient=unseal(person_dek, row.phone_enc, f"persons:{row.person_id}:phone"),
            body=body,
            route=tenant.gateways,
        )
        plain.append(_Plain(claim.id, row.id, row.kind, claim.attempts, sms))
    if held:
        async with svc.write() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == bindparam("b_id"))
                .values(
                    state="pending",
                    next_attempt_at=bindparam("b_when"),
                    lease_until=None,
                    attempts=outbox.c.attempts - 1,
                ),
                [{"b_id": oid, "b_when": when} for oid, when in held],
            )
    return plain, single, [oid for oid, _ in held]


def _waves(plain: list[_Plain], per_request: int) -> list[list[list[int]]]:
    """Plan the sends so that each citizen gets their SMS in the order they were queued.

    A citizen's SMS are cut into pieces of at most ``per_request``; piece *j* of
    every citizen goes in wave *j*, and the waves go one after the other. Within
    a wave, pieces are packed into requests of at most ``per_request`` messages
    (GatewayAPI keeps a request's list in order), and the requests go at once.

    Returns:
        waves → requests → indexes into ``plain``.
    """
    pieces: dict[str, list[list[int]]] = {}
    for i, p in enumerate(plain):
        own = pieces.setdefault(p.sms.recipient, [[]])
        if len(own[-1]) == per_request:
            own.append([])
        own[-1].append(i)
    waves: list[list[list[int]]] = []
    for own in pieces.values():
        for j, piece in enumerate(own):
            if j == len(waves):
                waves.append([[]])
            if len(waves[j][-1]) + len(piece) > per_request:
                waves[j].append([])
            waves[j][-1].extend(piece)
    return waves


async def _send_plain(svc: Services, plain: list[_Plain]) -> list[SendResult | GatewayError]:
    """Hand plain SMS to the gateway: many per request where it takes lists, else concurrently.

    Either way at most ``send_concurrency`` requests are open at once, and one
    citizen's SMS are handed over in the order they were queued.
    """
    gate = asyncio.Semaphore(svc.config.send_concurrency)
    send_many = getattr(svc.gateway, "send_many", None)
    if not getattr(svc.gateway, "takes_lists", True):
        send_many = None  # e.g. Twilio first: one request per SMS, concurrently

    async def request(part: list[int]) -> list[SendResult | GatewayError]:
        async with gate:
            if send_many is not None and len(part) > 1:
                results: list[SendResult | GatewayError] = await send_many(
                    [plain[i].sms for i in part]
                )
                return results
            try:
                return [await svc.gateway.send(plain[part[0]].sms)]
            except GatewayError as exc:
                return [exc]

    out: list[SendResult | GatewayError | None] = [None] * len(plain)
    for wave in _waves(plain, MESSAGES_PER_REQUEST if send_many is not None else 1):
        for part, results in zip(
            wave, await asyncio.gather(*(request(part) for part in wave)), strict=True
        ):
            for i, result in zip(part, results, strict=True):
                out[i] = result
    return [r for r in out if r is not None]


# What _settle's batched updates do one row at a time (SQLite, or a few rows).
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


async def _settle(
    svc: Services, plain: list[_Plain], results: list[SendResult | GatewayError]
) -> tuple[int, int, int]:
    """Record what the gateway said about each plain SMS: (sent, retried, failed)."""
    done: list[tuple[_Plain, SendResult]] = []
    retry: list[tuple[_Plain, GatewayError]] = []
    failed: list[tuple[_Plain, GatewayError]] = []
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
        await _finish(
            svc,
            p.outbox_id,
            state="failed",
            error=f"gateway_{exc.status or 'failed'}",
            message_id=p.message_id,
        )
    if done:
        metrics.message_sent("sms", len(done))
    return len(done), len(retry), len(failed)


async def relay_once(svc: Services, limit: int | None = None) -> RelayStats:
    """Claim and send one batch of due outbound SMS. Safe to run in several workers.

    The batch is claimed and loaded with two statements; plain SMS go to the
    gateway many per request (or concurrently, bounded) and are marked done
    together as soon as the gateway has answered, which keeps the window in
    which a crash could make a retry send one twice as short as it can be.
    Everything else (staff notices, e-mail, inbox-first, sensitive content)
    goes one by one.
    """
    claimed = await _claim_batch(svc, limit or svc.config.outbox_batch)
    if not claimed:
        return RelayStats(0, 0, 0, 0)
    plain, single, _quiet = await _triage(svc, claimed)
    gate = asyncio.Semaphore(svc.config.send_concurrency)

    async def one(oid: str) -> str:
        async with gate:
            try:
                return await _send_one(svc, oid)
            except Exception:
                # The lease expires and the row is claimed again: nothing is lost.
                log.exception("outbox %s: unexpected failure while sending", oid)
                return "error"

    async def plain_batch() -> tuple[int, int, int]:
        if not plain:
            return 0, 0, 0
        return await _settle(svc, plain, await _send_plain(svc, plain))

    outcomes, (sent, retried, failed) = await asyncio.gather(
        asyncio.gather(*(one(i) for i in single)), plain_batch()
    )
    if outcomes.count("sent"):
        metrics.message_sent("sms", outcomes.count("sent"))
    return RelayStats(
        claimed=len(claimed),
        sent=sent + outcomes.count("sent"),
        retried=retried + outcomes.count("retried"),
        failed=failed + outcomes.count("failed"),
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
