"""The integration module's own tables, on the shared ``bot.store.schema.core.metadata``.

New facts about existing rows live in side tables keyed by that row's id
(``case_details``, ``participant_details``) so the
core tables stay as they are.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.store.schema.core import UTCDateTime, metadata

# Per-integration API keys ("tvk_…"): only a SHA-256 of the key is stored.
integration_keys = Table(
    "integration_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("label", String(100), nullable=False),
    # The first characters of the key, so an operator can tell keys apart.
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    # Space-separated capabilities, e.g. "cases:write messages:send".
    Column("scopes", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

# One row per (key, Idempotency-Key): the first request's hash and answer.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("key_id", String(36), ForeignKey("integration_keys.id"), nullable=False),
    Column("idem_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    # The answer is sealed: it may name ids a client should not read from a dump.
    Column("dek", LargeBinary, nullable=False),
    Column("response_enc", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    # The unique constraint is what serialises concurrent duplicates.
    UniqueConstraint("key_id", "idem_key"),
)

# One row per (staff member, Idempotency-Key) for caseworker POSTs. Claimed in its
# own transaction before the view runs (the views open their own), finished with
# the answer after it; see bot.domain.integration.idempotency.
staff_idempotency_keys = Table(
    "staff_idempotency_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("staff_id", String(36), ForeignKey("staff.id"), nullable=False),
    Column("idem_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    # pending (claimed, the view is running or its server stopped) | done
    Column("state", String(12), nullable=False),
    Column("status", Integer, nullable=False),
    Column("content_type", String(100), nullable=True),
    Column("dek", LargeBinary, nullable=False),
    Column("response_enc", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    UniqueConstraint("tenant_id", "staff_id", "idem_key"),
)
# The deployment operator's keys (POST /api/v1/tenants): above every municipality,
# so scoped by the operator token's SHA-256 (a new token starts afresh), not a tenant.
operator_idempotency_keys = Table(
    "operator_idempotency_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("caller", String(64), nullable=False),
    Column("idem_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    # pending (claimed, the view is running or its server stopped) | done
    Column("state", String(12), nullable=False),
    Column("status", Integer, nullable=False),
    Column("content_type", String(100), nullable=True),
    Column("dek", LargeBinary, nullable=False),
    Column("response_enc", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    UniqueConstraint("caller", "idem_key"),
)

# KLE (Kommunernes Landsforenings Emnesystematik) classification of a case.
case_details = Table(
    "case_details",
    metadata,
    Column("case_id", String(36), ForeignKey("cases.id"), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("kle_code", String(32), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Fuldmagt: a representative acts for the party only within this date range.
participant_details = Table(
    "participant_details",
    metadata,
    Column("participant_id", String(36), ForeignKey("participants.id"), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("authority_from", Date, nullable=True),
    Column("authority_to", Date, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Outbound webhook subscriptions. The signing secret is sealed under the row's
# own data key (``dek``, wrapped by the KEK like cases/persons/staff).
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("key_id", String(36), ForeignKey("integration_keys.id"), nullable=True),
    Column("url", String(2000), nullable=False),
    Column("events", Text, nullable=False),
    Column("dek", LargeBinary, nullable=False),
    Column("secret_enc", LargeBinary, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime(), nullable=True),
)

# The webhook outbox: one row per (event, subscription), claimed by the relay.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column(
        "subscription_id",
        String(36),
        ForeignKey("webhook_subscriptions.id"),
        nullable=False,
        index=True,
    ),
    Column("event_id", String(36), nullable=False),
    Column("event", String(32), nullable=False),
    Column("body", Text, nullable=False),
    # pending | sending | done | dead
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", String(64), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
)

# The case system's own references for staff and persons ("initials", "P-1001"),
# so imports and API calls can name them without our ids. Never a CPR number.
external_refs = Table(
    "external_refs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # staff | person
    Column("ref", String(100), nullable=False),
    Column("row_id", String(36), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "kind", "ref"),
)
