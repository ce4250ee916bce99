"""Table for files a citizen attaches to a message in the secure inbox (vedhæftede filer).

Defined on the shared ``bot.store.schema.core.metadata``; created by migration
``0015_attachments``. The file and its name are sealed under the same data
key as the message they belong to (the case's, or the person's when the
thread has no case yet); only the detected type, the size and the SHA-256 are
in clear (they are not personal data, and the journal names the checksum).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table

from bot.store.schema.core import UTCDateTime, metadata

message_attachments = Table(
    "message_attachments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False, index=True),
    Column(
        "conversation_id", String(36), ForeignKey("conversations.id"), nullable=False, index=True
    ),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=True, index=True),
    # Whose data key seals the file: "case" or "person" (as messages.key_scope).
    Column("key_scope", String(8), nullable=False),
    # Detected from the content, never taken from the browser: image/jpeg | image/png |
    # image/heic | application/pdf.
    Column("media_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename_enc", LargeBinary, nullable=False),
    Column("content_enc", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
