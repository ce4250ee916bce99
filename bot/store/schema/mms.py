"""Table for the media of an MMS a family sends, waiting to be fetched (MMS-filer).

Defined on the shared ``bot.store.schema.core.metadata``; created by migration
``0028_mms_media``. One row per media item the gateway announced, written in
the same transaction as the message: it is the durable to-do that the
``mms_media`` ticker job works off (fetch, check, seal into
``message_attachments``), so an answer sent before the fetch loses nothing.
The URL is the gateway's own (no personal data; fetching it needs the
account's credentials); the content never lands here.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from bot.store.schema.core import UTCDateTime, metadata

mms_media = Table(
    "mms_media",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False),
    # The gateway's numbering: Twilio's MediaUrl{n}, from 0.
    Column("position", Integer, nullable=False),
    Column("provider", String(16), nullable=False),
    # None: announced (NumMedia) but no URL came, or the URL is not the gateway's.
    Column("url", String(2048), nullable=True),
    Column("declared_type", String(128), nullable=True),
    # pending → kept | refused (type, size, URL: final) | failed (fetch gave up).
    Column("state", String(12), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    Column("attachment_id", String(36), ForeignKey("message_attachments.id"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("done_at", UTCDateTime(), nullable=True),
    Index("ux_mms_media_message_position", "message_id", "position", unique=True),
    Index("ix_mms_media_due", "state", "next_attempt_at"),
)
