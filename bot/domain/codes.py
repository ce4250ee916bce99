"""One-time codes by SMS: how a citizen logs in to the secure inbox.

Six digits, valid 10 minutes, used once, five tries; a few per number and per
client address an hour. Only a keyed HMAC of the code is stored. A number we
do not know is answered exactly like one we know (a row is written, nothing is
sent), so the form cannot be used to find out who is a citizen of ours.

The code SMS goes out like every other SMS, through ``bot.domain.outbound.queue_sms``:
filed on the person's conversation outside any case (sealed under the
person's key), so it never lands in a case's journal. Logging in by SMS code
gives the lower assurance level ``sms-code``: see ``bot.domain.citizen``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.base.crypto import SealingKey
from bot.base.ids import new_id
from bot.base.pagesettings import WebSettings
from bot.base.services import Services
from bot.domain import texts
from bot.domain.inbound import normalise_number
from bot.domain.outbound import queue_sms
from bot.store.schema.core import conversations, persons
from bot.store.schema.pages import web_login_codes

# The SMS text, in the person's language: (language, code, minutes) -> text.
CodeText = Callable[[str, str, int], str]


def login_code_text(language: str, code: str, minutes: int) -> str:
    """The code SMS from the one catalogue of SMS texts (``bot.domain.texts``)."""
    return texts.text(language, "login_code", code=code, minutes=minutes)


class RateLimited(Exception):
    """Too many codes asked for this number (``per="number"``) or from this address."""

    def __init__(self, per: str) -> None:
        super().__init__(per)
        self.per = per


class CodeRefused(Exception):
    """Why a code was not accepted: expired | used | attempts | wrong (with tries left)."""

    def __init__(self, reason: str, remaining: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.remaining = remaining


@dataclass(frozen=True, slots=True)
class CodeLogin:
    """Who proved they hold the phone."""

    tenant_id: str
    phone_index: str


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _code_hash(svc: Services, row_id: str, code: str) -> str:
    # Keyed (the blind-index key) and bound to the row: a stolen table does not
    # give the codes away by trying all million.
    return svc.blind_index(f"web-login-code:{row_id}:{code}")


async def _count_since(
    conn: AsyncConnection, column: ColumnElement[str], value: str, since: datetime
) -> int:
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(web_login_codes)
                .where(column == value, web_login_codes.c.created_at >= since)
            )
        ).scalar_one()
    )


async def _login_conversation(conn: AsyncConnection, svc: Services, person: object) -> str:
    """The person's conversation outside any case (the unassigned one), made if missing."""
    tenant_id: str = person.tenant_id  # type: ignore[attr-defined]
    person_id: str = person.id  # type: ignore[attr-defined]
    conv_id = (
        await conn.execute(
            select(conversations.c.id).where(
                conversations.c.tenant_id == tenant_id,
                conversations.c.person_id == person_id,
                conversations.c.case_id.is_(None),
            )
        )
    ).scalar_one_or_none()
    if conv_id is not None:
        return str(conv_id)
    conv_id = new_id()
    now = svc.clock.now()
    await conn.execute(
        conversations.insert().values(
            id=conv_id,
            tenant_id=tenant_id,
            case_id=None,
            person_id=person_id,
            last_activity_at=now,
            created_at=now,
        )
    )
    return conv_id


