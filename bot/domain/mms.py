"""MMS: a photo or a PDF a family sends by MMS, kept like a file attached in the secure inbox.

The path of one MMS (see docs/architecture.md, "The path of one SMS"):

1. The webhook files the message exactly as an SMS (bot.domain.inbound). An MMS
   without words is filed as "[billede]" (or "[vedhæftet fil]") and triaged on that.
2. Before the webhook answers, a second short transaction writes one ``mms_media``
   row per announced item (idempotent: a retried webhook adds only what is
   missing). An item that can never be fetched (no URL, or a URL that is not the
   gateway's own) is refused there and then.
3. The ``mms_media`` ticker job (poked by the webhook, and every half minute)
   fetches each due item with the gateway's credentials, without holding a
   database connection, then checks it by its first bytes and size with the
   same rule as a web upload (bot.domain.attachments.check), seals it and
   journalises it with its SHA-256 on the message's thread. A transient failure
   is retried with backoff, up to ``MAX_ATTEMPTS`` fetches.
4. When the last item of a message is settled and any was not kept, the family
   gets one SMS through the outbox saying so, with the link to the secure inbox;
   the journal names each item not kept and why.

Nothing is lost between the answer and the fetch: the rows are the to-do list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey
from bot.base.ids import new_id
from bot.base.services import Services
from bot.base.staff import StaffUser
from bot.domain import attachments
from bot.domain.conversations import thread_for
from bot.domain.inbound import receive_sms
from bot.domain.inbound_filing import InboundResult
from bot.domain.outbound import OutboundSms, outbound_sms
from bot.domain.texts import text
from bot.store.schema.core import cases, messages, persons
from bot.store.schema.mms import mms_media
from channels.base import InboundMedia, InboundSms, MediaUnavailable
from journal.journal import append, append_many

log = logging.getLogger(__name__)

JOB = "mms_media"
"""The ticker job that fetches due media."""

MAX_ATTEMPTS = 5
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
# A claimed fetch that never reports back (the process died) is tried again after this.
LEASE = timedelta(minutes=5)
IMAGE_TEXT = "[billede]"
FILE_TEXT = "[vedhæftet fil]"

# Why an item was not kept, in the journal's words.
REASONS = {
    "missing": "meddelt uden adresse",
    "bad_url": "adressen er ikke udbyderens",
    "no_gateway": "udbyderen er ikke sat op her",
    "file_type": "filtypen modtages ikke (kun JPEG, PNG, HEIC og PDF)",
    "file_too_large": "filen er for stor",
    "too_large": "filen er for stor",
    "not_found": "filen fandtes ikke hos udbyderen",
    "refused": "udbyderen afviste at udlevere filen",
    "unreachable": "udbyderen kunne ikke nås",
    "redirects": "udbyderen viderestillede for mange gange",
}
_FINAL = frozenset({"missing", "bad_url", "no_gateway", "file_type", "file_too_large", "too_large"})


@runtime_checkable
class MediaSource(Protocol):
    """A gateway that can fetch the media of the MMS it delivers (Twilio does)."""

    def owns_media_url(self, url: str) -> bool: ...

    async def fetch_media(self, url: str, *, limit: int) -> bytes: ...


def _source(svc: Services, provider: str) -> MediaSource | None:
    gateway = svc.gateways.get(provider)
    return gateway if isinstance(gateway, MediaSource) else None


def with_text(sms: InboundSms) -> InboundSms:
    """An MMS without words is still a message: a placeholder says what came with it."""
    if not sms.media or sms.body.strip():
        return sms
    images = all((m.content_type or "").lower().startswith("image/") for m in sms.media)
    return replace(sms, body=IMAGE_TEXT if images else FILE_TEXT)


async def receive_message(svc: Services, sms: InboundSms, *, provider: str) -> InboundResult:
    """File an SMS or MMS (bot.domain.inbound.receive_sms), then queue any media. Commits.

    Raises:
        Whatever receive_sms raises; the media are queued only once the message is stored.
    """
    sms = with_text(sms)
    result = await receive_sms(svc, sms, provider=provider)
    if sms.media:
        if result.message_id is None:
            log.info("MMS %s has no citizen message (%s): media ignored", sms.provider_id, result)
        else:
            await record_media(svc, result.message_id, sms, provider=provider)
    return result


def _media_row(
    message: Any, item: InboundMedia, source: MediaSource | None, provider: str, at: datetime
) -> dict[str, Any]:
    url = item.url if item.url and len(item.url) <= 2048 else None
    if url is None:
        reason: str | None = "missing" if not item.url else "bad_url"
    elif source is None:
        reason = "no_gateway"
    else:
        reason = None if source.owns_media_url(url) else "bad_url"
    return {
        "id": new_id(),
        "tenant_id": message.tenant_id,
        "message_id": message.id,
        "position": item.position,
        "provider": provider,
        "url": url,
        "declared_type": (item.content_type or "")[:128] or None,
        "state": "pending" if reason is None else "refused",
        "reason": reason,
        "attempts": 0,
        "next_attempt_at": at if reason is None else None,
        "created_at": at,
        "done_at": None if reason is None else at,
    }


async def record_media(svc: Services, message_id: str, sms: InboundSms, *, provider: str) -> int:
    """Queue an MMS's media to be fetched, in its own transaction (idempotent).

    Returns:
        How many items wait to be fetched.
    """
    source = _source(svc, provider)
    now = svc.clock.now()
    told = False
    async with svc.write() as conn:
        message = await _message(conn, message_id)
        have = set(
            (
                await conn.execute(
                    select(mms_media.c.position).where(mms_media.c.message_id == message_id)
                )
            ).scalars()
        )
        rows = [
            _media_row(message, item, source, provider, now)
            for item in sms.media
            if item.position not in have
        ]
        if rows:
            await conn.execute(mms_media.insert(), rows)
            key = _key(svc, message)
            for row in rows:
                if row["state"] != "pending":
                    await _journal_not_kept(conn, message, key, row, now)
            told = await _settle(conn, svc, message, key, now)
    if told:
        svc.wake_relay()
    pending = sum(1 for row in rows if row["state"] == "pending")
    log.info("MMS %s: %d media queued, %d refused", message_id, pending, len(rows) - pending)
    return pending


async def fetch_due(svc: Services, *, batch: int = 20) -> int:
    """Fetch the media whose time has come (the ticker job ``mms_media``).

    Returns:
        How many fetches were tried.
    """
    now = svc.clock.now()
    async with svc.read() as conn:
        due = (
            await conn.execute(
                select(mms_media)
                .where(mms_media.c.state == "pending", mms_media.c.next_attempt_at <= now)
                .order_by(mms_media.c.next_attempt_at, mms_media.c.id)
                .limit(batch)
            )
        ).all()
    tried = 0
    for row in due:
        if await _claim(svc, row, now):
            await _fetch_one(svc, row)
            tried += 1
    return tried


async def _claim(svc: Services, row: Any, now: datetime) -> bool:
    """Count the attempt and lease the row, unless another worker got there first."""
    async with svc.write() as conn:
        claimed = await conn.execute(
            update(mms_media)
            .where(
                mms_media.c.id == row.id,
                mms_media.c.state == "pending",
                mms_media.c.attempts == row.attempts,
            )
            .values(attempts=row.attempts + 1, next_attempt_at=now + LEASE)
        )
    return claimed.rowcount == 1


async def _fetch_one(svc: Services, row: Any) -> None:
    """One fetch (no database connection held meanwhile), then keep, retry or give up."""
    source = _source(svc, row.provider)
    limit = attachments.max_bytes(svc.config.extra)
    try:
        if source is None:
            raise MediaUnavailable("no_gateway", transient=False)
        content = await source.fetch_media(row.url, limit=limit)
        upload = attachments.check(f"mms-{row.position + 1}", content, limit)
    except MediaUnavailable as exc:
        attempts = row.attempts + 1
        if exc.transient and attempts < MAX_ATTEMPTS:
            await _retry_later(svc, row, attempts, exc.reason)
        else:
            await _give_up(svc, row, exc.reason)
        return
    except attachments.UploadRefused as exc:
        await _give_up(svc, row, exc.code)
        return
    await _keep(svc, row, upload)


async def _retry_later(svc: Services, row: Any, attempts: int, reason: str) -> None:
    wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    log.info("MMS media %s: %s, try %d again in %s", row.id, reason, attempts + 1, wait)
    async with svc.write() as conn:
        await conn.execute(
            update(mms_media)
            .where(mms_media.c.id == row.id, mms_media.c.state == "pending")
            .values(next_attempt_at=svc.clock.now() + wait, reason=reason)
        )


async def _keep(svc: Services, row: Any, upload: attachments.Upload) -> None:
    """Seal the file on the message's thread, journalised with its SHA-256."""
    now = svc.clock.now()
    async with svc.write() as conn:
        message = await _message(conn, row.message_id)
        if not await _still_pending(conn, row.id):
            return
        key = _key(svc, message)
        (aid,) = await attachments.store(
            conn,
            tenant_id=message.tenant_id,
            key=key,
            conversation_id=message.conversation_id,
            case_id=message.case_id,
            message_id=message.id,
            uploads=[upload],
            at=now,
            channel="sms",
        )
        await conn.execute(
            update(mms_media)
            .where(mms_media.c.id == row.id)
            .values(state="kept", reason=None, attachment_id=aid, done_at=now)
        )
        told = await _settle(conn, svc, message, key, now)
    log.info("MMS media %s kept as attachment %s (%s)", row.id, aid, upload.media_type)
    if told:
        svc.wake_relay()


