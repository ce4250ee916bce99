"""Breve via Digital Post: queue a letter for a case, relay it through SF1601, journalise it.

A letter is for a citizen without a phone or a secure inbox, or is an afgørelse
that must reach the citizen's Digital Post mailbox with its klagevejledning. It
is queued as a row of ``letters`` (the letters' outbox) in the caller's
transaction; :func:`relay_letters` hands due rows to a
:class:`channels.digitalpost.DigitalPost` (SF1601 in production, the local
simulator in the demo and the tests) and records the outcome:

* accepted: the row becomes ``sent`` with SF1601's transaction id, and the case's
  journal gets "Brev sendt via Digital Post" with the letter and its receipt;
* not now (timeout, 5xx): the row waits and is tried again, with the same MeMo
  ``messageUUID``; after :data:`MAX_ATTEMPTS` it fails;
* rejected: the row becomes ``failed`` with the reason, the journal gets "Brev
  kunne ikke sendes via Digital Post", the letter's author (else the case's owner)
  gets a task (opgave, ``letter_failed``) on ``/sagsbehandler/opgaver``, and
  :func:`letters_needing_attention` lists it until :func:`mark_failure_seen`, or
  until the caseworker closes that task (either marks the other done).
  Never dropped.

Idempotency: the MeMo UUID is fixed when the letter is queued and the MeMo is
built from the row the same way every time. A relay that dies after sending but
before recording leaves a lease that runs out; the letter is sent again with the
same UUID, the service answers that it already has it, and the row is marked sent
— one letter, one "sent" entry.

Wiring (for the integrator): build one ``Sf1601Client`` per process on the app's
client session and call ``await relay_letters(svc, client)`` from the ticker; it
returns counts and never raises for a letter's failure.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from bot.base.crypto import SealingKey
from bot.base.errors import BadInput, NotFound
from bot.base.ids import new_id
from bot.base.services import Connection, Services
from bot.store.schema.core import cases, tenants
from bot.store.schema.letters import letters
from channels.digitalpost import DigitalPost, DigitalPostError, PostReceipt
from channels.memo import (
    CaseReference,
    InvalidLetter,
    Letter,
    MainFile,
    MemoMessage,
    build_memo,
    check_letter,
    decision_document,
    new_message_uuid,
    text_document,
)
from journal.journal import append
from scheduler.store import add_task, close_tasks_for

log = logging.getLogger(__name__)

CHANNEL = "digitalpost"
# The caseworker's task (opgave) when a letter fails.
TASK_KIND = "letter_failed"
# A relay that dies mid-send leaves its claim this long before another takes it over.
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
# Waits between transient failures; the last repeats.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)
SUBJECT_QUEUED = "Brev lagt i kø til Digital Post"
SUBJECT_SENT = "Brev sendt via Digital Post"
SUBJECT_FAILED = "Brev kunne ikke sendes via Digital Post"
SUBJECT_SEEN = "Afvist brev set af sagsbehandler"


@dataclass(frozen=True, slots=True)
class QueuedLetter:
    """A letter in the queue: our id and its MeMo ``messageUUID``."""

    id: str
    message_uuid: str


@dataclass(frozen=True, slots=True)
class LetterView:
    """A letter as a caseworker may see it (unsealed; never logged)."""

    id: str
    case_id: str
    kind: str
    state: str
    attempts: int
    title: str
    message_uuid: str
    transaction_id: str | None
    failure_code: str | None
    failure_reason: str | None
    author_id: str | None
    created_at: datetime


@dataclass
class LetterRelayStats:
    """What one :func:`relay_letters` pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


# ---------------------------------------------------------------------------- queueing


