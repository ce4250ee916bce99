"""Track-and-trace tables: milestones, appointments, deadlines, promises, reminders, tasks.

Durable work is data: every reminder, nudge and promise check is a row in
``reminders`` that a worker claims when it is due (see scheduler.runner).
Free text a caseworker types (a place, a video link, a reason) is sealed under
the case's data key; template titles and plain-language step names are not
personal data and are stored as they are.
"""

from __future__ import annotations

from datetime import datetime

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


def _id() -> Column[str]:
    return Column("id", String(36), primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = False, index: bool = True) -> Column[str]:
    return Column(name, String(36), ForeignKey(target), nullable=nullable, index=index)


def _at(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


# Milepæle: one row per step of a case's timeline, in template order.
milestones = Table(
    "milestones",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("case_id", "cases.id"),
    Column("position", Integer, nullable=False),
    Column("step", String(48), nullable=False),
    Column("expected_on", Date, nullable=True),
    # pending | current | done
    Column("status", String(12), nullable=False),
    _at("started_at", nullable=True),
    _at("completed_at", nullable=True),
    _at("updated_at"),
    _at("created_at"),
    UniqueConstraint("case_id", "step"),
)

appointments = Table(
    "appointments",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("case_id", "cases.id"),
    _at("starts_at"),
    _at("ends_at"),
    Column("place_enc", LargeBinary, nullable=True),
    Column("video_url_enc", LargeBinary, nullable=True),
    # JSON {"persons": [...], "staff": [...]}: who attends.
    Column("attendees", Text, nullable=False),
    # JSON list of reminder offsets, e.g. [{"working_days_before": 1, "at": "10:00"}].
    Column("offsets", Text, nullable=False),
    # scheduled | cancelled
    Column("status", String(12), nullable=False),
    # none | move | cancel: what the citizen asked for by SMS.
    Column("citizen_request", String(8), nullable=False, default="none"),
    _at("confirmed_at", nullable=True),
    # iCalendar SEQUENCE: bumped on every move or cancellation.
    Column("sequence", Integer, nullable=False, default=0),
    _fk("created_by", "staff.id"),
    _at("updated_at"),
    _at("created_at"),
    Index("ix_appointments_case_start", "case_id", "starts_at"),
)

# Frister, e.g. partshøring: the citizen is reminded N working days before.
deadlines = Table(
    "deadlines",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("case_id", "cases.id"),
    Column("kind", String(24), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("remind_days", Integer, nullable=False),
    # open | cancelled
    Column("status", String(12), nullable=False),
    _fk("created_by", "staff.id"),
    _at("created_at"),
)

# A caseworker's promise to answer by a date (tilbagemeldingsgaranti in person).
reply_promises = Table(
    "reply_promises",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("case_id", "cases.id"),
    _fk("conversation_id", "conversations.id"),
    _fk("staff_id", "staff.id"),
    Column("due_on", Date, nullable=False),
    # open | kept | delayed | replaced
    Column("status", String(12), nullable=False),
    Column("delayed_to", Date, nullable=True),
    _at("created_at"),
    _at("closed_at", nullable=True),
)

reminders = Table(
    "reminders",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id", index=False),  # claimed by time, found by case or ref
    _fk("case_id", "cases.id"),
    # appointment | deadline | nudge | promise_due | promise_overdue
    Column("kind", String(24), nullable=False),
    # The appointment, deadline or promise this reminder is about.
    Column("ref_id", String(36), nullable=True, index=True),
    # The citizen to text (None: the reminder is for staff, as a task).
    _fk("person_id", "persons.id", nullable=True, index=False),
    _fk("conversation_id", "conversations.id", nullable=True, index=False),
    _fk("staff_id", "staff.id", nullable=True, index=False),
    # When the offset says; due_at is that moved out of quiet hours.
    _at("nominal_at"),
    _at("due_at"),
    # What it is about happens then; after expires_at sending is pointless.
    _at("event_at", nullable=True),
    _at("expires_at", nullable=True),
    # pending | sent | skipped | withdrawn | failed
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("outcome", String(48), nullable=True),
    Column("message_id", String(36), nullable=True),
    # One live row per key (e.g. "nudge:<case id>").
    Column("dedupe_key", String(120), nullable=True, unique=True),
    _at("created_at"),
    _at("done_at", nullable=True),
    # Claims walk this in order; case_id groups a minute's rows by case, so two
    # workers take different cases and rarely wait on each other's journal heads.
    Index("ix_reminders_due", "state", "due_at", "case_id"),
)

# Opgaver til sagsbehandleren: nudges, promise reminders, requests to move or cancel.
followup_tasks = Table(
    "followup_tasks",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("case_id", "cases.id"),
    _fk("staff_id", "staff.id"),
    # nudge | promise_due | promise_broken | appointment_move | appointment_cancel | call
    Column("kind", String(24), nullable=False),
    Column("ref_id", String(36), nullable=True),
    Column("message_id", String(36), nullable=True),
    # Plain words, never personal data: "Ingen opdatering til borgeren i 5 arbejdsdage".
    Column("title", String(200), nullable=False),
    # open | done
    Column("state", String(8), nullable=False),
    _at("created_at"),
    _at("done_at", nullable=True),
    # When it should be done (a call task: the next working day's opening); None: no date.
    _at("due_at", nullable=True),
    # One task per cause ("call:<message id>"): a retried delivery report adds no second.
    Column("dedupe_key", String(80), nullable=True),
    Index("ix_followup_tasks_open", "staff_id", "state"),
    Index("ux_followup_tasks_dedupe", "dedupe_key", unique=True),
)

# Stilletid: when non-urgent SMS may not go out, per municipality or per person.
quiet_settings = Table(
    "quiet_settings",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    _fk("person_id", "persons.id", nullable=True),
    # "tenant" or "person:<id>": one row per scope.
    Column("scope", String(48), nullable=False),
    Column("enabled", Boolean, nullable=False),
    # Minutes after local midnight.
    Column("quiet_from", Integer, nullable=False),
    Column("quiet_until", Integer, nullable=False),
    Column("sundays", Boolean, nullable=False),
    Column("holidays", Boolean, nullable=False),
    _at("updated_at"),
    UniqueConstraint("tenant_id", "scope"),
)

# Hastebesked: a caseworker's message marked urgent goes out in quiet hours too.
# The reason is journalised (sealed) with the message; this row only says who and when.
urgent_sends = Table(
    "urgent_sends",
    metadata,
    Column("message_id", String(36), ForeignKey("messages.id"), primary_key=True),
    _fk("tenant_id", "tenants.id"),
    _fk("staff_id", "staff.id", index=False),
    _at("created_at"),
)

# Sagstype per municipality: the timeline template and follow-up policy, as JSON.
# Seeded from the built-in defaults (scheduler.templates) the first time it is read.
case_type_templates = Table(
    "case_type_templates",
    metadata,
    _id(),
    _fk("tenant_id", "tenants.id"),
    Column("code", String(32), nullable=False),
    # {"steps": [{"key", "title": {lang: text}, "reached": {lang: text}, "expected_after"}],
    #  "nudge_days": int, "auto_update": bool}: plain words, never personal data.
    Column("template", Text, nullable=False),
    Column("version", Integer, nullable=False),
    _fk("updated_by", "staff.id", nullable=True, index=False),
    _at("updated_at"),
    UniqueConstraint("tenant_id", "code"),
)

# The template a case's timeline was started from, as it was then: later edits to the
# municipality's template do not change a timeline already running.
timeline_templates = Table(
    "timeline_templates",
    metadata,
    Column("case_id", String(36), ForeignKey("cases.id"), primary_key=True),
    _fk("tenant_id", "tenants.id"),
    Column("code", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("template", Text, nullable=False),
    _at("created_at"),
)
