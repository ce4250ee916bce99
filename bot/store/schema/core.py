"""The core tables (SQLAlchemy Core): tenants, people, cases, messages, outbox, journal heads.

Columns ending in ``_enc`` hold AES-256-GCM ciphertexts under the row owner's
data key (see bot.base.crypto); ``dek`` columns hold that data key wrapped by the
key-encryption key. ``*_index`` columns are keyed blind indexes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id() -> Column[str]:
    return Column("id", String(36), primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False, index: bool = True) -> Column[str]:
    return Column(name, String(36), ForeignKey(target), nullable=nullable, index=index)


def _where_set(name: str, column: str) -> Index:
    """An index of the rows where ``column`` is set (a query for a value needs no others)."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, postgresql_where=where, sqlite_where=where)


def _created() -> Column[datetime]:
    return Column("created_at", UTCDateTime(), nullable=False)


tenants = Table(
    "tenants",
    metadata,
    _id(),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    # The municipality's own public SMS number (E.164): not personal data.
    Column("sms_number", String(20), nullable=False, unique=True),
    Column("language", String(8), nullable=False, default="da"),
    _created(),
)

administrations = Table(
    "administrations",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    Column("name", String(200), nullable=False),
    _created(),
)

teams = Table(
    "teams",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("administration_id", "administrations.id"),
    Column("name", String(200), nullable=False),
    # Tilbagemeldingsgaranti: working days within which a citizen hears back.
    Column("reply_days", Integer, nullable=False, default=2),
    Column("opens_at", String(5), nullable=False, server_default="08:00"),
    Column("closes_at", String(5), nullable=False, server_default="16:00"),
    # Døgnvagt: the municipality's after-hours line (a public number).
    Column("after_hours_phone", String(20), nullable=True),
    # Minutes an urgent message may wait for an acknowledgement before escalating.
    Column("escalate_after_min", Integer, nullable=False, server_default="15"),
    _created(),
)

staff = Table(
    "staff",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("team_id", "teams.id"),
    Column("role", String(16), nullable=False),  # caseworker | lead | admin
    Column("dek", LargeBinary, nullable=False),
    Column("first_name_enc", LargeBinary, nullable=False),
    Column("full_name_enc", LargeBinary, nullable=False),
    Column("work_phone_enc", LargeBinary, nullable=True),
    Column("work_phone_index", String(64), nullable=True, index=True),
    Column("active", Boolean, nullable=False, default=True),
    _created(),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("staff_id", "staff.id"),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(100), nullable=False, default=""),
    _created(),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

persons = Table(
    "persons",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    Column("dek", LargeBinary, nullable=False),
    Column("name_enc", LargeBinary, nullable=True),
    Column("first_name_enc", LargeBinary, nullable=True),
    Column("phone_enc", LargeBinary, nullable=True),
    Column("phone_index", String(64), nullable=True),
    # known: registered by the municipality; unknown: created for a number
    # that wrote in and matched nobody (it holds only the number).
    Column("origin", String(16), nullable=False, default="known"),
    Column("language", String(8), nullable=False, default="da"),
    # sms | inbox_first | email: how this person wants to hear from us.
    Column("channel_pref", String(12), nullable=False, server_default="sms"),
    Column("email_enc", LargeBinary, nullable=True),
    _created(),
    Index("ix_persons_tenant_phone", "tenant_id", "phone_index"),
)

cases = Table(
    "cases",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("administration_id", "administrations.id"),
    _fk("team_id", "teams.id"),
    _fk("owner_id", "staff.id"),
    Column("number", String(64), nullable=False),
    Column("case_type", String(64), nullable=False, default="general"),
    Column("status", String(16), nullable=False, default="open"),
    Column("dek", LargeBinary, nullable=False),
    _created(),
    UniqueConstraint("tenant_id", "number"),
)

participants = Table(
    "participants",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("case_id", "cases.id"),
    _fk("person_id", "persons.id"),
    # party | parent | bisidder | representative
    Column("role", String(16), nullable=False),
    # Only entitled participants receive the case's messages.
    Column("entitled", Boolean, nullable=False, default=True),
    _created(),
    UniqueConstraint("case_id", "person_id"),
)

conversations = Table(
    "conversations",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    # NULL: the municipality's unassigned queue (no case known yet). Indexed as the
    # leading column of the (case_id, person_id) constraint below.
    _fk("case_id", "cases.id", nullable=True, index=False),
    _fk("person_id", "persons.id"),
    Column("last_activity_at", UTCDateTime(), nullable=False),
    _created(),
    # One thread per case and person, and one unassigned thread per person: two
    # first SMS arriving together must not fork a thread.
    UniqueConstraint("case_id", "person_id"),
    Index(
        "uq_conversations_unassigned",
        "tenant_id",
        "person_id",
        unique=True,
        postgresql_where=text("case_id IS NULL"),
        sqlite_where=text("case_id IS NULL"),
    ),
)