async def queue_letter(
    conn: Connection,
    svc: Services,
    *,
    tenant_id: str,
    case_id: str,
    cpr: str,
    title: str,
    sender_cvr: str,
    text: str | None = None,
    pdf: bytes | None = None,
    pdf_filename: str | None = None,
    author_id: str | None = None,
    language: str = "da",
) -> QueuedLetter:
    """Queue an ordinary letter (plain text or a PDF) to a case's citizen.

    Runs in the caller's transaction; the journal gets "Brev lagt i kø til Digital Post".

    Args:
        cpr: the recipient's CPR number (ten digits; sealed at rest, never logged).
        sender_cvr: the municipality's CVR number (eight digits).
        text: the letter as plain text; or ``pdf`` (its bytes) with ``pdf_filename``.
        author_id: the caseworker who sends it (told if it fails).

    Raises:
        BadInput: the letter cannot become a valid MeMo message.
        NotFound: no such case in this municipality.
    """
    if (text is None) == (pdf is None):
        raise BadInput("give the letter as text or as a PDF", code="letter_document")
    try:
        if pdf is not None:
            name = pdf_filename or "brev.pdf"
            document = MainFile(filename=name, media_type="application/pdf", content=pdf)
        else:
            document = text_document(title=title, text=text or "")
    except InvalidLetter as exc:
        raise BadInput(str(exc), code="invalid_letter") from exc
    return await _queue(
        conn,
        svc,
        tenant_id,
        case_id,
        cpr,
        title,
        sender_cvr,
        document,
        "letter",
        author_id,
        language,
    )


async def queue_decision(
    conn: Connection,
    svc: Services,
    *,
    tenant_id: str,
    case_id: str,
    cpr: str,
    title: str,
    decision: str,
    klagevejledning: str,
    sender_cvr: str,
    author_id: str | None = None,
    language: str = "da",
) -> QueuedLetter:
    """Queue an afgørelse, its klagevejledning part of the one document.

    Sent with MeMo ``legalNotification`` true. See :func:`queue_letter` for the rest.

    Raises:
        BadInput: the decision or its klagevejledning is empty, or the letter is invalid.
        NotFound: no such case in this municipality.
    """
    try:
        document = decision_document(
            title=title, decision=decision, klagevejledning=klagevejledning, language=language
        )
    except InvalidLetter as exc:
        raise BadInput(str(exc), code="invalid_letter") from exc
    return await _queue(
        conn,
        svc,
        tenant_id,
        case_id,
        cpr,
        title,
        sender_cvr,
        document,
        "decision",
        author_id,
        language,
    )


async def _queue(
    conn: Connection,
    svc: Services,
    tenant_id: str,
    case_id: str,
    cpr: str,
    title: str,
    sender_cvr: str,
    document: MainFile,
    kind: str,
    author_id: str | None,
    language: str,
) -> QueuedLetter:
    case = (
        await conn.execute(
            select(cases.c.dek, cases.c.number, tenants.c.name)
            .join(tenants, tenants.c.id == cases.c.tenant_id)
            .where(cases.c.id == case_id, cases.c.tenant_id == tenant_id)
        )
    ).first()
    if case is None:
        raise NotFound("No such case", code="case_not_found")
    now = svc.clock.now()
    letter = Letter(
        message_uuid=new_message_uuid(),
        title=title,
        recipient_cpr=cpr,
        sender_cvr=sender_cvr,
        sender_label=case.name,
        created_at=now,
        document=document,
        language=language,
        legal_notification=kind == "decision",
        case=CaseReference(case.number),
    )
    try:
        check_letter(letter)
    except InvalidLetter as exc:
        raise BadInput(str(exc), code="invalid_letter") from exc
    letter_id = new_id()
    dek = svc.dek("cases", case_id, case.dek)

    def sealed(column: str, value: str) -> bytes:
        return svc.seal(dek, "letters", letter_id, column, value)

    await conn.execute(
        letters.insert().values(
            id=letter_id,
            tenant_id=tenant_id,
            case_id=case_id,
            author_id=author_id,
            message_uuid=letter.message_uuid,
            kind=kind,
            state="queued",
            attempts=0,
            next_attempt_at=now,
            sender_cvr=sender_cvr,
            sender_label=case.name[:200],
            language=language,
            media_type=document.media_type,
            cpr_enc=sealed("cpr_enc", cpr),
            title_enc=sealed("title_enc", title),
            filename_enc=sealed("filename_enc", document.filename),
            body_enc=sealed("body_enc", base64.b64encode(document.content).decode("ascii")),
            created_at=now,
        )
    )
    await _journal(
        conn,
        svc,
        tenant_id,
        case_id,
        SealingKey("case", case_id, dek),
        kind="letter_queued",
        direction="internal",
        subject=SUBJECT_QUEUED,
        content=f"{title}\nMeMo-UUID: {letter.message_uuid}",
        actor=f"staff:{author_id}" if author_id else "system",
    )
    svc.wake_relay()
    return QueuedLetter(letter_id, letter.message_uuid)


