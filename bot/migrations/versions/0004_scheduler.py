"""scheduler: milestones, appointments, deadlines, promises, reminders, tasks, quiet hours

Revision ID: 0004_scheduler
Revises: 0001
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import bot.store.schema.core

revision = "0004_scheduler"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quiet_settings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("scope", sa.String(length=48), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("quiet_from", sa.Integer(), nullable=False),
        sa.Column("quiet_until", sa.Integer(), nullable=False),
        sa.Column("sundays", sa.Boolean(), nullable=False),
        sa.Column("holidays", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_quiet_settings_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_quiet_settings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiet_settings")),
        sa.UniqueConstraint("tenant_id", "scope", name=op.f("uq_quiet_settings_tenant_id_scope")),
    )
    op.create_index(
        op.f("ix_quiet_settings_person_id"), "quiet_settings", ["person_id"], unique=False
    )
    op.create_index(
        op.f("ix_quiet_settings_tenant_id"), "quiet_settings", ["tenant_id"], unique=False
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("place_enc", sa.LargeBinary(), nullable=True),
        sa.Column("video_url_enc", sa.LargeBinary(), nullable=True),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("offsets", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("citizen_request", sa.String(length=8), nullable=False),
        sa.Column("confirmed_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("updated_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_appointments_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_appointments_created_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_appointments_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index(op.f("ix_appointments_case_id"), "appointments", ["case_id"], unique=False)
    op.create_index(
        "ix_appointments_case_start", "appointments", ["case_id", "starts_at"], unique=False
    )
    op.create_index(
        op.f("ix_appointments_created_by"), "appointments", ["created_by"], unique=False
    )
    op.create_index(op.f("ix_appointments_tenant_id"), "appointments", ["tenant_id"], unique=False)
    op.create_table(
        "deadlines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("remind_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_deadlines_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_deadlines_created_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_deadlines_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
    )
    op.create_index(op.f("ix_deadlines_case_id"), "deadlines", ["case_id"], unique=False)
    op.create_index(op.f("ix_deadlines_created_by"), "deadlines", ["created_by"], unique=False)
    op.create_index(op.f("ix_deadlines_tenant_id"), "deadlines", ["tenant_id"], unique=False)
    op.create_table(
        "followup_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ref_id", sa.String(length=36), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_followup_tasks_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_followup_tasks_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_followup_tasks_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_tasks")),
    )
    op.create_index(op.f("ix_followup_tasks_case_id"), "followup_tasks", ["case_id"], unique=False)
    op.create_index("ix_followup_tasks_open", "followup_tasks", ["staff_id", "state"], unique=False)
    op.create_index(
        op.f("ix_followup_tasks_staff_id"), "followup_tasks", ["staff_id"], unique=False
    )
    op.create_index(
        op.f("ix_followup_tasks_tenant_id"), "followup_tasks", ["tenant_id"], unique=False
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=48), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_milestones_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_milestones_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
        sa.UniqueConstraint("case_id", "step", name=op.f("uq_milestones_case_id_step")),
    )
    op.create_index(op.f("ix_milestones_case_id"), "milestones", ["case_id"], unique=False)
    op.create_index(op.f("ix_milestones_tenant_id"), "milestones", ["tenant_id"], unique=False)
    op.create_table(
        "reminders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ref_id", sa.String(length=36), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("staff_id", sa.String(length=36), nullable=True),
        sa.Column("nominal_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=48), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reminders_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_reminders_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_reminders_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_reminders_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_reminders_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_reminders_dedupe_key")),
    )
    op.create_index(op.f("ix_reminders_case_id"), "reminders", ["case_id"], unique=False)
    op.create_index("ix_reminders_due", "reminders", ["state", "due_at", "case_id"], unique=False)
    op.create_index(op.f("ix_reminders_ref_id"), "reminders", ["ref_id"], unique=False)
    op.create_index(op.f("ix_reminders_tenant_id"), "reminders", ["tenant_id"], unique=False)
    op.create_table(
        "reply_promises",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("delayed_to", sa.Date(), nullable=True),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_reply_promises_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_reply_promises_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_reply_promises_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_reply_promises_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_promises")),
    )
    op.create_index(op.f("ix_reply_promises_case_id"), "reply_promises", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_reply_promises_conversation_id"),
        "reply_promises",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reply_promises_staff_id"), "reply_promises", ["staff_id"], unique=False
    )
    op.create_index(
        op.f("ix_reply_promises_tenant_id"), "reply_promises", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reply_promises_tenant_id"), table_name="reply_promises")
    op.drop_index(op.f("ix_reply_promises_staff_id"), table_name="reply_promises")
    op.drop_index(op.f("ix_reply_promises_conversation_id"), table_name="reply_promises")
    op.drop_index(op.f("ix_reply_promises_case_id"), table_name="reply_promises")
    op.drop_table("reply_promises")
    op.drop_index(op.f("ix_reminders_tenant_id"), table_name="reminders")
    op.drop_index(op.f("ix_reminders_ref_id"), table_name="reminders")
    op.drop_index("ix_reminders_due", table_name="reminders")
    op.drop_index(op.f("ix_reminders_case_id"), table_name="reminders")
    op.drop_table("reminders")
    op.drop_index(op.f("ix_milestones_tenant_id"), table_name="milestones")
    op.drop_index(op.f("ix_milestones_case_id"), table_name="milestones")
    op.drop_table("milestones")
    op.drop_index(op.f("ix_followup_tasks_tenant_id"), table_name="followup_tasks")
    op.drop_index(op.f("ix_followup_tasks_staff_id"), table_name="followup_tasks")
    op.drop_index("ix_followup_tasks_open", table_name="followup_tasks")
    op.drop_index(op.f("ix_followup_tasks_case_id"), table_name="followup_tasks")
    op.drop_table("followup_tasks")
    op.drop_index(op.f("ix_deadlines_tenant_id"), table_name="deadlines")
    op.drop_index(op.f("ix_deadlines_created_by"), table_name="deadlines")
    op.drop_index(op.f("ix_deadlines_case_id"), table_name="deadlines")
    op.drop_table("deadlines")
    op.drop_index(op.f("ix_appointments_tenant_id"), table_name="appointments")
    op.drop_index(op.f("ix_appointments_created_by"), table_name="appointments")
    op.drop_index("ix_appointments_case_start", table_name="appointments")
    op.drop_index(op.f("ix_appointments_case_id"), table_name="appointments")
    op.drop_table("appointments")
    op.drop_index(op.f("ix_quiet_settings_tenant_id"), table_name="quiet_settings")
    op.drop_index(op.f("ix_quiet_settings_person_id"), table_name="quiet_settings")
    op.drop_table("quiet_settings")
