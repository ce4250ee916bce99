"""The journal's own tables, on the shared ``bot.store.schema.core.metadata``.

``journal_export_intake`` is filled by :func:`journal.journal.append` in the
same transaction as the entry, so no entry is ever forgotten by the exporters;
the export relay fans each intake row out into one ``journal_exports`` row per
enabled exporter (the ESDH outbox). ``journal_anchors`` remembers which chain
heads were last written to the external append-only heads sink.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from bot.store.schema.core import UTCDateTime, metadata

journal_export_intake = Table(
    "journal_export_intake",
    metadata,
    Column("entry_id", String(36), ForeignKey("journal_entries.id"), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

journal_exports = Table(
    "journal_exports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("entry_id", String(36), ForeignKey("journal_entries.id"), nullable=False),
    # file | mail | http
    Column("exporter", String(16), nullable=False),
    # pending | sending | done. A failure leaves the row pending with last_error
    # set: the case file must be complete, so we never give up on an entry.
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("last_error", String(200), nullable=True),
    # What the receiving system gave back: a file name, a Message-ID, a status.
    Column("receipt", String(200), nullable=True),
    Column("exported_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("entry_id", "exporter"),
    Index("ix_journal_exports_due", "state", "next_attempt_at"),
)

journal_anchors = Table(
    "journal_anchors",
    metadata,
    Column("chain", String(80), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("anchored_at", UTCDateTime(), nullable=False),
)

# Retention per case type (bevaringsperiode), set per municipality. ``case_type`` "*"
# is the municipality's rule for every type it has not named; without a rule the
# defaults in :mod:`journal.retention` apply.
retention_rules = Table(
    "retention_rules",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("case_type", String(64), primary_key=True),
    Column("days", Integer, nullable=False),
    # remove: the case goes when its period ends; archive: archive law requires keeping
    # it (bevaringspligt), so the case is restricted instead.
    Column("action", String(12), nullable=False, server_default="remove"),
    Column("created_at", UTCDateTime(), nullable=False),
)

# The rules a municipality chose to exempt material from the citizen's own copy
# (journal.access_copy.EXEMPTIONS names them and their legal ground).
access_copy_exemptions = Table(
    "access_copy_exemptions",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("rule", String(32), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# One row per case journal removed at the end of its retention period: append-only,
# so ``journal verify`` and the heads sink can tell a deliberate removal from tampering.
journal_retention = Table(
    "journal_retention",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=False, index=True),
    Column("chain", String(80), nullable=False, index=True),
    Column("entries", Integer, nullable=False),
    Column("final_seq", Integer, nullable=False),
    Column("final_hash", String(64), nullable=False),
    # When the case was (last) closed, and when its retention period ended.
    Column("closed_at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    # e.g. "boernesag: 3653 days (default)" or "kontanthjaelp: 1826 days (municipality)".
    Column("rule", String(200), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("removed_at", UTCDateTime(), nullable=False),
)

# One row per commit that moved journal heads: for each chain, the head it started from
# and the new head, signed (Ed25519) under a key the database never sees (see
# journal.signing). Append-only. ``at`` is the signed ISO time, kept as the text signed.
journal_signed_heads = Table(
    "journal_signed_heads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("key_id", String(16), nullable=False),
    Column("at", String(40), nullable=False, index=True),
    Column("heads", Text, nullable=False),
    Column("signature", String(120), nullable=False),
)

# One row per journal entry whose content was removed with the case it belonged to (an
# entry of the unassigned chain about a message filed on the case; see
# journal.redaction): the entry keeps its place and hash, its content goes. Signed like
# the heads, so verify accepts the entry's hash unchecked only where the key said so;
# ``redacted_sha256`` pins the fields the entry keeps. Append-only.
journal_redactions = Table(
    "journal_redactions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("chain", String(80), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("entry_id", String(36), nullable=False, unique=True),
    Column("entry_hash", String(64), nullable=False),
    Column("redacted_sha256", String(64), nullable=False),
    # The removed case and the retention record of its removal.
    Column("case_id", String(36), nullable=False),
    # No foreign key: journal_retention refuses TRUNCATE with its own trigger's words.
    Column("retention_id", String(36), nullable=False),
    Column("key_id", String(16), nullable=False),
    # The signed ISO time, kept as the text signed.
    Column("at", String(40), nullable=False),
    Column("signature", String(120), nullable=False),
    UniqueConstraint("chain", "seq"),
)
