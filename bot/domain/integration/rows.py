"""Rows as the case system's API sees them: one municipality's row or 404, keyset pages
with opaque cursors, ISO dates, and the case system's own references to our ids."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, Table, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.errors import BadInput, Conflict, NotFound
from bot.base.ids import new_id
from bot.base.services import Services
from bot.store.schema.integration import external_refs

_CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def encode_cursor(last_id: str) -> str:
    raw = json.dumps({"v": 1, "after": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        after = data["after"]
        if data.get("v") != 1 or str(uuid.UUID(after)) != after:
            raise ValueError(after)
    except (ValueError, KeyError, TypeError, UnicodeEncodeError, binascii.Error):
        raise BadInput("The cursor is not one we gave out", code="bad_cursor") from None
    return str(after)


async def page(
    conn: AsyncConnection, q: Select[Any], id_col: Any, limit: int, cursor: str | None
) -> tuple[list[Row[Any]], str | None]:
    """One page of ``q`` in id order (keyset pagination: stable under inserts)."""
    if cursor:
        q = q.where(id_col > decode_cursor(cursor))
    rows = list((await conn.execute(q.order_by(id_col).limit(limit + 1))).all())
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def one(conn: AsyncConnection, table: Table, tenant_id: str, row_id: str, what: str) -> Any:
    """The row ``row_id`` of ``table`` in this municipality, or 404 ``<what>_not_found``."""
    row = (
        await conn.execute(
            select(table).where(table.c.id == row_id, table.c.tenant_id == tenant_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"No such {what.replace('_', ' ')}", code=f"{what}_not_found")
    return row


async def refs(conn: AsyncConnection, kind: str, row_ids: Iterable[str]) -> dict[str, str]:
    ids = list(row_ids)
    if not ids:
        return {}
    rows = await conn.execute(
        select(external_refs.c.row_id, external_refs.c.ref).where(
            external_refs.c.kind == kind, external_refs.c.row_id.in_(ids)
        )
    )
    return {r.row_id: r.ref for r in rows}


async def resolve_ref(conn: AsyncConnection, tenant_id: str, kind: str, ref: str) -> str | None:
    """Our id for the case system's reference ``ref`` (kind: staff | person)."""
    return (
        await conn.execute(
            select(external_refs.c.row_id).where(
                external_refs.c.tenant_id == tenant_id,
                external_refs.c.kind == kind,
                external_refs.c.ref == ref,
            )
        )
    ).scalar_one_or_none()


async def set_ref(
    conn: AsyncConnection, svc: Services, tenant_id: str, kind: str, ref: str, row_id: str
) -> None:
    if _CPR_LIKE.search(ref):
        raise BadInput("A reference must not be a CPR number", code="ref_looks_like_cpr")
    if await resolve_ref(conn, tenant_id, kind, ref) is not None:
        raise Conflict(f"The {kind} reference is already in use", code="ref_taken")
    await conn.execute(
        external_refs.insert().values(
            id=new_id(),
            tenant_id=tenant_id,
            kind=kind,
            ref=ref,
            row_id=row_id,
            created_at=svc.clock.now(),
        )
    )