async def request_code(
    svc: Services,
    settings: WebSettings,
    *,
    tenant_id: str,
    phone: str,
    client_ip: str,
    text: CodeText = login_code_text,
) -> str:
    """Send a one-time code to ``phone`` if it belongs to someone in this municipality.

    Returns:
        The login-flow token for the browser's cookie (whether or not a code was sent).

    Raises:
        bot.base.errors.BadInput: the number is not a valid phone number.
        RateLimited: too many codes for this number or from this address lately.
    """
    e164 = normalise_number(phone, field="phone")
    phone_index = svc.blind_index(e164)
    ip_index = svc.blind_index(f"web-login-ip:{client_ip}")
    now = svc.clock.now()
    since = now - settings.code_window
    flow = secrets.token_urlsafe(32)
    row_id = new_id()
    minutes = int(settings.code_valid.total_seconds() // 60)
    async with svc.write() as conn:
        if await _count_since(conn, web_login_codes.c.ip_index, ip_index, since) >= (
            settings.codes_per_ip
        ):
            raise RateLimited("ip")
        if await _count_since(conn, web_login_codes.c.phone_index, phone_index, since) >= (
            settings.codes_per_number
        ):
            raise RateLimited("number")
        person = (
            await conn.execute(
                select(persons)
                .where(persons.c.tenant_id == tenant_id, persons.c.phone_index == phone_index)
                .order_by(persons.c.created_at, persons.c.id)
                .limit(1)
            )
        ).first()
        code = f"{secrets.randbelow(10**6):06d}"
        await conn.execute(
            web_login_codes.insert().values(
                id=row_id,
                tenant_id=tenant_id,
                phone_index=phone_index,
                ip_index=ip_index,
                flow_hash=_sha(flow),
                code_hash=_code_hash(svc, row_id, code) if person is not None else None,
                attempts=0,
                created_at=now,
                expires_at=now + settings.code_valid,
            )
        )
        if person is not None:
            conv_id = await _login_conversation(conn, svc, person)
            await queue_sms(
                conn,
                tenant_id=tenant_id,
                conversation_id=conv_id,
                case_id=None,
                person_id=person.id,
                kind="login_code",
                body=text(person.language, code, minutes),
                key=SealingKey("person", person.id, svc.dek("persons", person.id, person.dek)),
                at=now,
                subject="Engangskode til den sikre indbakke sendt",
                language=person.language,
            )
    if person is not None:
        svc.wake_relay()
    return flow


async def verify_code(svc: Services, settings: WebSettings, flow: str, code: str) -> CodeLogin:
    """Accept the code of this login flow once.

    Raises:
        CodeRefused: expired, already used, too many tries, or wrong (tries left).
    """
    now = svc.clock.now()
    code = code.strip().replace(" ", "")
    refusal: CodeRefused | None = None
    async with svc.write() as conn:
        # The try is counted before the code is compared, in one statement that
        # waits for any other try on the same flow: parallel guesses cannot
        # pass the limit between a read and a write.
        row = (
            await conn.execute(
                update(web_login_codes)
                .where(
                    web_login_codes.c.flow_hash == _sha(flow),
                    web_login_codes.c.used_at.is_(None),
                    web_login_codes.c.expires_at > now,
                    web_login_codes.c.attempts < settings.code_attempts,
                )
                .values(attempts=web_login_codes.c.attempts + 1)
                .returning(*web_login_codes.c)
            )
        ).first()
        if row is None:
            raise await _why_refused(conn, flow, now, settings)
        good = (
            row.code_hash is not None
            and len(code) == 6
            and code.isascii()
            and code.isdigit()
            and hmac.compare_digest(row.code_hash, _code_hash(svc, row.id, code))
        )
        if good:
            await conn.execute(
                update(web_login_codes).where(web_login_codes.c.id == row.id).values(used_at=now)
            )
        else:
            # Committed before we refuse: a wrong try always counts.
            remaining = settings.code_attempts - row.attempts
            refusal = CodeRefused("wrong" if remaining > 0 else "attempts", remaining)
    if refusal is not None:
        raise refusal
    return CodeLogin(tenant_id=row.tenant_id, phone_index=row.phone_index)


async def _why_refused(
    conn: AsyncConnection, flow: str, now: datetime, settings: WebSettings
) -> CodeRefused:
    """Why a flow's code may not be tried now: unknown or expired, used, or out of tries."""
    row = (
        await conn.execute(select(web_login_codes).where(web_login_codes.c.flow_hash == _sha(flow)))
    ).first()
    if row is None:
        return CodeRefused("expired")
    if row.used_at is not None:
        return CodeRefused("used")
    if now >= row.expires_at:
        return CodeRefused("expired")
    return CodeRefused("attempts")
