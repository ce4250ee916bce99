"""Letters sent by Digital Post (breve): the outbox of letters to citizens.

Defined on the shared ``bot.store.schema.core.metadata``; created by migration
``0020_letters``. A row is a letter queued for a case and, once the relay has
handed it to SF1601, its receipt (``transaction_id``) or its failure. The MeMo
``messageUUID`` (``message_uuid``) is the idempotency key: a retry sends the
same UUID, and Digital Post keeps one letter per UUID.

The recipient's CPR number, the title, the file name, the document and a
failure's reason are personal data: sealed under the case's data key
(``letters:<id>:<column>``). The state, counts, codes and times are in clear.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, LargeBinary, String, Table
from sqlalchemy import false as sa_false

from bot.store.schema.core import UTCDateTime, metadata

letters = Table(
    "letters",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=False, index=True),
    # Who asked for it (the caseworker told of a failure); NULL: the system.
    Column("author_id", String(36), ForeignKey("staff.id"), nullable=True),
    Column("message_uuid", String(36), nullable=False, unique=True),
    # letter | decision (an afgørelse, sent with legalNotification and its klagevejledning)
    Column("kind", String(12), nullable=False),
    # queued | sending | sent | failed
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=True),
    # The municipality as sender: its CVR number and name (not personal data).
    Column("sender_cvr", String(8), nullable=False),
    Column("sender_label", String(200), nullable=False),
    Column("language", String(2), nullable=False),
    # text/plain | application/pdf
    Column("media_type", String(32), nullable=False),
    Column("cpr_enc", LargeBinary, nullable=False),
    Column("title_enc", LargeBinary, nullable=False),
    Column("filename_enc", LargeBinary, nullable=False),
    # The document: its text, or a PDF's bytes in base64.
    Column("body_enc", LargeBinary, nullable=False),
    # SF1601's x-TransaktionsId of the call that was accepted: the receipt.
    Column("transaction_id", String(36), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    # Why it failed: a stable code in clear, the service's words sealed.
    Column("failure_code", String(32), nullable=True),
    Column("failure_enc", LargeBinary, nullable=True),
    Column("failed_at", UTCDateTime(), nullable=True),
    # A caseworker has seen the failure: it leaves the list of letters needing attention.
    Column("failure_seen", Boolean, nullable=False, server_default=sa_false()),
    Column("created_at", UTCDateTime(), nullable=False),
    # The relay's claim: per state, in queue order.
    Index("ix_letters_due", "state", "next_attempt_at"),
)