messages = Table(
    "messages",
    metadata,
    _id(),
    # Indexed with the open messages only (ix_messages_awaiting): the inbox's question.
    _fk("tenant_id", "tenants.id", index=False),
    # Indexed as the leading column of ix_messages_open.
    _fk("conversation_id", "conversations.id", index=False),
    _fk("case_id", "cases.id", nullable=True),
    _fk("person_id", "persons.id"),
    Column("direction", String(4), nullable=False),  # in | out
    # citizen | reply | receipt | clarify
    Column("kind", String(16), nullable=False),
    # Whose data key seals body_enc: the case's, or (unassigned) the person's.
    Column("key_scope", String(8), nullable=False),
    Column("body_enc", LargeBinary, nullable=False),
    # in: received | awaiting_case; out: queued | sent | delivered | failed | expired
    Column("status", String(16), nullable=False),
    Column("provider", String(16), nullable=True),
    Column("provider_id", String(64), nullable=True),
    Column("segments", Integer, nullable=False, default=1),
    # Inbound messages stay open until a caseworker answers.
    Column("awaiting_reply", Boolean, nullable=False, default=False),
    Column("reply_by", UTCDateTime(), nullable=True),
    Column("answered_at", UTCDateTime(), nullable=True),
    _fk("author_id", "staff.id", nullable=True, index=False),
    # Routing: who must answer now, and whose case it is when they are away.
    _fk("owner_id", "staff.id", nullable=True, index=False),
    _fk("original_owner_id", "staff.id", nullable=True, index=False),
    Column("urgent", Boolean, nullable=False, server_default=sa_false()),
    Column("acknowledged_at", UTCDateTime(), nullable=True),
    _fk("acknowledged_by", "staff.id", nullable=True, index=False),
    Column("escalation_level", Integer, nullable=False, server_default="0"),
    Column("next_escalation_at", UTCDateTime(), nullable=True),
    Column("reminded_at", UTCDateTime(), nullable=True),
    Column("breached_at", UTCDateTime(), nullable=True),
    # Sensitive content never travels by SMS: the SMS carries a notice and a link.
    Column("sensitive", Boolean, nullable=False, server_default=sa_false()),
    # How it actually went out: sms | notice (link to the secure inbox) | email | none.
    Column("via", String(8), nullable=True),
    # Triage (bot.domain.dispatch): akut | bekymring | None, and why, sealed like the body
    # (the phrase as the citizen wrote it, or the model's strongest features).
    Column("triage_level", String(12), nullable=True),
    Column("triage_why_enc", LargeBinary, nullable=True),
    _created(),
    UniqueConstraint("provider", "provider_id"),
    Index("ix_messages_open", "conversation_id", "awaiting_reply"),
    # Every SMS adds a row: these index only the rows that have the value.
    # The inbox: a municipality's open messages, by thread.
    Index(
        "ix_messages_awaiting",
        "tenant_id",
        "conversation_id",
        postgresql_where=text("awaiting_reply IS TRUE"),
        sqlite_where=text("awaiting_reply IS TRUE"),
    ),
    _where_set("ix_messages_owner_id", "owner_id"),
    _where_set("ix_messages_author_id", "author_id"),
    _where_set("ix_messages_next_escalation_at", "next_escalation_at"),
)

outbox = Table(
    "outbox",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id", index=False),  # nothing asks the outbox by municipality
    _fk("message_id", "messages.id", nullable=True),
    # Or, instead of a citizen message, a notice to staff (never content).
    _fk("staff_notice_id", "staff_notices.id", nullable=True, index=False),
    Column("state", String(12), nullable=False),  # pending | sending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("last_error", String(64), nullable=True),
    _created(),
    # The relay's claim: per state, in queue order.
    Index("ix_outbox_due", "state", "next_attempt_at", "created_at"),
    _where_set("ix_outbox_staff_notice_id", "staff_notice_id"),
)

case_choices = Table(
    "case_choices",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    Column("phone_index", String(64), nullable=False, index=True),
    # JSON list of [case_id, person_id], in the order the citizen was shown.
    Column("options", Text, nullable=False),
    _created(),
    Column("resolved_at", UTCDateTime(), nullable=True),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id", index=False),  # entries are read by chain, case or message
    # A hash chain per case ("case:<id>") or per tenant's unassigned queue.
    Column("chain", String(80), nullable=False),
    Column("seq", Integer, nullable=False),
    _fk("case_id", "cases.id", nullable=True),
    Column("kind", String(32), nullable=False),
    Column("direction", String(8), nullable=False),  # in | out | internal
    Column("channel", String(16), nullable=False),  # sms | api | system
    Column("subject", String(200), nullable=False),
    Column("key_scope", String(8), nullable=True),
    Column("key_owner_id", String(36), nullable=True),
    Column("content_enc", LargeBinary, nullable=True),
    Column("message_id", String(36), nullable=True, index=True),
    Column("actor", String(64), nullable=False),
    _created(),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("chain", "seq"),
)

