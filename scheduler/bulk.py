"""Many journal entries and outbound SMS at once, inside the caller's transaction.

``queue_many`` does for a batch of SMS what ``bot.domain.outbound.queue_sms`` does for
one (a message row, an outbox row and a journal entry each), with one
multi-row insert per table instead of several round trips per message. That is
what lets the reminder runner put 100,000 due reminders in the outbox in
seconds rather than minutes.

``append_many`` files entries exactly as ``journal.journal.append`` would, one
after the other: the same rows, the same hashes, the same chain order. Each
chain's head is locked once (``FOR UPDATE`` on PostgreSQL, in chain order so
two batches never wait on each other in a circle) and moved once, to its last
new entry (on PostgreSQL a trigger checks that every entry it passes links up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey, seal
from bot.base.ids import new_id
from bot.store.engine import insert_many, update_many
from bot.store.schema.core import journal_entries, journal_heads, messages, outbox
from bot.store.schema.journal import journal_export_intake
from journal.journal import GENESIS, case_chain, entry_hash, unassigned_chain

__all__ = ["Entry", "Sms", "append_many", "queue_many"]

_ENSURE_HEAD = text(
    "INSERT INTO journal_heads (chain, tenant_id, seq, hash) "
    "VALUES (:chain, :tenant_id, :seq, :hash) ON CONFLICT DO NOTHING"
)
_ADVANCE = (
    update(journal_heads)
    .where(journal_heads.c.chain == bindparam("b_chain"))
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
)  # what update_many does on SQLite, and on PostgreSQL for a handful of heads


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal entry to file (the arguments of ``journal.journal.append``)."""

    tenant_id: str
    case_id: str | None
    kind: str
    direction: str
    channel: str
    subject: str
    actor: str
    at: datetime
    content: str | None = None
    key: SealingKey | None = None
    message_id: str | None = None
    id: str | None = None


async def append_many(conn: AsyncConnection, entries: Sequence[Entry]) -> list[str]:
    """File entries at the heads of their chains, in the order given.

    Returns:
        The entries' ids, in the order given.
    """
    if not entries:
        return []
    chains: dict[str, str] = {}
    for e in entries:
        chain = case_chain(e.case_id) if e.case_id else unassigned_chain(e.tenant_id)
        chains.setdefault(chain, e.tenant_id)
    ordered = sorted(chains)
    await conn.execute(
        _ENSURE_HEAD,
        [{"chain": c, "tenant_id": chains[c], "seq": 0, "hash": GENESIS} for c in ordered],
    )
    head_q = (
        select(journal_heads.c.chain, journal_heads.c.seq, journal_heads.c.hash)
        .where(journal_heads.c.chain.in_(ordered))
        .order_by(journal_heads.c.chain)
    )
    if conn.dialect.name == "postgresql":
        head_q = head_q.with_for_update()
    heads: dict[str, tuple[int, str]] = {
        r.chain: (int(r.seq), str(r.hash)) for r in await conn.execute(head_q)
    }
    rows: list[dict[str, Any]] = []
    intake: list[dict[str, Any]] = []
    ids: list[str] = []
    for e in entries:
        chain = case_chain(e.case_id) if e.case_id else unassigned_chain(e.tenant_id)
        seq, prev = heads[chain]
        at = e.at.astimezone(UTC)
        entry_id = e.id or new_id()
        content_enc = None
        if e.content is not None:
            if e.key is None:
                raise ValueError("content needs a sealing key")
            content_enc = seal(e.key.dek, e.content, f"journal_entries:{entry_id}:content")
        row: dict[str, Any] = {
            "id": entry_id,
            "tenant_id": e.tenant_id,
            "chain": chain,
            "seq": seq + 1,
            "case_id": e.case_id,
            "kind": e.kind,
            "direction": e.direction,
            "channel": e.channel,
            "subject": e.subject,
            "key_scope": e.key.scope if e.key and e.content is not None else None,
            "key_owner_id": e.key.owner_id if e.key and e.content is not None else None,
            "content_enc": content_enc,
            "message_id": e.message_id,
            "actor": e.actor,
            "created_at": at,
        }
        row["prev_hash"] = prev
        row["hash"] = entry_hash(row, prev)
        heads[chain] = (row["seq"], row["hash"])
        rows.append(row)
        ids.append(entry_id)
        if e.case_id is not None:
            intake.append({"entry_id": entry_id, "tenant_id": e.tenant_id, "created_at": at})
    await insert_many(conn, journal_entries, rows)
    # Each head moves to its chain's last new entry (the database checks that the
    # entries it passes link up).
    last = {r["chain"]: {"chain": r["chain"], "seq": r["seq"], "hash": r["hash"]} for r in rows}
    await update_many(conn, journal_heads, list(last.values()), key="chain", fallback=_ADVANCE)
    await insert_many(conn, journal_export_intake, intake)
    return ids


@dataclass(frozen=True, slots=True)
class Sms:
    """One SMS to queue (the arguments of ``bot.domain.outbound.queue_sms``)."""

    tenant_id: str
    conversation_id: str
    case_id: str | None
    person_id: str
    kind: str
    body: str
    key: SealingKey
    at: datetime
    subject: str
    author_id: str | None = None
    message_id: str | None = None


async def queue_many(conn: AsyncConnection, items: Sequence[Sms]) -> list[str]:
    """Put SMS in the outbox and journalise them, inside the caller's transaction.

    The rows are those ``queue_sms`` writes, so the relay, the delivery
    reports and the journal cannot tell the difference.

    Returns:
        The new messages' ids (the relay's idempotency references), in order.
    """
    if not items:
        return []
    message_rows: list[dict[str, Any]] = []
    outbox_rows: list[dict[str, Any]] = []
    entries: list[Entry] = []
    ids: list[str] = []
    for sms in items:
        mid = sms.message_id or new_id()
        ids.append(mid)
        message_rows.append(
            {
                "id": mid,
                "tenant_id": sms.tenant_id,
                "conversation_id": sms.conversation_id,
                "case_id": sms.case_id,
                "person_id": sms.person_id,
                "direction": "out",
                "kind": sms.kind,
                "key_scope": sms.key.scope,
                "body_enc": seal(sms.key.dek, sms.body, f"messages:{mid}:body"),
                "status": "queued",
                "segments": 1,
                "sensitive": False,
                "via": None,
                "awaiting_reply": False,
                "author_id": sms.author_id,
                "created_at": sms.at,
            }
        )
        outbox_rows.append(
            {
                "id": new_id(),
                "tenant_id": sms.tenant_id,
                "message_id": mid,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": sms.at,
                "created_at": sms.at,
            }
        )
        entries.append(
            Entry(
                tenant_id=sms.tenant_id,
                case_id=sms.case_id,
                kind=f"sms_out_{sms.kind}",
                direction="out",
                channel="sms",
                subject=sms.subject,
                actor=f"staff:{sms.author_id}" if sms.author_id else "system",
                at=sms.at,
                content=sms.body,
                key=sms.key,
                message_id=mid,
            )
        )
    await insert_many(conn, messages, message_rows)
    await insert_many(conn, outbox, outbox_rows)
    await append_many(conn, entries)
    return ids
