"""Journalnotat: every exchange is filed into the case's journal, hash-chained.

Each case has its own chain (``case:<id>``); messages not yet tied to a case
are filed in their municipality's unassigned chain (``unassigned:<tenant>``).
An entry's hash covers a canonical serialisation of the entry (content as
ciphertext) and the previous entry's hash, so any change, removal or
reordering is detectable.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.crypto import seal
from bot.db.schema import journal_entries, journal_heads
from bot.ids import new_id
from journal.schema import journal_export_intake

GENESIS = "0" * 64

_ENSURE_HEAD = text(
    "INSERT INTO journal_heads (chain, tenant_id, seq, hash) "
    "VALUES (:chain, :tenant_id, :seq, :hash) ON CONFLICT DO NOTHING"
)


def case_chain(case_id: str) -> str:
    return f"case:{case_id}"


def unassigned_chain(tenant_id: str) -> str:
    return f"unassigned:{tenant_id}"


@dataclass(frozen=True, slots=True)
class SealingKey:
    """The data key that seals an entry's content, and whose key it is."""

    scope: str  # "case" | "person"
    owner_id: str
    dek: bytes


def entry_hash(row: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the previous hash and a canonical serialisation of the entry."""
    canonical = {
        "id": row["id"],
        "tenant_id": row["tenant_id"],
        "chain": row["chain"],
        "seq": row["seq"],
        "case_id": row["case_id"],
        "kind": row["kind"],
        "direction": row["direction"],
        "channel": row["channel"],
        "subject": row["subject"],
        "key_scope": row["key_scope"],
        "key_owner_id": row["key_owner_id"],
        "content_enc": base64.b64encode(row["content_enc"]).decode()
        if row["content_enc"]
        else None,
        "message_id": row["message_id"],
        "actor": row["actor"],
        "created_at": row["created_at"].isoformat(),
    }
    data = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode() + b"\n" + data.encode()).hexdigest()


async def append(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    case_id: str | None,
    kind: str,
    direction: str,
    channel: str,
    subject: str,
    actor: str,
    at: datetime,
    content: str | None = None,
    key: SealingKey | None = None,
    message_id: str | None = None,
) -> str:
    """File one entry at the head of its chain, inside the caller's transaction.

    The chain head row is locked (``FOR UPDATE`` on PostgreSQL; SQLite has one
    writer) so concurrent appends to one case serialise instead of forking.
    An entry filed on a case is also queued for export to the case system
    (ESDH) in the same transaction, so the exporters can never miss it.
    """
    # The hash covers created_at's ISO form; the database gives it back in UTC.
    at = at.astimezone(UTC)
    chain = case_chain(case_id) if case_id else unassigned_chain(tenant_id)
    dialect = conn.dialect.name
    # Plain SQL that both backends speak: the dialect insert constructs carry no cache key
    # and would be compiled again on every append.
    await conn.execute(
        _ENSURE_HEAD, {"chain": chain, "tenant_id": tenant_id, "seq": 0, "hash": GENESIS}
    )
    head_q = select(journal_heads.c.seq, journal_heads.c.hash).where(journal_heads.c.chain == chain)
    if dialect == "postgresql":
        head_q = head_q.with_for_update()
    head = (await conn.execute(head_q)).one()
    entry_id = new_id()
    content_enc = None
    if content is not None:
        if key is None:
            raise ValueError("content needs a sealing key")
        content_enc = seal(key.dek, content, f"journal_entries:{entry_id}:content")
    row: dict[str, Any] = {
        "id": entry_id,
        "tenant_id": tenant_id,
        "chain": chain,
        "seq": head.seq + 1,
        "case_id": case_id,
        "kind": kind,
        "direction": direction,
        "channel": channel,
        "subject": subject,
        "key_scope": key.scope if key and content is not None else None,
        "key_owner_id": key.owner_id if key and content is not None else None,
        "content_enc": content_enc,
        "message_id": message_id,
        "actor": actor,
        "created_at": at,
    }
    row["prev_hash"] = head.hash
    row["hash"] = entry_hash(row, head.hash)
    await conn.execute(journal_entries.insert().values(**row))
    await conn.execute(
        update(journal_heads)
        .where(journal_heads.c.chain == chain)
        .values(seq=row["seq"], hash=row["hash"])
    )
    if case_id is not None:
        await conn.execute(
            journal_export_intake.insert().values(
                entry_id=entry_id, tenant_id=tenant_id, created_at=at
            )
        )
    return entry_id
