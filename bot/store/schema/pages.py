"""Tables for the web pages: staff credentials, sessions, one-time codes, citizens' reads,
reply templates.

Defined on the shared ``bot.store.schema.core.metadata`` so Alembic and the test
fixtures see them; created by migrations ``0006_web``, ``0014_reply_templates`` and
``0034_template_languages``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
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

# Caseworkers' local accounts: a password (argon2id) and a TOTP second factor.
# TODO(OIDC): municipalities' own identity providers (OpenID Connect) replace
# these for staff who have one; keep local accounts for the rest.
web_staff_credentials = Table(
    "web_staff_credentials",
    metadata,
    Column("staff_id", String(36), ForeignKey("staff.id"), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    # The login name (e.g. a work e-mail address), lower-cased; unique across tenants.
    Column("username", String(200), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    # The TOTP secret, sealed under the staff member's own data key.
    Column("totp_secret_enc", LargeBinary, nullable=False),
    # The last TOTP time step accepted: a code is never accepted twice.
    Column("totp_last_step", Integer, nullable=True),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Server-side sessions. The cookie holds a random token; only its SHA-256 is stored.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # staff | citizen
    # staff: "totp" after the password, "full" after the second factor; citizen: "full".
    Column("stage", String(8), nullable=False),
    Column("staff_id", String(36), ForeignKey("staff.id"), nullable=True, index=True),
    # A citizen is who holds the phone: the blind index of its number.
    Column("phone_index", String(64), nullable=True),
    # password+totp | sms-code (TODO(MitID): "substantial" through an OIDC broker)
    Column("assurance", String(16), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
)

# One-time codes sent by SMS to log a citizen in. A request for a number we do
# not know gets a row too (code_hash NULL), so it is answered and rate-limited
# exactly like a known one.
web_login_codes = Table(
    "web_login_codes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("phone_index", String(64), nullable=False),
    Column("ip_index", String(64), nullable=False),
    # SHA-256 of the login-flow cookie that ties the browser to this code.
    Column("flow_hash", String(64), nullable=False, unique=True),
    # Keyed HMAC of the code (never the code itself).
    Column("code_hash", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Index("ix_web_login_codes_phone", "phone_index", "created_at"),
    Index("ix_web_login_codes_ip", "ip_index", "created_at"),
)

# When the citizen first saw a message from the municipality in the secure inbox.
web_citizen_reads = Table(
    "web_citizen_reads",
    metadata,
    Column("message_id", String(36), ForeignKey("messages.id"), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("first_read_at", UTCDateTime(), nullable=False),
)

# Svarskabeloner: a municipality's plain-language reply templates. The text may
# hold whitelisted variables ({fornavn}, {sagsbehandler}, {dato}, {sagsnummer})
# and never personal data itself, so it is stored in clear.
web_reply_templates = Table(
    "web_reply_templates",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True),
    # One template in several languages: one row per language under the same title.
    Column("title", String(80), nullable=False),
    Column("language", String(8), nullable=False, server_default="da"),
    Column("body", Text, nullable=False),
    Column("position", Integer, nullable=False, default=0),
    # A retired template is hidden from the picker but kept (edits are not history).
    Column("active", Boolean, nullable=False, default=True),
    Column("created_by", String(36), ForeignKey("staff.id"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "title", "language"),
)