async def _give_up(svc: Services, row: Any, reason: str) -> None:
    """The item cannot be kept: say so in the journal, and to the family once all are settled."""
    now = svc.clock.now()
    state = "refused" if reason in _FINAL else "failed"
    async with svc.write() as conn:
        message = await _message(conn, row.message_id)
        if not await _still_pending(conn, row.id):
            return
        await conn.execute(
            update(mms_media)
            .where(mms_media.c.id == row.id)
            .values(state=state, reason=reason, done_at=now)
        )
        key = _key(svc, message)
        await _journal_not_kept(conn, message, key, {**row._asdict(), "reason": reason}, now)
        told = await _settle(conn, svc, message, key, now)
    log.info("MMS media %s not kept: %s", row.id, reason)
    if told:
        svc.wake_relay()


async def _still_pending(conn: AsyncConnection, media_id: str) -> bool:
    state = (
        await conn.execute(select(mms_media.c.state).where(mms_media.c.id == media_id))
    ).scalar_one()
    return bool(state == "pending")


async def _message(conn: AsyncConnection, message_id: str) -> Any:
    """The message the media belong to, where it is filed now, locked for this transaction.

    Locked so that a caseworker filing the message on a case at the same moment
    (which moves its attachments) waits for the file to be stored, or the other way round.
    """
    return (
        await conn.execute(
            select(
                messages.c.id,
                messages.c.tenant_id,
                messages.c.conversation_id,
                messages.c.case_id,
                messages.c.person_id,
                messages.c.key_scope,
                persons.c.dek.label("person_dek"),
                persons.c.language,
                cases.c.dek.label("case_dek"),
            )
            .join(persons, persons.c.id == messages.c.person_id)
            .outerjoin(cases, cases.c.id == messages.c.case_id)
            .where(messages.c.id == message_id)
            .with_for_update(of=messages)
        )
    ).one()


