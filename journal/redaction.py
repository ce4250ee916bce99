"""What of a removed case sits in its municipality's unassigned chain: redacted with it.

A message can be journalised in the unassigned chain before it belongs to a
case: an SMS from an unknown number or waiting for "which case?", the question
itself, the STOP/START confirmation, the ``filed_out`` note when staff file it.
When it joins a case, the case's chain gets its own entry with the text and the
message's id (:mod:`bot.domain.filing`, :mod:`bot.domain.case_record`): from
then on the case file is the record, and the unassigned copy only a trace.

So when retention removes the case (:func:`journal.retention.remove_case_journal`),
the unassigned entries about the messages its chain named lose their content,
in the same transaction: the content was the case's, and is kept no longer than
the case. A message another case's chain still names (a STOP confirmation sent
to a person with two cases) stays until the last of them goes. Entries that
name no message (a sender registered as a person) are about the person, not the
case, and stay.

The entry itself stays, with its hash (the chain still links, every signed head
still matches): only ``content_enc`` is cleared, and a signed
``journal_redactions`` row records it (see :mod:`journal.redacted` for what it
pins and how verify accepts it). On PostgreSQL the database allows the update
only for an entry a redaction row of this transaction's removal names
(migration ``0035_redactions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.base.ids import new_id
from bot.store.schema.core import journal_entries
from bot.store.schema.journal import journal_redactions
from journal.journal import case_chain, entry_text, link_hash, unassigned_chain
from journal.redacted import REDACTED, payload
from journal.signing import signer_for

_CHUNK = 500


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


async def case_messages(conn: AsyncConnection, case_id: str) -> list[str]:
    """The messages the case's chain names: read before the chain is removed."""
    e = journal_entries.c
    q = (
        select(e.message_id)
        .where(e.chain == case_chain(case_id), e.message_id.is_not(None))
        .distinct()
    )
    return sorted(str(m) for m in (await conn.execute(q)).scalars())


def redacted_digest(row: dict[str, Any]) -> str:
    """SHA-256 over the entry's canonical text with its content cleared (see journal.redacted)."""
    return link_hash(REDACTED, entry_text({**row, "content_enc": None}))


async def redact_unassigned(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    case_id: str,
    retention_id: str,
    message_ids: Sequence[str],
    at: datetime,
) -> int:
    """Clear the content of the unassigned entries about ``message_ids``; signed records.

    Runs in the retention transaction, after the case's chain was removed (so any
    chain that still names a message is another case's). Returns entries redacted.
    """
    signer = signer_for(conn)
    e = journal_entries.c
    still_named: set[str] = set()
    found: list[Any] = []
    for part in _chunks(message_ids):
        still_named.update(
            str(m)
            for m in (
                await conn.execute(
                    select(e.message_id)
                    .where(e.message_id.in_(part), e.chain.like("case:%"))
                    .distinct()
                )
            ).scalars()
        )
    going = [m for m in message_ids if m not in still_named]
    for part in _chunks(going):
        found += (
            await conn.execute(
                select(journal_entries).where(
                    e.chain == unassigned_chain(tenant_id),
                    e.message_id.in_(part),
                    e.content_enc.is_not(None),
                )
            )
        ).all()
    stamp = at.isoformat()
    for r in sorted(found, key=lambda r: r.seq):
        row: dict[str, Any] = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "chain": r.chain,
            "seq": r.seq,
            "entry_id": r.id,
            "entry_hash": r.hash,
            "redacted_sha256": redacted_digest(dict(r._mapping)),
            "case_id": case_id,
            "retention_id": retention_id,
            "key_id": signer.key_id,
            "at": stamp,
        }
        row["signature"] = signer.sign(payload(row))
        await conn.execute(journal_redactions.insert().values(**row))
        await conn.execute(update(journal_entries).where(e.id == r.id).values(content_enc=None))
    return len(found)
