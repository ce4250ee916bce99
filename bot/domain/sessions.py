"""Server-side web sessions: a random token in the cookie, its hash in ``web_sessions``.

A session ends after 30 minutes without a request, 12 hours after it began,
or when its holder logs out; an ended session is never revived. A staff login
passes through a short "totp" stage (password given, second factor due) and
gets a fresh session id when it completes, so a token seen before login is
worth nothing after it. A login through OpenID Connect (``views_oidc``) makes a
"full" session at once; a MitID session also names its person.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from bot.base.pagesettings import WebSettings
from bot.base.services import Services
from bot.store.schema.pages import web_login_codes, web_sessions

# last_seen_at is written at most this often, so reading a page is not always a write.
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class WebSession:
    """Who is behind a browser, and how sure we are."""

    id: str
    tenant_id: str
    kind: str  # staff | citizen
    stage: str  # totp | full
    staff_id: str | None
    phone_index: str | None
    assurance: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    # A MitID login is one person (not whoever holds the phone).
    person_id: str | None = None

    @property
    def complete(self) -> bool:
        return self.stage == "full"


def _from_row(row: Any) -> WebSession:
    return WebSession(
        id=row.id,
        tenant_id=row.tenant_id,
        kind=row.kind,
        stage=row.stage,
        staff_id=row.staff_id,
        phone_index=row.phone_index,
        assurance=row.assurance,
        csrf=row.csrf,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        person_id=getattr(row, "person_id", None),
    )


async def create(
    svc: Services,
    *,
    tenant_id: str,
    kind: str,
    stage: str,
    assurance: str,
    staff_id: str | None = None,
    phone_index: str | None = None,
    person_id: str | None = None,
) -> tuple[str, WebSession]:
    """Start a session. Returns the cookie token (shown once) and the session."""
    token = secrets.token_urlsafe(32)
    now = svc.clock.now()
    values = {
        "id": token_hash(token),
        "tenant_id": tenant_id,
        "kind": kind,
        "stage": stage,
        "staff_id": staff_id,
        "phone_index": phone_index,
        "person_id": person_id,
        "assurance": assurance,
        "csrf": secrets.token_urlsafe(32),
        "created_at": now,
        "last_seen_at": now,
        "ended_at": None,
    }
    async with svc.write() as conn:
        await conn.execute(web_sessions.insert().values(**values))
    return token, WebSession(
        **{k: v for k, v in values.items() if k != "ended_at"}  # type: ignore[arg-type]
    )


def _expired(s: WebSession, now: datetime, settings: WebSettings) -> bool:
    if s.stage != "full":
        return now >= s.created_at + settings.pending_login
    return now >= s.last_seen_at + settings.session_idle or (
        now >= s.created_at + settings.session_absolute
    )


async def load(svc: Services, settings: WebSettings, token: str | None) -> WebSession | None:
    """The live session behind a cookie token, touched; None if unknown, ended or timed out."""
    if not token or len(token) > 100:
        return None
    sid = token_hash(token)
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(web_sessions).where(
                    web_sessions.c.id == sid, web_sessions.c.ended_at.is_(None)
                )
            )
        ).first()
    if row is None:
        return None
    session = _from_row(row)
    now = svc.clock.now()
    if _expired(session, now, settings):
        await end(svc, sid)
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        async with svc.write() as conn:
            await conn.execute(
                update(web_sessions)
                .where(web_sessions.c.id == sid, web_sessions.c.ended_at.is_(None))
                .values(last_seen_at=now)
            )
    return session


async def still_live(svc: Services, settings: WebSettings, session_id: str) -> bool:
    """Is this session still valid right now (for long-lived streams)? Does not touch it."""
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(web_sessions).where(
                    web_sessions.c.id == session_id, web_sessions.c.ended_at.is_(None)
                )
            )
        ).first()
    return row is not None and not _expired(_from_row(row), svc.clock.now(), settings)


async def end(svc: Services, session_id: str) -> None:
    """Log out: the session is over on the server, whatever the browser keeps."""
    async with svc.write() as conn:
        await conn.execute(
            update(web_sessions)
            .where(web_sessions.c.id == session_id, web_sessions.c.ended_at.is_(None))
            .values(ended_at=svc.clock.now())
        )


# Rows are kept this long after they stop mattering (for support questions), then deleted.
KEEP = timedelta(days=1)


async def purge(svc: Services, settings: WebSettings) -> int:
    """Delete sessions and one-time codes that can no longer be used. Returns rows deleted."""
    now = svc.clock.now()
    async with svc.write() as conn:
        gone = await conn.execute(
            delete(web_sessions).where(
                or_(
                    web_sessions.c.ended_at < now - KEEP,
                    web_sessions.c.last_seen_at < now - settings.session_idle - KEEP,
                    web_sessions.c.created_at < now - settings.session_absolute - KEEP,
                )
            )
        )
        codes = await conn.execute(
            delete(web_login_codes).where(
                web_login_codes.c.created_at < now - max(settings.code_window, KEEP)
            )
        )
    return int(gone.rowcount or 0) + int(codes.rowcount or 0)