journal_heads = Table(
    "journal_heads",
    metadata,
    Column("chain", String(80), primary_key=True),
    _fk("tenant_id", "tenants.id"),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

access_log = Table(
    "access_log",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("staff_id", "staff.id"),
    Column("action", String(16), nullable=False),  # read | search | export
    _fk("case_id", "cases.id", nullable=True),
    Column("message_id", String(36), nullable=True, index=True),
    Column("purpose", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)


# -- availability, duty and escalation (fravær, vagtplan) ---------------------------

absences = Table(
    "absences",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("staff_id", "staff.id"),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),  # inclusive
    _fk("substitute_id", "staff.id", nullable=True, index=False),
    # Holiday, sick leave, course: for staff only, sealed with the absent person's key.
    Column("reason_enc", LargeBinary, nullable=True),
    Column("source", String(16), nullable=False, server_default="api"),  # api | ical
    Column("source_uid", String(255), nullable=True),
    _fk("created_by", "staff.id", nullable=True, index=False),
    _created(),
    Column("citizens_told_at", UTCDateTime(), nullable=True),
    UniqueConstraint("staff_id", "source_uid"),
)

closing_days = Table(
    "closing_days",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    Column("day", Date, nullable=False),
    Column("name", String(100), nullable=False),
    UniqueConstraint("tenant_id", "day"),
)

duty_rotation = Table(
    "duty_rotation",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("team_id", "teams.id"),
    Column("weekday", Integer, nullable=False),  # 0 = Monday
    _fk("staff_id", "staff.id", index=False),
    UniqueConstraint("team_id", "weekday"),
)

duty_overrides = Table(
    "duty_overrides",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("team_id", "teams.id"),
    Column("day", Date, nullable=False),
    _fk("staff_id", "staff.id", index=False),
    UniqueConstraint("team_id", "day"),
)

staff_notices = Table(
    "staff_notices",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    # To a staff member's work phone, or (staff_id NULL) to the team's after-hours line.
    _fk("staff_id", "staff.id", nullable=True),
    _fk("team_id", "teams.id", index=False),
    _fk("message_id", "messages.id", nullable=True),
    Column("kind", String(24), nullable=False),  # urgent | escalation | reminder | breach
    Column("status", String(16), nullable=False),
    Column("provider_id", String(64), nullable=True),
    _created(),
)

# Words that make a message urgent (kind "urgent": AKUT, HASTER…) or risky
# (kind "risk": selvmord, vold…), per municipality, on top of the defaults.
triage_terms = Table(
    "triage_terms",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    Column("kind", String(8), nullable=False),
    Column("term", String(100), nullable=False),
    UniqueConstraint("tenant_id", "kind", "term"),
)

# -- channels: links to the secure inbox, per-municipality settings (consent: schema.consent)

inbox_links = Table(
    "inbox_links",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("person_id", "persons.id"),
    _fk("message_id", "messages.id", nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    _created(),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
)

tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("max_segments", Integer, nullable=False, server_default="3"),
    # JSON list of words that make a message sensitive (never sent by SMS).
    Column("sensitive_terms", Text, nullable=False, server_default="[]"),
    # This municipality's gateways in order, e.g. "gatewayapi,twilio" (NULL: the deployment's).
    Column("gateways", String(100), nullable=True),
)

# The municipality's logo on the family's pages (public, not personal data): one SVG or
# PNG per municipality, checked and size-limited on the way in (bot.domain.tenant_logo).
tenant_logos = Table(
    "tenant_logos",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("content_type", String(20), nullable=False),  # image/svg+xml | image/png
    Column("body", LargeBinary, nullable=False),
    # Hex SHA-256 of the body: the ETag and the version in the pages' link to it.
    Column("sha256", String(64), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Begrænsning: an erasure request against journalised material is recorded as a
# restriction of processing with its reason; the journal itself is never deleted.
restrictions = Table(
    "restrictions",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    # A person's erasure request (person_id set), or one case kept under archive law
    # instead of removed at the end of its retention period (case_id set, by the system).
    _fk("person_id", "persons.id", nullable=True),
    _fk("case_id", "cases.id", nullable=True),
    Column("reason_enc", LargeBinary, nullable=False),
    _fk("staff_id", "staff.id", nullable=True, index=False),
    _created(),
)
