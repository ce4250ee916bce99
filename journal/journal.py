"""Journalnotat: every exchange is filed into the case's journal, hash-chained.

Each case has its own chain (``case:<id>``); messages not yet tied to a case
are filed in their municipality's unassigned chain (``unassigned:<tenant>``).
An entry's hash covers a canonical serialisation of the entry (content as
ciphertext) and the previous entry's hash, so any change, removal or
reordering is detectable.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Label,
    String,
    Table,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.crypto import SealingKey, seal
from bot.base.ids import new_id
from bot.store.engine import Then, insert_rows
from bot.store.schema.core import journal_entries, journal_heads
from bot.store.schema.journal import journal_export_intake, journal_signed_heads
from journal.signing import Move, signed_row, signer_for, sink_for
from journal.sinkfile import append_lines, format_signed

GENESIS = "0" * 64

# Plain SQL both backends speak, built once: compiled once, never rebuilt per append.
_ENSURE_HEAD = text(
    "INSERT INTO journal_heads (chain, tenant_id, seq, hash) "
    "VALUES (:chain, :tenant_id, :seq, :hash) ON CONFLICT DO NOTHING"
)
_READ_HEAD = text("SELECT seq, hash FROM journal_heads WHERE chain = :chain")
_LOCK_HEAD = text("SELECT seq, hash FROM journal_heads WHERE chain = :chain FOR UPDATE")
# Many chains' heads at once, in chain order (see _lock_heads).
_READ_HEADS = (
    select(journal_heads.c.chain, journal_heads.c.seq, journal_heads.c.hash)
    .where(journal_heads.c.chain.in_(bindparam("chains", expanding=True)))
    .order_by(journal_heads.c.chain)
)
_LOCK_HEADS = _READ_HEADS.with_for_update()
# One row per entry: the database lets a head move forward one entry at a time.
_MOVE_HEAD = text("UPDATE journal_heads SET seq = :seq, hash = :hash WHERE chain = :chain")
# PostgreSQL: the entries' insert moves each head to its chain's last new entry in the
# same statement. (The head's trigger sees the entries, inserted first, and checks that
# they link up from the old head.)
_INSERT_AND_MOVE = Then(
    table=journal_entries,
    returning="chain, seq, hash",
    sql="UPDATE journal_heads SET seq = e.seq, hash = e.hash FROM "
    "(SELECT DISTINCT ON (chain) chain, seq, hash FROM {returned} ORDER BY chain, seq DESC) e "
    "WHERE journal_heads.chain = e.chain",
)
_HELD_HEADS = "tovholder.journal_heads"


def case_chain(case_id: str) -> str:
    return f"case:{case_id}"


def case_chain_of(case_id: ColumnElement[str]) -> ColumnElement[str]:
    """:func:`case_chain` in SQL, for a statement that names a case's chain itself."""
    return literal("case:", String()) + case_id


def unassigned_chain(tenant_id: str) -> str:
    return f"unassigned:{tenant_id}"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One entry to file with :func:`append_many` (the arguments of :func:`append`)."""

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

    @property
    def chain(self) -> str:
        return case_chain(self.case_id) if self.case_id else unassigned_chain(self.tenant_id)


def entry_hash(row: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the previous hash and a canonical serialisation of the entry."""
    return link_hash(prev_hash, entry_text(row))