async def _journal(
    conn: Connection,
    svc: Services,
    tenant_id: str,
    case_id: str,
    key: SealingKey,
    *,
    kind: str,
    direction: str,
    subject: str,
    content: str,
    actor: str = "system",
) -> None:
    await append(
        conn,
        tenant_id=tenant_id,
        case_id=case_id,
        kind=kind,
        direction=direction,
        channel=CHANNEL,
        subject=subject,
        actor=actor,
        at=svc.clock.now(),
        content=content,
        key=key,
    )


# ---------------------------------------------------------------------------- relaying


async def relay_letters(svc: Services, client: DigitalPost, *, limit: int = 20) -> LetterRelayStats:
    """Send the due letters through ``client`` and record each outcome.

    Claims up to ``limit`` due rows (queued and due, or sending with a lease run
    out), sends each with its own MeMo UUID, and marks it sent, due again later,
    or failed, journalising sent and failed letters on their case. Safe to run in
    several workers at once: a row is claimed by one of them (``SKIP LOCKED`` on
    PostgreSQL), and an outcome is recorded only by the claim that sent it.

    Returns:
        How many letters were sent, put back for a later try, and failed.
    """
    stats = LetterRelayStats()
    for letter_id, attempts in await _claim(svc, limit):
        outcome = await _send_one(svc, client, letter_id, attempts)
        setattr(stats, outcome, getattr(stats, outcome) + 1)
    return stats


async def _claim(svc: Services, limit: int) -> list[tuple[str, int]]:
    now = svc.clock.now()
    due = or_(
        and_(letters.c.state == "queued", letters.c.next_attempt_at <= now),
        and_(letters.c.state == "sending", letters.c.lease_until < now),
    )
    pick = (
        select(letters.c.id)
        .where(due)
        .order_by(letters.c.next_attempt_at, letters.c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    async with svc.write() as conn:
        ids = list((await conn.execute(pick)).scalars())
        if not ids:
            return []
        rows = await conn.execute(
            update(letters)
            .where(letters.c.id.in_(ids))
            .values(state="sending", lease_until=now + LEASE, attempts=letters.c.attempts + 1)
            .returning(letters.c.id, letters.c.attempts)
        )
        return [(r.id, int(r.attempts)) for r in rows]


@dataclass(frozen=True, slots=True)
class _Loaded:
    tenant_id: str
    case_id: str
    key: SealingKey
    title: str
    document: MainFile
    memo: MemoMessage | None
    invalid: str | None


async def _load(svc: Services, letter_id: str) -> _Loaded:
    """The claimed row, unsealed, and its MeMo (built the same way on every attempt)."""
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(letters, cases.c.dek.label("case_dek"), cases.c.number)
                .join(cases, cases.c.id == letters.c.case_id)
                .where(letters.c.id == letter_id)
            )
        ).one()
    dek = svc.dek("cases", row.case_id, row.case_dek)

    def unsealed(column: str) -> str:
        return svc.unseal(dek, "letters", letter_id, column, getattr(row, column))

    title = unsealed("title_enc")
    document = MainFile(
        filename=unsealed("filename_enc"),
        media_type=row.media_type,
        content=base64.b64decode(unsealed("body_enc")),
    )
    letter = Letter(
        message_uuid=row.message_uuid,
        title=title,
        recipient_cpr=unsealed("cpr_enc"),
        sender_cvr=row.sender_cvr,
        sender_label=row.sender_label,
        created_at=row.created_at,
        document=document,
        language=row.language,
        legal_notification=row.kind == "decision",
        case=CaseReference(row.number),
    )
    key = SealingKey("case", row.case_id, dek)
    try:
        memo, invalid = build_memo(letter), None
    except InvalidLetter as exc:
        memo, invalid = None, str(exc)
    return _Loaded(row.tenant_id, row.case_id, key, title, document, memo, invalid)


async def _send_one(svc: Services, client: DigitalPost, letter_id: str, attempts: int) -> str:
    loaded = await _load(svc, letter_id)
    if loaded.memo is None:
        failure = DigitalPostError(loaded.invalid or "invalid letter", code="invalid_letter")
        await _mark_failed(svc, letter_id, attempts, loaded, failure)
        return "failed"
    try:
        receipt = await client.send(loaded.memo)
    except DigitalPostError as exc:
        if exc.transient and attempts < MAX_ATTEMPTS:
            await _retry_later(svc, letter_id, attempts, exc)
            return "retried"
        await _mark_failed(svc, letter_id, attempts, loaded, exc)
        return "failed"
    await _mark_sent(svc, letter_id, attempts, loaded, receipt)
    return "sent"


