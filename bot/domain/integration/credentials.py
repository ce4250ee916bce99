"""Integration keys: one per connected system, scoped to a tenant and to capabilities.

A key looks like ``tvk_<random>`` and is shown once; only its SHA-256 is
stored (the key has 256 random bits, so a fast hash is enough). A key is
presented as ``Authorization: Bearer tvk_…``, may expire, and can be revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import BadInput, Forbidden, Unauthorized
from bot.base.ids import new_id
from bot.base.services import Services
from bot.store.schema.integration import integration_keys

PREFIX = "tvk_"

# Capabilities. A ":write" scope also grants the matching ":read".
SCOPES = (
    "directory:read",
    "directory:write",
    "cases:read",
    "cases:write",
    "messages:send",
    "events:subscribe",
)


@dataclass(frozen=True, slots=True)
class Integration:
    """The connected system behind a request: its key, tenant and capabilities."""

    key_id: str
    tenant_id: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        if scope in self.scopes:
            return True
        area, _, action = scope.partition(":")
        return action == "read" and f"{area}:write" in self.scopes


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise BadInput(f"Unknown scope: {unknown[0]}", code="unknown_scope")
    if not wanted:
        raise BadInput("A key needs at least one scope", code="unknown_scope")
    return wanted


async def issue_key(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    label: str,
    scopes: Iterable[str],
    at: datetime,
    expires_at: datetime | None = None,
) -> tuple[str, str]:
    """Create an integration key. Returns ``(key_id, key)``; the key is shown only now."""
    wanted = check_scopes(scopes)
    key = PREFIX + secrets.token_urlsafe(32)
    key_id = new_id()
    await conn.execute(
        integration_keys.insert().values(
            id=key_id,
            tenant_id=tenant_id,
            label=label[:100],
            prefix=key[:12],
            key_hash=hash_key(key),
            scopes=" ".join(wanted),
            created_at=at,
            expires_at=expires_at,
        )
    )
    return key_id, key


async def revoke_key(conn: AsyncConnection, *, key_id: str, at: datetime) -> bool:
    """Revoke a key at once. Returns False when there is no such (unrevoked) key."""
    done = await conn.execute(
        update(integration_keys)
        .where(integration_keys.c.id == key_id, integration_keys.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return done.rowcount == 1


async def list_keys(conn: AsyncConnection, tenant_id: str | None = None) -> list[dict[str, Any]]:
    """Every key (never the key itself): id, tenant, label, prefix, scopes, dates."""
    q = select(integration_keys).order_by(integration_keys.c.created_at, integration_keys.c.id)
    if tenant_id is not None:
        q = q.where(integration_keys.c.tenant_id == tenant_id)
    return [
        {
            "id": r.id,
            "tenant_id": r.tenant_id,
            "label": r.label,
            "prefix": r.prefix,
            "scopes": r.scopes.split(),
            "created_at": r.created_at,
            "expires_at": r.expires_at,
            "revoked_at": r.revoked_at,
        }
        for r in (await conn.execute(q)).all()
    ]


async def authenticate(svc: Services, token: str | None) -> Integration:
    """The integration behind a bearer key, or 401 with a precise code."""
    if not token:
        raise Unauthorized("An integration key is required (Authorization: Bearer tvk_…)")
    if not token.startswith(PREFIX) or len(token) > 200:
        raise Unauthorized("The key is not valid", code="invalid_key")
    async with svc.read() as conn:
        row = (
            await conn.execute(
                select(integration_keys).where(integration_keys.c.key_hash == hash_key(token))
            )
        ).first()
    if row is None:
        raise Unauthorized("The key is not valid", code="invalid_key")
    if row.revoked_at is not None:
        raise Unauthorized("The key has been revoked", code="key_revoked")
    if row.expires_at is not None and row.expires_at <= svc.clock.now():
        raise Unauthorized("The key has expired", code="key_expired")
    return Integration(row.id, row.tenant_id, frozenset(row.scopes.split()))


def require(integration: Integration, scope: str) -> None:
    if not integration.allows(scope):
        raise Forbidden(f"The key lacks the scope {scope}", code="insufficient_scope")
