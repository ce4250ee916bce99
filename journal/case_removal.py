"""The rest of a case, removed with its journal at the end of its retention period.

:func:`journal.retention.remove_case_journal` calls :func:`remove_case_content`
in the same transaction that writes the retention record and removes the
journal, so the case goes whole or not at all: its conversations, messages,
attachments and MMS media, the outbox and delivery bookkeeping of its
messages, its reminders, promises, tasks, appointments, deadlines, milestones,
letters, its parties (with their per-case consent and authority) and, last,
its data key.

Crypto-shredding: the case row itself stays as a tombstone (the retention
record and the access log name it), with status ``removed`` and its wrapped
data key overwritten. Nothing left in the database can be decrypted under the
case's key. A backup taken before the removal still holds the wrapped key; it
becomes unreadable once the key-encryption key that wrapped it is retired
(``tovholder keys rotate`` re-wraps every live key, then the old KEK is
destroyed when the last backup made under it expires).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Table, delete, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.schema.attachments import message_attachments
from bot.store.schema.consent import consent_records
from bot.store.schema.core import (
    cases,
    conversations,
    inbox_links,
    messages,
    metadata,
    outbox,
    participants,
    staff_notices,
)
from bot.store.schema.integration import case_details, participant_details
from bot.store.schema.intents import intent_confirmations
from bot.store.schema.letters import letters
from bot.store.schema.mms import mms_media
from bot.store.schema.pages import web_citizen_reads
from bot.store.schema.scheduler import (
    appointments,
    deadlines,
    followup_tasks,
    milestones,
    reminders,
    reply_promises,
    timeline_templates,
    urgent_sends,
)
from bot.store.schema.triage import triage_examples

REMOVED = "removed"
# What a shredded key is overwritten with: no wrapped-key format starts with it.
SHREDDED = b""
_CHUNK = 500

# Each table that holds something of the case, and the columns that tie a row to it:
# a column name here is one of the kinds of id collected in :func:`_ids`.
_PLAN: dict[Table, tuple[tuple[str, str], ...]] = {
    mms_media: (("message_id", "message"),),
    # Staff's triage examples (sealed under the message's key) and the family's
    # pending "Svar JA" questions go with the messages they are about.
    triage_examples: (("message_id", "message"), ("case_id", "case")),
    intent_confirmations: (
        ("message_id", "message"),
        ("question_id", "message"),
        ("answer_id", "message"),
        ("case_id", "case"),
    ),
    message_attachments: (
        ("message_id", "message"),
        ("conversation_id", "conversation"),
        ("case_id", "case"),
    ),
    outbox: (("message_id", "message"), ("staff_notice_id", "notice")),
    staff_notices: (("id", "notice"),),
    urgent_sends: (("message_id", "message"),),
    web_citizen_reads: (("message_id", "message"),),
    inbox_links: (("message_id", "message"),),
    reminders: (
        ("case_id", "case"),
        ("conversation_id", "conversation"),
        ("message_id", "message"),
    ),
    reply_promises: (("case_id", "case"), ("conversation_id", "conversation")),
    followup_tasks: (("case_id", "case"), ("message_id", "message")),
    appointments: (("case_id", "case"),),
    deadlines: (("case_id", "case"),),
    milestones: (("case_id", "case"),),
    timeline_templates: (("case_id", "case"),),
    letters: (("case_id", "case"),),
    case_details: (("case_id", "case"),),
    consent_records: (("participant_id", "participant"),),
    participant_details: (("participant_id", "participant"),),
    messages: (("id", "message"),),
    conversations: (("id", "conversation"),),
    participants: (("id", "participant"),),
}


async def _column(conn: AsyncConnection, q: object) -> list[str]:
    return list((await conn.execute(q)).scalars())  # type: ignore[call-overload]


async def _ids(conn: AsyncConnection, case_id: str) -> dict[str, list[str]]:
    """Every id that ties a row to the case, by kind."""
    convs = select(conversations.c.id).where(conversations.c.case_id == case_id)
    msgs = union(
        select(messages.c.id).where(messages.c.case_id == case_id),
        select(messages.c.id).where(messages.c.conversation_id.in_(convs)),
    )
    found = {
        "case": [case_id],
        "conversation": await _column(conn, convs),
        "message": await _column(conn, msgs),
        "participant": await _column(
            conn, select(participants.c.id).where(participants.c.case_id == case_id)
        ),
    }
    found["notice"] = []
    for part in _chunks(found["message"]):
        found["notice"] += await _column(
            conn, select(staff_notices.c.id).where(staff_notices.c.message_id.in_(part))
        )
    return found


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


async def _delete_where(conn: AsyncConnection, col: Column[str], ids: Sequence[str]) -> int:
    n = 0
    for part in _chunks(ids):
        n += (await conn.execute(delete(col.table).where(col.in_(part)))).rowcount
    return n


async def remove_case_content(conn: AsyncConnection, case_id: str) -> dict[str, int]:
    """Delete everything the case holds but its journal, then shred its data key.

    Runs inside the retention transaction (after the journal's removal was
    allowed); returns the rows removed per table (ids only, for the log).
    """
    ids = await _ids(conn, case_id)
    counts: dict[str, int] = {}
    # Children before parents: the schema's own dependency order, reversed.
    for table in reversed(metadata.sorted_tables):
        ties = _PLAN.get(table)
        if ties is None:
            continue
        n = 0
        for column, kind in ties:
            n += await _delete_where(conn, table.c[column], ids[kind])
        if n:
            counts[table.name] = n
    await conn.execute(
        update(cases).where(cases.c.id == case_id).values(status=REMOVED, dek=SHREDDED)
    )
    return counts