def _ours(letter_id: str, attempts: int) -> Any:
    """The row as our claim left it: another relay may have taken it over since."""
    return and_(
        letters.c.id == letter_id, letters.c.state == "sending", letters.c.attempts == attempts
    )


def _describe(document: MainFile) -> str:
    if document.media_type == "text/plain":
        return document.content.decode("utf-8", "replace")
    digest = hashlib.sha256(document.content).hexdigest()
    return f"PDF {document.filename} ({len(document.content)} bytes, SHA-256 {digest})"


async def _mark_sent(
    svc: Services, letter_id: str, attempts: int, loaded: _Loaded, receipt: PostReceipt
) -> None:
    now = svc.clock.now()
    async with svc.write() as conn:
        done = await conn.execute(
            update(letters)
            .where(_ours(letter_id, attempts))
            .values(
                state="sent", transaction_id=receipt.transaction_id, sent_at=now, lease_until=None
            )
        )
        if done.rowcount != 1:
            return
        await _journal(
            conn,
            svc,
            loaded.tenant_id,
            loaded.case_id,
            loaded.key,
            kind="letter_sent",
            direction="out",
            subject=SUBJECT_SENT,
            content=f"{loaded.title}\n\n{_describe(loaded.document)}\n\n"
            f"MeMo-UUID: {receipt.message_uuid}\nTransaktions-id: {receipt.transaction_id}",
        )
    log.info("letter %s sent by Digital Post (attempt %d)", letter_id, attempts)


async def _retry_later(
    svc: Services, letter_id: str, attempts: int, failure: DigitalPostError
) -> None:
    wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    async with svc.write() as conn:
        await conn.execute(
            update(letters)
            .where(_ours(letter_id, attempts))
            .values(state="queued", next_attempt_at=svc.clock.now() + wait, lease_until=None)
        )
    log.warning("letter %s not sent (%s); trying again in %s", letter_id, failure.code, wait)


async def _mark_failed(
    svc: Services, letter_id: str, attempts: int, loaded: _Loaded, failure: DigitalPostError
) -> None:
    now = svc.clock.now()
    reason = failure.reason
    if failure.transient:
        reason = f"Opgivet efter {attempts} forsøg: {reason}"
    async with svc.write() as conn:
        done = await conn.execute(
            update(letters)
            .where(_ours(letter_id, attempts))
            .values(
                state="failed",
                failure_code=failure.code[:32],
                failure_enc=svc.seal(loaded.key.dek, "letters", letter_id, "failure_enc", reason),
                failed_at=now,
                lease_until=None,
            )
        )
        if done.rowcount != 1:
            return
        await _journal(
            conn,
            svc,
            loaded.tenant_id,
            loaded.case_id,
            loaded.key,
            kind="letter_failed",
            direction="internal",
            subject=SUBJECT_FAILED,
            content=f"{loaded.title}\nÅrsag: {reason}\nMeMo-UUID: "
            f"{loaded.memo.message_uuid if loaded.memo else '-'}",
        )
        await _tell_caseworker(conn, letter_id, loaded, now)
    log.warning("letter %s failed (%s) after %d attempts", letter_id, failure.code, attempts)


async def _tell_caseworker(
    conn: Connection, letter_id: str, loaded: _Loaded, now: datetime
) -> None:
    """A task (opgave) for the letter's author, or else the case's owner: the letter failed."""
    row = (
        await conn.execute(
            select(letters.c.author_id, cases.c.owner_id)
            .join(cases, cases.c.id == letters.c.case_id)
            .where(letters.c.id == letter_id)
        )
    ).one()
    staff_id = row.author_id or row.owner_id
    if staff_id is None:
        log.warning("letter %s failed and its case has no caseworker to tell", letter_id)
        return
    await add_task(
        conn,
        tenant_id=loaded.tenant_id,
        case_id=loaded.case_id,
        staff_id=staff_id,
        kind=TASK_KIND,
        title=SUBJECT_FAILED,
        at=now,
        ref_id=letter_id,
        dedupe_key=f"letter:{letter_id}",
    )


# ---------------------------------------------------------------------------- reading


