"""The caseworker's side: who is asking, which threads they may see, reading and replying.

A caseworker sees threads on cases they own; a team lead sees their team's
cases and the municipality's unassigned queue. Anything else is "not found",
never "forbidden": we do not confirm that a thread exists.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.base.clock import COPENHAGEN
from bot.base.crypto import SealingKey, unseal
from bot.base.errors import BadInput, NotFound, Unauthorized
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain.escalation import acknowledge
from bot.domain.guard import GUIDANCE_LINE as GUIDANCE_LINE  # the pages and the API
from bot.domain.guard import NATURES as NATURES
from bot.domain.guard import as_sent
from bot.domain.outbound import queue_sms
from bot.domain.privacy import needs_notice, tenant_settings_for
from bot.store.schema.core import (
    api_tokens,
    cases,
    conversations,
    messages,
    outbox,
    persons,
    staff,
    tenants,
)
from bot.store.schema.integration import external_refs
from channels.smstext import TooManySegments, check_fits
from journal.access import record_reads
from journal.journal import append
from scheduler.store import works_for


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def find_staff(
    conn: AsyncConnection,
    *,
    staff_id: str | None = None,
    tenant_slug: str | None = None,
    reference: str | None = None,
) -> tuple[str, str] | None:
    """A staff member named by our id, or by the case system's reference in a municipality.

    Returns:
        ``(staff_id, tenant_id)``, or None when no one answers to it.
    """
    if staff_id is not None:
        query = select(staff.c.id, staff.c.tenant_id).where(staff.c.id == staff_id)
    else:
        query = (
            select(staff.c.id, staff.c.tenant_id)
            .join(external_refs, external_refs.c.row_id == staff.c.id)
            .join(tenants, tenants.c.id == staff.c.tenant_id)
            .where(
                tenants.c.slug == tenant_slug,
                external_refs.c.tenant_id == tenants.c.id,
                external_refs.c.kind == "staff",
                external_refs.c.ref == reference,
            )
        )
    row = (await conn.execute(query)).first()
    return (str(row.id), str(row.tenant_id)) if row is not None else None


async def issue_token(
    conn: AsyncConnection, *, staff_id: str, tenant_id: str, label: str, at: datetime
) -> str:
    """Create a bearer token for a staff member. Only its hash is stored; show it once."""
    token = "tvh_" + secrets.token_urlsafe(32)
    await conn.execute(
        api_tokens.insert().values(
            id=new_id(),
            tenant_id=tenant_id,
            staff_id=staff_id,
            token_hash=hash_token(token),
            label=label,
            created_at=at,
        )
    )
    return token


async def authenticate(svc: Services, token: str | None) -> StaffUser:
    if not token:
        raise Unauthorized("A bearer token is required")
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(staff.c.id, staff.c.tenant_id, staff.c.team_id, staff.c.role)
                .join(api_tokens, api_tokens.c.staff_id == staff.c.id)
                .where(
                    api_tokens.c.token_hash == hash_token(token),
                    api_tokens.c.revoked_at.is_(None),
                    staff.c.active.is_(True),
                )
            )
        ).first()
    if row is None:
        raise Unauthorized("The token is not valid")
    return StaffUser(
        row.id, row.tenant_id, row.team_id, row.role, svc.clock.now().astimezone(COPENHAGEN).date()
    )


def visible_to(user: StaffUser) -> ColumnElement[bool]:
    """Which conversations this user may see, open or closed: the cases they work on (own,
    and an absent colleague's while they are the substitute: ``scheduler.store.works_for``,
    the one covering rule), and threads holding an open message routed to them."""
    holding = conversations.c.id.in_(
        select(messages.c.conversation_id).where(
            messages.c.owner_id == user.id, messages.c.awaiting_reply.is_(True)
        )
    )
    mine = or_(works_for(user, cases.c.owner_id), holding)
    if user.role in ("lead", "admin"):
        return and_(
            conversations.c.tenant_id == user.tenant_id,
            or_(mine, cases.c.team_id == user.team_id, conversations.c.case_id.is_(None)),
        )
    return and_(conversations.c.tenant_id == user.tenant_id, mine)


def _group(
    user: StaffUser,
    case_id: str | None,
    case_owner: str | None,
    owner: str | None,
    covers: bool = False,
) -> str:
    if case_id is None:
        return "unassigned"
    if owner == user.id or covers:
        return "mine" if case_owner == user.id else "covering"
    if owner is None and case_owner != user.id:
        return "team_unassigned"
    return "mine" if case_owner == user.id else "team"


def _decrypt_name(svc: Services, person: Any) -> str | None:
    if person.name_enc is None:
        return None
    dek = svc.dek("persons", person.id, person.dek)
    return unseal(dek, person.name_enc, f"persons:{person.id}:name")


async def list_open(svc: Services, user: StaffUser) -> list[dict[str, Any]]:
    """Threads with at least one inbound message awaiting an answer, earliest reply-by first."""
    open_q = (
        select(
            messages.c.conversation_id,
            func.count().label("open_count"),
            func.min(messages.c.reply_by).label("reply_by"),
            func.max(messages.c.owner_id).label("owner_id"),
            # Open messages of one thread may have different owners (one moved to a
            # substitute, a later one not): the thread is this user's if any is.
            func.max(case((messages.c.owner_id == user.id, 1), else_=0)).label("yours"),
            func.max(
                case(
                    (and_(messages.c.urgent.is_(True), messages.c.acknowledged_at.is_(None)), 1),
                    else_=0,
                )
            ).label("urgent"),
            # Bekymring (bot.domain.dispatch): first after the urgent ones.
            func.max(case((messages.c.triage_level == "bekymring", 1), else_=0)).label("concern"),
        )
        .where(messages.c.awaiting_reply.is_(True), messages.c.tenant_id == user.tenant_id)
        .group_by(messages.c.conversation_id)
        .subquery()
    )
    async with svc.read() as conn:
        rows = (
            await conn.execute(
                select(
                    conversations.c.id,
                    conversations.c.case_id,
                    conversations.c.last_activity_at,
                    cases.c.number,
                    cases.c.owner_id.label("case_owner"),
                    open_q.c.open_count,
                    open_q.c.reply_by,
                    open_q.c.owner_id,
                    open_q.c.yours,
                    open_q.c.urgent,
                    open_q.c.concern,
                    # The user covers the absent owner's case (works_for, not their own).
                    case(
                        (
                            and_(cases.c.owner_id != user.id, works_for(user, cases.c.owner_id)),
                            1,
                        ),
                        else_=0,
                    ).label("covers"),
                    persons.c.id.label("person_id"),
                    persons.c.dek,
                    persons.c.name_enc,
                )
                .join(open_q, open_q.c.conversation_id == conversations.c.id)
                .join(persons, persons.c.id == conversations.c.person_id)
                .outerjoin(cases, cases.c.id == conversations.c.case_id)
                .where(visible_to(user))
                .order_by(
                    open_q.c.urgent.desc(),
                    open_q.c.concern.desc(),
                    open_q.c.reply_by.is_(None),
                    open_q.c.reply_by,
                    conversations.c.id,
                )
            )
        ).all()
    return [
        {
            "id": r.id,
            "case_number": r.number,
            "participant_name": _decrypt_name(svc, _Person(r.person_id, r.dek, r.name_enc)),
            "open_count": r.open_count,
            "urgent": bool(r.urgent),
            "concern": bool(r.concern),
            "group": _group(
                user,
                r.case_id,
                r.case_owner,
                user.id if r.yours else r.owner_id,
                covers=bool(r.covers),
            ),
            "reply_by": r.reply_by.isoformat() if r.reply_by else None,
            "last_message_at": r.last_activity_at.isoformat(),
        }
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class _Person:
    id: str
    dek: bytes
    name_enc: bytes | None


async def thread_for(conn: AsyncConnection, user: StaffUser, conv_id: str) -> Any:
    """The thread ``conv_id`` if this user may see it (:func:`visible_to`); else 404."""
    row = (
        await conn.execute(
            select(
                conversations.c.id,
                conversations.c.tenant_id,
                conversations.c.case_id,
                conversations.c.person_id,
                cases.c.number,
                cases.c.dek.label("case_dek"),
                cases.c.status.label("case_status"),
                persons.c.dek.label("person_dek"),
                persons.c.name_enc,
            )
            .join(persons, persons.c.id == conversations.c.person_id)
            .outerjoin(cases, cases.c.id == conversations.c.case_id)
            .where(conversations.c.id == conv_id, visible_to(user))
        )
    ).first()
    if row is None:
        raise NotFound("No such conversation", code="conversation_not_found")
    return row


def _key(svc: Services, conv: Any) -> SealingKey:
    if conv.case_id is not None:
        return SealingKey("case", conv.case_id, svc.dek("cases", conv.case_id, conv.case_dek))
    return SealingKey("person", conv.person_id, svc.dek("persons", conv.person_id, conv.person_dek))


async def _withheld_reasons(conn: AsyncConnection, items: list[dict[str, Any]]) -> None:
    """Say why the send-time gate held back each withheld message (its stable reason word,
    :mod:`bot.domain.gate`), from the outbox row the gate settled."""
    withheld = {m["id"]: m for m in items if m["status"] == "withheld"}
    if not withheld:
        return
    rows = await conn.execute(
        select(outbox.c.message_id, outbox.c.last_error).where(
            outbox.c.message_id.in_(list(withheld)), outbox.c.last_error.like("withheld: %")
        )
    )
    for r in rows:
        withheld[r.message_id]["withheld_reason"] = r.last_error.removeprefix("withheld: ")


def _answer_statuses(rows: Sequence[Any], items: list[dict[str, Any]]) -> None:
    """What became of our answer to each family message (``answer_status``).

    The answer to a family message is the first run of messages a caseworker wrote after
    it (``author_id``: not receipts, reminders or other automatic SMS); the status of the
    newest of them is its state, so a resend that got through makes up for a failed reply.
    Family messages in a row share the answer that follows them. None: nobody wrote after
    it (still waiting, or closed without a reply). ``bot.store.caselist.threads_of`` says
    the same of a thread's newest family message (the case page's badge).
    """
    answer: str | None = None
    in_run = False  # a caseworker's message seen since the (later) family message
    for m, item in zip(reversed(rows), reversed(items), strict=True):
        if m.direction == "in":
            item["answer_status"] = answer
            in_run = False
        elif m.author_id is not None and not in_run:
            answer, in_run = m.status, True


async def read_thread(
    svc: Services, user: StaffUser, conv_id: str, purpose: str = "sagsbehandling"
) -> dict[str, Any]:
    """The whole thread, decrypted. Every message shown is recorded in the access log."""
    async with svc.write() as conn:
        conv = await thread_for(conn, user, conv_id)
        case_key = _key(svc, conv)
        person_dek = svc.dek("persons", conv.person_id, conv.person_dek)
        rows = (
            await conn.execute(
                select(messages)
                # A one-time login code is for the citizen's eyes only.
                .where(messages.c.conversation_id == conv_id, messages.c.kind != "login_code")
                .order_by(messages.c.created_at, messages.c.direction, messages.c.id)
            )
        ).all()
        items = []
        for m in rows:
            dek = case_key.dek if m.key_scope == "case" else person_dek
            items.append(
                {
                    "id": m.id,
                    "direction": m.direction,
                    "kind": m.kind,
                    "body": unseal(dek, m.body_enc, f"messages:{m.id}:body"),
                    "status": m.status,
                    "awaiting_reply": m.awaiting_reply,
                    "urgent": m.urgent,
                    "triage_level": m.triage_level,
                    # Why triage flagged it (sealed like the body: the citizen's words).
                    "triage_why": (
                        unseal(dek, m.triage_why_enc, f"messages:{m.id}:triage_why").split("\n")
                        if m.triage_why_enc is not None
                        else []
                    ),
                    "acknowledged_at": m.acknowledged_at.isoformat() if m.acknowledged_at else None,
                    "reply_by": m.reply_by.isoformat() if m.reply_by else None,
                    "created_at": m.created_at.isoformat(),
                    "withheld_reason": None,
                    "answer_status": None,
                }
            )
        _answer_statuses(rows, items)
        await _withheld_reasons(conn, items)
        await record_reads(
            conn,
            tenant_id=user.tenant_id,
            staff_id=user.id,
            case_id=conv.case_id,
            message_ids=[m.id for m in rows],
            purpose=purpose,
            at=svc.clock.now(),
        )
    name = None
    if conv.name_enc is not None:
        name = unseal(person_dek, conv.name_enc, f"persons:{conv.person_id}:name")
    return {
        "id": conv.id,
        "case_number": conv.number,
        "participant_name": name,
        "person_id": conv.person_id,
        "messages": items,
    }


async def check_sms_fits(
    conn: AsyncConnection, tenant_id: str, body: str, *, sensitive: bool = False
) -> None:
    """400 ``too_many_segments`` when ``body`` would go by SMS and is longer than the
    municipality allows. What goes as a notice with a link (sensitive) may be longer."""
    settings = await tenant_settings_for(conn, tenant_id)
    if not needs_notice(body, sensitive=sensitive, terms=settings.sensitive_terms):
        try:
            check_fits(body, settings.max_segments)
        except TooManySegments as exc:
            raise BadInput(str(exc), code="too_many_segments") from exc


async def reply(
    svc: Services,
    user: StaffUser,
    conv_id: str,
    body: str,
    *,
    sensitive: bool = False,
    promise_due: date | None = None,
    nature: str = "message",
    urgent_reason: str | None = None,
) -> dict[str, Any]:
    """Queue the caseworker's answer and close the thread's open inbound messages.

    A sensitive reply (or one with a CPR number or a sensitive word) goes out as
    a notice with a link; anything else must fit the municipality's SMS limit.
    A reply waits for the end of quiet hours (stilletid) unless the caseworker
    marks it urgent with ``urgent_reason``, which is journalised with it.
    """
    from scheduler.quiet import allowed_send_time
    from scheduler.settings import settings_for
    from scheduler.urgent import check_reason, mark_urgent

    reason = check_reason(urgent_reason) if urgent_reason is not None else None
    body = body.strip()
    if not body:
        raise BadInput("The reply is empty", code="empty_body")
    body = as_sent(body, nature)  # the decision guard: 400 decision_not_allowed
    if len(body) > svc.config.max_body_chars:
        raise BadInput(
            f"The reply is longer than {svc.config.max_body_chars} characters", code="body_too_long"
        )
    now = svc.clock.now()
    async with svc.write() as conn:
        conv = await thread_for(conn, user, conv_id)
        if conv.case_id is not None and conv.case_status != "open":
            raise BadInput("The case is closed", code="case_closed")
        await check_sms_fits(conn, conv.tenant_id, body, sensitive=sensitive)
        mid = await queue_sms(
            conn,
            tenant_id=conv.tenant_id,
            conversation_id=conv.id,
            case_id=conv.case_id,
            person_id=conv.person_id,
            kind="reply",
            body=body,
            key=_key(svc, conv),
            at=now,
            author_id=user.id,
            sensitive=sensitive,
        )
        sends_at = None
        if reason is None:  # not urgent: it waits for the end of quiet hours
            quiet = await settings_for(conn, conv.tenant_id, conv.person_id)
            goes = allowed_send_time(now, quiet, svc.calendar)
            sends_at = goes if goes > now else None
        else:
            await mark_urgent(
                conn,
                tenant_id=conv.tenant_id,
                case_id=conv.case_id,
                message_id=mid,
                staff_id=user.id,
                reason=reason,
                key=_key(svc, conv),
                at=now,
            )
        if promise_due is not None:
            # "I'll come back by Thursday": reminded the day before, kept or reported.
            from scheduler.promises import record_promise

            if conv.case_id is None:
                raise BadInput("A promise needs a case", code="promise_without_case")
            await record_promise(
                conn,
                svc,
                conversation_id=conv.id,
                case_id=conv.case_id,
                staff_id=user.id,
                due=promise_due,
            )
        await _answered_picks_up(conn, svc, user, conv.id)
        await conn.execute(
            update(messages)
            .where(messages.c.conversation_id == conv.id, messages.c.awaiting_reply.is_(True))
            .values(awaiting_reply=False, answered_at=now)
        )
        await conn.execute(
            update(conversations).where(conversations.c.id == conv.id).values(last_activity_at=now)
        )
    svc.wake_relay()
    return {
        "id": mid,
        "direction": "out",
        "kind": "reply",
        "body": body,
        "status": "queued",
        "created_at": now.isoformat(),
        "sends_at": sends_at.isoformat() if sends_at is not None else None,
    }


async def _answered_picks_up(
    conn: AsyncConnection, svc: Services, user: StaffUser, conv_id: str
) -> None:
    """A reply to an urgent message is someone picking it up: its escalation stops."""
    waiting = (
        await conn.execute(
            select(messages.c.id).where(
                messages.c.conversation_id == conv_id,
                messages.c.awaiting_reply.is_(True),
                messages.c.urgent.is_(True),
                messages.c.acknowledged_at.is_(None),
            )
        )
    ).scalars()
    for message_id in list(waiting):
        await acknowledge(conn, svc, message_id=message_id, staff_id=user.id, via="reply")


async def close_with_note(
    svc: Services, user: StaffUser, conv_id: str, note: str
) -> dict[str, Any]:
    """Handled another way (e.g. by phone): close the open messages and file the note."""
    note = note.strip()
    if not note or len(note) > 2000:
        raise BadInput("A note of 1–2000 characters is required", code="bad_note")
    now = svc.clock.now()
    async with svc.write() as conn:
        conv = await thread_for(conn, user, conv_id)
        closed = await conn.execute(
            update(messages)
            .where(messages.c.conversation_id == conv.id, messages.c.awaiting_reply.is_(True))
            .values(awaiting_reply=False, answered_at=now, next_escalation_at=None)
        )
        await append(
            conn,
            tenant_id=conv.tenant_id,
            case_id=conv.case_id,
            kind="note",
            direction="internal",
            channel="api",
            subject="Lukket med notat",
            actor=f"staff:{user.id}",
            at=now,
            content=note,
            key=_key(svc, conv),
        )
    return {"id": conv.id, "closed": closed.rowcount}


async def acknowledge_message(svc: Services, user: StaffUser, message_id: str) -> dict[str, Any]:
    """Pick up an urgent message: stop its escalation."""
    from bot.domain.escalation import acknowledge

    async with svc.write() as conn:
        conv_id = (
            await conn.execute(
                select(messages.c.conversation_id).where(
                    messages.c.id == message_id, messages.c.tenant_id == user.tenant_id
                )
            )
        ).scalar_one_or_none()
        if conv_id is None:
            raise NotFound("No such message", code="message_not_found")
        await thread_for(conn, user, conv_id)
        changed = await acknowledge(conn, svc, message_id=message_id, staff_id=user.id, via="api")
    return {"id": message_id, "acknowledged": True, "changed": changed}
