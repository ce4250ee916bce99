"""Sensitive content never travels by SMS.

A message marked sensitive, or whose text holds a CPR number or one of the
municipality's sensitive words, goes out as a short notice with a link; the
content waits in the secure inbox. The link's token is random, stored only as
a hash, single-use for opening the login, and expires.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.ids import new_id
from bot.domain.texts import text
from bot.store.schema.core import inbox_links, messages, tenant_settings, tenants
from channels.sensitivity import contains_sensitive, find_cpr
from channels.smstext import DEFAULT_MAX_SEGMENTS

LINK_LIFETIME = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class TenantChannelSettings:
    max_segments: int = DEFAULT_MAX_SEGMENTS
    sensitive_terms: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()


async def tenant_settings_for(conn: AsyncConnection, tenant_id: str) -> TenantChannelSettings:
    row = (
        await conn.execute(select(tenant_settings).where(tenant_settings.c.tenant_id == tenant_id))
    ).first()
    if row is None:
        return TenantChannelSettings()
    gateways = tuple(g.strip() for g in (row.gateways or "").split(",") if g.strip())
    return TenantChannelSettings(row.max_segments, tuple(json.loads(row.sensitive_terms)), gateways)


def needs_notice(body: str, *, sensitive: bool, terms: Iterable[str]) -> bool:
    """True when this text may not travel by SMS."""
    return sensitive or bool(find_cpr(body)) or contains_sensitive(body, terms)


def notice_body(tenant_name: str, url: str, language: str) -> str:
    """The notice SMS (or e-mail): who wrote, where to read it, and how long the link works."""
    return text(language, "notice", tenant=tenant_name, url=url, days=LINK_LIFETIME.days)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_link(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    person_id: str,
    message_id: str | None,
    base_url: str,
    at: datetime,
) -> str:
    """A fresh link to the secure inbox (…/b/<token>); only the token's hash is stored."""
    token = secrets.token_urlsafe(24)
    await conn.execute(
        inbox_links.insert().values(
            id=new_id(),
            tenant_id=tenant_id,
            person_id=person_id,
            message_id=message_id,
            token_hash=hash_token(token),
            created_at=at,
            expires_at=at + LINK_LIFETIME,
        )
    )
    return f"{base_url}/b/{token}"


class LinkError(Exception):
    """The link is unknown, used or expired. ``reason`` says which, for a plain message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def use_link(conn: AsyncConnection, token: str, at: datetime) -> Any:
    """Spend a link: returns its row (tenant, person, message) or raises LinkError."""
    row = (
        await conn.execute(select(inbox_links).where(inbox_links.c.token_hash == hash_token(token)))
    ).first()
    if row is None:
        raise LinkError("unknown")
    if row.used_at is not None:
        raise LinkError("used")
    if row.expires_at <= at:
        raise LinkError("expired")
    spent = await conn.execute(
        update(inbox_links)
        .where(inbox_links.c.id == row.id, inbox_links.c.used_at.is_(None))
        .values(used_at=at)
    )
    if spent.rowcount != 1:
        raise LinkError("used")
    return row


@dataclass(frozen=True, slots=True)
class NoticeTarget:
    """Where a spent notice link leads: the municipality, and the thread if it names one."""

    tenant_slug: str
    conversation_id: str | None


async def follow_link(conn: AsyncConnection, token: str, at: datetime) -> NoticeTarget:
    """Spend a notice link (see :func:`use_link`) and say where it leads."""
    if len(token) > 100:
        raise LinkError("unknown")
    link = await use_link(conn, token, at)
    conv_id = None
    if link.message_id is not None:
        conv_id = (
            await conn.execute(
                select(messages.c.conversation_id).where(
                    messages.c.id == link.message_id,
                    messages.c.tenant_id == link.tenant_id,
                )
            )
        ).scalar_one_or_none()
    slug = (
        await conn.execute(select(tenants.c.slug).where(tenants.c.id == link.tenant_id))
    ).scalar_one()
    return NoticeTarget(slug, conv_id)