def link_hash(prev_hash: str, text: str) -> str:
    """One link of a chain: SHA-256 over the previous hash, a newline and the entry's text."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + text.encode()).hexdigest()


def entry_text(row: Mapping[str, Any]) -> str:
    """The canonical serialisation of an entry that its hash covers (sorted, compact JSON)."""
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
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _held_heads(conn: AsyncConnection) -> dict[str, tuple[int, str]]:
    """Heads this transaction locked while doing something else (see hold_head): by chain.

    The next append to the chain starts from its head here and takes it away:
    that append moves the head on, so later appends lock and read it again. Kept per
    (transaction, savepoint): a new transaction, or a savepoint entered,
    released or rolled back, finds none.
    """
    sync = conn.sync_connection
    assert sync is not None
    txn, nested = sync.get_transaction(), sync.get_nested_transaction()
    slot = sync.info.get(_HELD_HEADS)
    if slot is None or slot[0] is not txn or slot[1] is not nested:
        slot = sync.info[_HELD_HEADS] = (txn, nested, {})
    heads: dict[str, tuple[int, str]] = slot[2]
    return heads


def held_head_columns(
    source: FromClause, chain: ColumnElement[str], tenant_id: ColumnElement[str]
) -> tuple[Label[int], Label[str]]:
    """PostgreSQL: columns that lock (or make) a chain's head inside another statement.

    For a statement that is about to be followed by an append to ``chain``:
    one row of ``source`` (e.g. what an INSERT … RETURNING returned) names the
    chain; the head is made when the chain has none (a row we insert is ours
    until we commit), else locked ``FOR UPDATE``, after ``source``'s rows were
    written. Select the columns, then :func:`hold_head` what they return: the
    append saves the round trips of making and locking the head. A head made
    by someone else after the statement began is neither made nor seen: NULL,
    and the append locks it as usual.

    Returns:
        ``head_seq`` and ``head_hash``.
    """
    made = (
        pg_insert(journal_heads)
        .from_select(
            ["chain", "tenant_id", "seq", "hash"],
            select(
                chain, tenant_id, literal_column("0", Integer()), literal(GENESIS, String())
            ).select_from(source),
        )
        .on_conflict_do_nothing()
        .returning(journal_heads.c.seq, journal_heads.c.hash)
        .cte("made_head")
    )
    locked = (
        select(journal_heads.c.seq, journal_heads.c.hash)
        .where(journal_heads.c.chain == select(chain).select_from(source).scalar_subquery())
        .with_for_update()
        .cte("locked_head")
    )
    return (
        func.coalesce(
            select(made.c.seq).scalar_subquery(), select(locked.c.seq).scalar_subquery()
        ).label("head_seq"),
        func.coalesce(
            select(made.c.hash).scalar_subquery(), select(locked.c.hash).scalar_subquery()
        ).label("head_hash"),
    )


def hold_head(conn: AsyncConnection, chain: str, seq: int, hash_: str) -> None:
    """Note that this transaction holds ``chain``'s head locked, at ``seq`` and ``hash_``.

    Only with what :func:`held_head_columns` returned, in this transaction: the
    next append to the chain starts from it instead of locking and reading it.
    """
    _held_heads(conn)[chain] = (seq, hash_)


# PostgreSQL: make the heads a batch is missing and lock the others, in chain order (so
# that two batches locking some of the same heads queue instead of deadlocking). A head
# made by someone else after the statement began is neither made nor seen: the append
# locks it as usual. As CTEs (``made``, ``locked``) for a statement that does more (the
# inbound batch's, which touches threads first); hold_found_heads then holds them.
HOLD_HEADS_CTES = (
    "made AS (INSERT INTO journal_heads (chain, tenant_id, seq, hash) "
    "SELECT u.chain, u.tenant_id, 0, :genesis "
    "FROM unnest(CAST(:chains AS TEXT[]), CAST(:tenants AS TEXT[])) AS u(chain, tenant_id) "
    "ORDER BY u.chain ON CONFLICT DO NOTHING RETURNING chain, seq, hash), "
    "locked AS (SELECT chain, seq, hash FROM journal_heads "
    "WHERE chain = ANY(CAST(:chains AS TEXT[])) ORDER BY chain FOR UPDATE)"
)


def heads_parameters(chains: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of :data:`HOLD_HEADS_CTES` for ``chains`` (chain → tenant id)."""
    ordered = sorted(chains)
    return {"chains": ordered, "tenants": [chains[c] for c in ordered], "genesis": GENESIS}


def hold_found_heads(conn: AsyncConnection, rows: Sequence[Any]) -> None:
    """Hold the heads :data:`HOLD_HEADS_CTES` returned (rows with chain, seq and hash)."""
    held = _held_heads(conn)
    for row in rows:
        held[row.chain] = (int(row.seq), str(row.hash))


async def _head(conn: AsyncConnection, chain: str, tenant_id: str) -> tuple[int, str]:
    """Lock the chain's head (``FOR UPDATE`` on PostgreSQL; SQLite has one writer); make it."""
    read = _LOCK_HEAD if conn.dialect.name == "postgresql" else _READ_HEAD
    row = (await conn.execute(read, {"chain": chain})).first()
    if row is None:
        await conn.execute(
            _ENSURE_HEAD, {"chain": chain, "tenant_id": tenant_id, "seq": 0, "hash": GENESIS}
        )
        row = (await conn.execute(read, {"chain": chain})).one()
    return int(row.seq), str(row.hash)


async def _lock_heads(
    conn: AsyncConnection, chains: Mapping[str, str]
) -> dict[str, tuple[int, str]]:
    """Make the heads ``chains`` (chain → tenant id) lack, then lock them all, in chain order.

    Two statements however many chains: for a batch that files on many cases, where a
    round trip per chain would cost more than the batch. Chain order, so that two
    batches locking some of the same heads queue instead of deadlocking.

    Returns:
        Each chain's head: seq and hash.
    """
    if not chains:
        return {}
    ordered = sorted(chains)
    await conn.execute(
        _ENSURE_HEAD,
        [{"chain": c, "tenant_id": chains[c], "seq": 0, "hash": GENESIS} for c in ordered],
    )
    read = _LOCK_HEADS if conn.dialect.name == "postgresql" else _READ_HEADS
    return {
        r.chain: (int(r.seq), str(r.hash)) for r in await conn.execute(read, {"chains": ordered})
    }


