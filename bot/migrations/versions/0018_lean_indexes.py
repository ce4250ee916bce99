"""Leaner indexes on the tables every SMS writes: fewer index entries per row.

Each row written to ``messages``, ``outbox``, ``journal_entries``, ``reminders``
and ``conversations`` (and each update that changes an indexed column) adds an
entry to every index of its table. This drops two indexes another index already covers by its leading
column and four that nothing reads, and makes four partial, so that they hold
only the rows that have a value:

- ``messages``: ``conversation_id`` is the leading column of ``ix_messages_open``;
  ``owner_id``, ``author_id`` and ``next_escalation_at`` are indexed only where set.
- ``messages``, ``outbox``, ``journal_entries``, ``reminders``: nothing reads them by
  municipality alone; the inbox's question (a municipality's open messages) gets
  its own index of the open messages only.
- ``conversations``: ``case_id`` leads ``uq_conversations_case_id_person_id``.
- ``outbox``: ``staff_notice_id`` only where set.

(The claim indexes of the outbox and the reminders stay whole: made partial,
they measured slower under two claiming workers.)

Revision ID: 0018_lean_indexes
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_lean_indexes"
down_revision = "0010_tenant_gateways"
branch_labels = None
# reminders come from the scheduler's branch.
depends_on = "0004_scheduler"

_PARTIAL = (
    # (index, table, columns, where)
    ("ix_messages_owner_id", "messages", ["owner_id"], "owner_id IS NOT NULL"),
    ("ix_messages_author_id", "messages", ["author_id"], "author_id IS NOT NULL"),
    (
        "ix_messages_next_escalation_at",
        "messages",
        ["next_escalation_at"],
        "next_escalation_at IS NOT NULL",
    ),
    ("ix_outbox_staff_notice_id", "outbox", ["staff_notice_id"], "staff_notice_id IS NOT NULL"),
)
_COVERED = (
    ("ix_messages_conversation_id", "messages", ["conversation_id"]),
    ("ix_conversations_case_id", "conversations", ["case_id"]),
)
# By municipality alone nobody reads these tables (the inbox reads open messages only).
_UNUSED = (
    ("ix_messages_tenant_id", "messages", ["tenant_id"]),
    ("ix_outbox_tenant_id", "outbox", ["tenant_id"]),
    ("ix_journal_entries_tenant_id", "journal_entries", ["tenant_id"]),
    ("ix_reminders_tenant_id", "reminders", ["tenant_id"]),
)
_AWAITING = (
    "ix_messages_awaiting",
    "messages",
    ["tenant_id", "conversation_id"],
    "awaiting_reply IS TRUE",
)


def _where(sql: str) -> dict[str, sa.TextClause]:
    return {"postgresql_where": sa.text(sql), "sqlite_where": sa.text(sql)}


# The relay's claim walks one state in queue order (next attempt, then queued at).
_CLAIM = (
    "ix_outbox_due",
    "outbox",
    ["state", "next_attempt_at"],
    ["state", "next_attempt_at", "created_at"],
)


def upgrade() -> None:
    for name, table, _ in (*_COVERED, *_UNUSED):
        op.drop_index(name, table_name=table)
    name, table, columns, where = _AWAITING
    op.create_index(name, table, columns, **_where(where))
    name, table, _, columns = _CLAIM
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns)
    for name, table, columns, where in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, **_where(where))


def downgrade() -> None:
    name, table, old, _ = _CLAIM
    op.drop_index(name, table_name=table)
    op.create_index(name, table, old)
    for name, table, columns, _ in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    op.drop_index(_AWAITING[0], table_name=_AWAITING[1])
    for name, table, columns in (*_COVERED, *_UNUSED):
        op.create_index(name, table, columns)