def _key(svc: Services, message: Any) -> SealingKey:
    """The data key the message is sealed under: its case's, or its person's."""
    if message.key_scope == "case":
        return SealingKey(
            "case", message.case_id, svc.dek("cases", message.case_id, message.case_dek)
        )
    return SealingKey(
        "person", message.person_id, svc.dek("persons", message.person_id, message.person_dek)
    )


async def _journal_not_kept(
    conn: AsyncConnection, message: Any, key: SealingKey, row: dict[str, Any], at: datetime
) -> None:
    reason = str(row["reason"])
    declared = row.get("declared_type") or "ukendt"
    await append(
        conn,
        tenant_id=message.tenant_id,
        case_id=message.case_id,
        kind="attachment_refused",
        direction="in",
        channel="sms",
        subject=f"Fil fra borger på MMS blev ikke gemt ({REASONS.get(reason, reason)})",
        actor="system",
        at=at,
        content=(
            f"Fil nr. {int(row['position']) + 1} i MMS'en\nOplyst type: {declared}\n"
            f"Årsag: {reason}\nBorgeren er bedt om at bruge den sikre indbakke."
        ),
        key=key,
        message_id=message.id,
    )


async def _settle(
    conn: AsyncConnection, svc: Services, message: Any, key: SealingKey, at: datetime
) -> bool:
    """Once no item of the message waits: tell the family if any was not kept (True if told)."""
    states = list(
        (
            await conn.execute(
                select(mms_media.c.state).where(mms_media.c.message_id == message.id)
            )
        ).scalars()
    )
    if "pending" in states or not any(s in ("refused", "failed") for s in states):
        return False
    notice = outbound_sms(
        tenant_id=message.tenant_id,
        conversation_id=message.conversation_id,
        case_id=message.case_id,
        person_id=message.person_id,
        kind="receipt",
        body=text(message.language, "mms_not_kept", url=f"{svc.config.public_base_url}/borger/"),
        key=key,
        at=at,
        subject="Kvittering: en fil fra borgerens MMS kunne ikke gemmes",
    )
    await append_many(conn, [notice.entry], rows_first=OutboundSms.rows([notice]))
    return True


@dataclass(frozen=True, slots=True)
class MediaNote:
    """What the thread page says about an MMS file that is not (yet) on the message."""

    message_id: str
    position: int
    state: str  # pending | refused | failed
    reason: str | None

    @property
    def text(self) -> str:
        n = self.position + 1
        if self.state == "pending":
            return f"Fil nr. {n} fra MMS'en hentes stadig hos udbyderen."
        why = REASONS.get(self.reason or "", self.reason or "ukendt årsag")
        return (
            f"Fil nr. {n} fra MMS'en kunne ikke gemmes ({why}). "
            "Borgeren har fået besked om at bruge den sikre indbakke."
        )


async def notes_for_staff(
    svc: Services, user: StaffUser, conv_id: str
) -> dict[str, list[MediaNote]]:
    """MMS files on a thread this user may see that are not kept, by message id (404 otherwise)."""
    async with svc.read() as conn:
        conv = await thread_for(conn, user, conv_id)
        rows = await conn.execute(
            select(
                mms_media.c.message_id, mms_media.c.position, mms_media.c.state, mms_media.c.reason
            )
            .join(messages, messages.c.id == mms_media.c.message_id)
            .where(
                mms_media.c.tenant_id == user.tenant_id,
                messages.c.conversation_id == conv.id,
                mms_media.c.state != "kept",
            )
            .order_by(mms_media.c.message_id, mms_media.c.position)
        )
        result: dict[str, list[MediaNote]] = {}
        for r in rows:
            result.setdefault(r.message_id, []).append(
                MediaNote(r.message_id, r.position, r.state, r.reason)
            )
    return result