def _view(svc: Services, row: Any) -> LetterView:
    dek = svc.dek("cases", row.case_id, row.case_dek)
    reason = None
    if row.failure_enc is not None:
        reason = svc.unseal(dek, "letters", row.id, "failure_enc", row.failure_enc)
    return LetterView(
        id=row.id,
        case_id=row.case_id,
        kind=row.kind,
        state=row.state,
        attempts=row.attempts,
        title=svc.unseal(dek, "letters", row.id, "title_enc", row.title_enc),
        message_uuid=row.message_uuid,
        transaction_id=row.transaction_id,
        failure_code=row.failure_code,
        failure_reason=reason,
        author_id=row.author_id,
        created_at=row.created_at,
    )


def _with_case_key() -> Any:
    return select(letters, cases.c.dek.label("case_dek")).join(
        cases, cases.c.id == letters.c.case_id
    )


async def get_letter(svc: Services, tenant_id: str, letter_id: str) -> LetterView:
    """One letter of a municipality.

    Raises:
        NotFound: no such letter in this municipality.
    """
    async with svc.read() as conn:
        row = (
            await conn.execute(
                _with_case_key().where(letters.c.id == letter_id, letters.c.tenant_id == tenant_id)
            )
        ).first()
    if row is None:
        raise NotFound("No such letter", code="letter_not_found")
    return _view(svc, row)


async def failure_notes(
    conn: Connection, svc: Services, tenant_id: str, letter_ids: list[str]
) -> dict[str, dict[str, str | None]]:
    """letter id -> its title and why it failed, for the caseworker's task (page only)."""
    if not letter_ids:
        return {}
    rows = await conn.execute(
        _with_case_key().where(letters.c.id.in_(letter_ids), letters.c.tenant_id == tenant_id)
    )
    views = [_view(svc, r) for r in rows]
    return {v.id: {"title": v.title, "reason": v.failure_reason} for v in views}


async def letters_needing_attention(
    svc: Services, tenant_id: str, *, author_id: str | None = None
) -> list[LetterView]:
    """Failed letters no caseworker has seen yet, oldest first: the inbox's task list.

    Args:
        author_id: only the letters this caseworker sent.
    """
    query = _with_case_key().where(
        letters.c.tenant_id == tenant_id,
        letters.c.state == "failed",
        letters.c.failure_seen.is_(False),
    )
    if author_id is not None:
        query = query.where(letters.c.author_id == author_id)
    async with svc.read() as conn:
        rows = (await conn.execute(query.order_by(letters.c.failed_at, letters.c.id))).all()
    return [_view(svc, row) for row in rows]


async def mark_failure_seen(svc: Services, tenant_id: str, letter_id: str, staff_id: str) -> None:
    """A caseworker has seen that the letter failed: it leaves the list, and the journal says so.

    The letter's open task (opgave) is closed with it, so the two never disagree.

    Raises:
        NotFound: no failed letter by that id in this municipality.
    """
    async with svc.write() as conn:
        if await failure_seen_in(conn, svc, tenant_id, letter_id, staff_id):
            await close_tasks_for(conn, kind=TASK_KIND, ref_id=letter_id, at=svc.clock.now())


async def failure_seen_in(
    conn: Connection, svc: Services, tenant_id: str, letter_id: str, staff_id: str
) -> bool:
    """Mark the failure seen in the caller's transaction and journalise it (once).

    Closing the letter's task (``scheduler.tasks``) calls this too.

    Returns:
        True when it was unseen until now.

    Raises:
        NotFound: no failed letter by that id in this municipality.
    """
    row = (
        await conn.execute(
            _with_case_key().where(
                letters.c.id == letter_id,
                letters.c.tenant_id == tenant_id,
                letters.c.state == "failed",
            )
        )
    ).first()
    if row is None:
        raise NotFound("No such failed letter", code="letter_not_found")
    if row.failure_seen:
        return False
    await conn.execute(
        update(letters)
        .where(letters.c.id == letter_id, letters.c.failure_seen.is_(False))
        .values(failure_seen=True)
    )
    dek = svc.dek("cases", row.case_id, row.case_dek)
    await _journal(
        conn,
        svc,
        tenant_id,
        row.case_id,
        SealingKey("case", row.case_id, dek),
        kind="letter_seen",
        direction="internal",
        subject=SUBJECT_SEEN,
        content=f"MeMo-UUID: {row.message_uuid}",
        actor=f"staff:{staff_id}",
    )
    return True