def _entry_row(entry: NewEntry, chain: str, head: tuple[int, str]) -> dict[str, Any]:
    """The sealed, hashed row that files ``entry`` after ``head`` (its chain's seq and hash)."""
    # The hash covers created_at's ISO form; the database gives it back in UTC.
    at = entry.at.astimezone(UTC)
    entry_id = new_id()
    content_enc = None
    key = entry.key
    if entry.content is not None:
        if key is None:
            raise ValueError("content needs a sealing key")
        content_enc = seal(key.dek, entry.content, f"journal_entries:{entry_id}:content")
    row: dict[str, Any] = {
        "id": entry_id,
        "tenant_id": entry.tenant_id,
        "chain": chain,
        "seq": head[0] + 1,
        "case_id": entry.case_id,
        "kind": entry.kind,
        "direction": entry.direction,
        "channel": entry.channel,
        "subject": entry.subject,
        "key_scope": key.scope if key and content_enc is not None else None,
        "key_owner_id": key.owner_id if key and content_enc is not None else None,
        "content_enc": content_enc,
        "message_id": entry.message_id,
        "actor": entry.actor,
        "created_at": at,
    }
    row["prev_hash"] = head[1]
    row["hash"] = entry_hash(row, head[1])
    return row


def _moves(rows: Sequence[Mapping[str, Any]]) -> list[Move]:
    """Each chain's move: the seq its head started from, and its last new entry."""
    moves: dict[str, Move] = {}
    for r in rows:
        start = moves[r["chain"]][1] if r["chain"] in moves else r["seq"] - 1
        moves[r["chain"]] = (r["chain"], start, r["seq"], r["hash"])
    return list(moves.values())


async def append_many(
    conn: AsyncConnection,
    entries: Sequence[NewEntry],
    *,
    rows_first: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]] = (),
    arrays: bool = False,
    lock_first: bool = False,
) -> list[str]:
    """File entries, in order, at the heads of their chains, inside the caller's transaction.

    Each chain's head is locked (``FOR UPDATE`` on PostgreSQL; SQLite has one
    writer), so concurrent appends to one case serialise instead of forking,
    and moved to the last new entry of its chain. The entries, their export intake rows and
    ``rows_first`` (e.g. the messages the entries describe) are inserted
    together: one statement on PostgreSQL (see :func:`bot.store.engine.insert_rows`;
    ``arrays`` for a caller whose row counts vary, such as a batch of SMS).

    Args:
        lock_first: lock the heads of all the entries' chains before filing any, in
            chain order (case order), with two statements in all (see
            :func:`_lock_heads`), instead of each head when its chain's first entry
            comes: for a batch over many cases, such as the reminder runner's. A head
            this transaction holds (see :func:`hold_head`) is used as it is.

    Returns:
        The new entries' ids, in the order given.
    """
    # Before anything is locked: without a signing key, no head moves at all.
    signer = signer_for(conn)
    held = _held_heads(conn)
    heads: dict[str, tuple[int, str]] = {}
    if lock_first:
        tenants: dict[str, str] = {}
        for entry in entries:
            tenants.setdefault(entry.chain, entry.tenant_id)
        heads = await _lock_heads(conn, {c: t for c, t in tenants.items() if c not in held})
    rows: list[dict[str, Any]] = []
    for entry in entries:
        chain = entry.chain
        head = (
            heads.get(chain) or held.pop(chain, None) or await _head(conn, chain, entry.tenant_id)
        )
        row = _entry_row(entry, chain, head)
        heads[chain] = (row["seq"], row["hash"])
        rows.append(row)
    # An entry filed on a case is queued for export to the case system (ESDH) in the
    # same transaction, so the exporters can never miss it.
    intake = [
        {"entry_id": r["id"], "tenant_id": r["tenant_id"], "created_at": r["created_at"]}
        for r in rows
        if r["case_id"] is not None
    ]
    # One signature over every head this call moves, in the same statement as the entries.
    signed = [signed_row(signer, new_id(), _moves(rows), rows[-1]["created_at"])] if rows else []
    moved = await insert_rows(
        conn,
        [
            *rows_first,
            (journal_entries, rows),
            (journal_export_intake, intake),
            (journal_signed_heads, signed),
        ],
        then=_INSERT_AND_MOVE if rows else None,
        arrays=arrays,
    )
    if rows and not moved:
        moves = [{"chain": r["chain"], "seq": r["seq"], "hash": r["hash"]} for r in rows]
        await conn.execute(_MOVE_HEAD, moves)
    sink = sink_for(conn)
    if signed and sink is not None:
        # Before the commit: a line that cannot be written fails the commit (the caller
        # retries, as after a database outage); a line whose commit then fails is
        # superseded by the next signed head of its chain.
        s = signed[0]
        line = format_signed(sink[1], s["id"], s["key_id"], s["at"], s["heads"], s["signature"])
        await asyncio.to_thread(append_lines, sink[0], [line])
    return [row["id"] for row in rows]


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
    entry = NewEntry(
        tenant_id=tenant_id,
        case_id=case_id,
        kind=kind,
        direction=direction,
        channel=channel,
        subject=subject,
        actor=actor,
        at=at,
        content=content,
        key=key,
        message_id=message_id,
    )
    return (await append_many(conn, [entry]))[0]
