"""Ny besked: a caseworker starts a message to a case's family (one participant or all).

The recipients are chosen by the one rule the case system's updates use
(:mod:`bot.domain.recipients`): entitled, no recorded refusal, a
representative's authority in force, a phone, no STOP. Each message is queued
by :func:`bot.domain.outbound.queue_sms` (or, sent later, by
:func:`scheduler.scheduled.queue_later`) into the participant's thread on the
case, sealed under the case's key and journalised; the outbox relay and its
send-time gate (:mod:`bot.domain.gate`) decide at sending time, as for every
other SMS.

Files to the family (vedhæftede filer) are sealed and journalised with their
SHA-256 on the message (:mod:`bot.domain.attachments`); such a message never
travels by SMS: it goes the sensitive way, a notice with a link to the secure
inbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey, unseal
from bot.base.errors import BadInput
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain import attachments
from bot.domain.attachments import Upload
from bot.domain.conversations import check_sms_fits
from bot.domain.outbound import queue_sms
from bot.domain.recipients import Recipient, case_recipients
from scheduler import settings as quiet_store
from scheduler.promises import check_due, record_promise
from scheduler.quiet import allowed_send_time
from scheduler.scheduled import check_send_at, queue_later
from scheduler.store import case_for, case_key, conversation_for, local_date, require_open

ALL = "alle"
SUBJECT = "Ny besked til borger fra sagsbehandler"


class NoRecipients(BadInput):
    """Nobody chosen may get the message now; ``skipped`` says who and why."""

    def __init__(self, skipped: Sequence[tuple[str, str]]) -> None:
        super().__init__("No chosen participant may get the message", code="no_recipients")
        self.skipped = list(skipped)


@dataclass(frozen=True, slots=True)
class Participant:
    """A participant as the compose page shows them."""

    id: str
    name: str
    first_name: str
    role: str
    language: str
    skip: str | None


@dataclass(frozen=True, slots=True)
class CaseToWrite:
    """The case a message is written on, and who is on it."""

    id: str
    number: str
    open: bool
    participants: list[Participant]


@dataclass(slots=True)
class Draft:
    """What the caseworker asks to send."""

    body: str
    to: str = ALL  # "alle", or one participant's id
    sensitive: bool = False
    send_at: datetime | None = None
    promise_due: date | None = None
    uploads: list[Upload] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Sent:
    """What was queued, and who was left out and why (stable reason words)."""

    messages: list[tuple[str, str, str]]  # (participant_id, conversation_id, message_id)
    skipped: list[tuple[str, str]]  # (participant_id, reason)
    later: bool
    # When the last of them goes: sent "now" in someone's quiet hours (stilletid), or
    # planned for later (the family's quiet hours may move the chosen time).
    sends_at: datetime | None = None


def _names(svc: Services, r: Recipient) -> tuple[str, str]:
    dek = svc.dek("persons", r.person_id, r.person_dek)
    name = unseal(dek, r.name_enc, f"persons:{r.person_id}:name") if r.name_enc else ""
    first = (
        unseal(dek, r.first_name_enc, f"persons:{r.person_id}:first_name")
        if r.first_name_enc
        else ""
    )
    return name or first or "Uden navn", first or name


async def case_to_write(svc: Services, user: StaffUser, case_id: str) -> CaseToWrite:
    """The case and its participants, if this user works on it (404 otherwise)."""
    async with svc.read() as conn:
        case = await case_for(conn, user, case_id)
        found = await case_recipients(conn, case.id, local_date(svc.clock.now()))
    people = []
    for r in found:
        name, first = _names(svc, r)
        people.append(Participant(r.participant_id, name, first, r.role, r.language, r.skip))
    return CaseToWrite(case.id, case.number, case.status == "open", people)


def check_draft(svc: Services, draft: Draft) -> str:
    """The body to send, trimmed; 400 with a stable code for what cannot be sent so."""
    body = draft.body.strip()
    if not body:
        raise BadInput("The message is empty", code="empty_body")
    if len(body) > svc.config.max_body_chars:
        raise BadInput("The message is too long", code="body_too_long")
    if draft.send_at is not None:
        if draft.sensitive:
            raise BadInput("Sensitive messages are not scheduled", code="sensitive_not_schedulable")
        if draft.uploads:
            raise BadInput("Files go with a message sent now", code="files_not_schedulable")
        if draft.promise_due is not None:
            raise BadInput("A promise goes with a message sent now", code="promise_with_schedule")
        check_send_at(svc.clock.now(), draft.send_at)
    if draft.promise_due is not None:
        check_due(svc, draft.promise_due)
    return body


def _chosen(found: list[Recipient], to: str) -> list[Recipient]:
    if to == ALL:
        return found
    one = [r for r in found if r.participant_id == to]
    if not one:
        raise BadInput("Choose who gets the message", code="bad_recipient")
    return one


async def send(svc: Services, user: StaffUser, case_id: str, draft: Draft) -> Sent:
    """Queue the message for every chosen participant who may get it, in one transaction.

    Raises:
        NotFound: a case this user does not work on (or another municipality's).
        CaseClosed: the case is closed.
        BadInput: empty_body, body_too_long, too_many_segments, bad_recipient,
            send_at_in_past, bad_datetime, sensitive_not_schedulable,
            files_not_schedulable, promise_with_schedule, promise_in_past,
            promise_not_working_day, bad_date;
            :class:`NoRecipients` when nobody chosen may get it.
    """
    body = check_draft(svc, draft)
    # A file never travels by SMS: the message goes as a notice with a link.
    secure = draft.sensitive or bool(draft.uploads)
    now = svc.clock.now()
    async with svc.write() as conn:
        case = await case_for(conn, user, case_id)
        require_open(case)
        await check_sms_fits(conn, case.tenant_id, body, sensitive=secure)
        chosen = _chosen(await case_recipients(conn, case.id, local_date(now)), draft.to)
        skipped = [(r.participant_id, r.skip) for r in chosen if r.skip is not None]
        going = [r for r in chosen if r.skip is None]
        if not going:
            raise NoRecipients(skipped)
        key = case_key(svc, case.id, case.dek)
        queued = []
        waits: list[datetime] = []
        for r in going:
            conv_id = await conversation_for(
                conn,
                tenant_id=case.tenant_id,
                case_id=case.id,
                person_id=r.person_id,
                at=now,
                touch=True,
            )
            mid, wait = await _queue_one(
                conn, svc, user, case, key, conv_id, r, body, draft, secure
            )
            queued.append((r.participant_id, conv_id, mid))
            waits.extend([wait] if wait is not None else [])
    svc.wake_relay()
    return Sent(queued, skipped, draft.send_at is not None, max(waits, default=None))


async def _queue_one(
    conn: AsyncConnection,
    svc: Services,
    user: StaffUser,
    case: Any,
    key: SealingKey,
    conv_id: str,
    r: Recipient,
    body: str,
    draft: Draft,
    secure: bool,
) -> tuple[str, datetime | None]:
    """One participant's message (now or later), its files and the promise, on their thread.

    Returns:
        The message's id, and when it goes if quiet hours hold a "now" message back.
    """
    now = svc.clock.now()
    if draft.send_at is not None:
        mid, goes_at = await queue_later(
            conn,
            svc,
            author_id=user.id,
            tenant_id=case.tenant_id,
            conversation_id=conv_id,
            case_id=case.id,
            person_id=r.person_id,
            key=key,
            body=body,
            send_at=draft.send_at,
        )
        # The family's quiet hours may move it: the page says when it really goes.
        return mid, goes_at
    # The send-time gate holds it until then, and journalises that it waits.
    quiet = await quiet_store.settings_for(conn, case.tenant_id, r.person_id)
    goes = allowed_send_time(now, quiet, svc.calendar)
    wait = goes if goes > now else None
    mid = await queue_sms(
        conn,
        tenant_id=case.tenant_id,
        conversation_id=conv_id,
        case_id=case.id,
        person_id=r.person_id,
        kind="update",
        body=body,
        key=key,
        at=now,
        author_id=user.id,
        subject=SUBJECT,
        sensitive=secure,
    )
    if draft.uploads:
        await attachments.store(
            conn,
            tenant_id=case.tenant_id,
            key=key,
            conversation_id=conv_id,
            case_id=case.id,
            message_id=mid,
            uploads=draft.uploads,
            at=now,
            staff_id=user.id,
        )
    if draft.promise_due is not None:
        await record_promise(
            conn,
            svc,
            conversation_id=conv_id,
            case_id=case.id,
            staff_id=user.id,
            due=draft.promise_due,
        )
    return mid, wait
