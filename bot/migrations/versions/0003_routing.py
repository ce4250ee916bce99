"""Routing: absences, closing days, duty roster, staff notices, urgent/escalation columns.

Revision ID: 0003_routing
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0003_routing"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = bot.store.schema.core.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("teams") as b:
        b.add_column(sa.Column("opens_at", sa.String(5), nullable=False, server_default="08:00"))
        b.add_column(sa.Column("closes_at", sa.String(5), nullable=False, server_default="16:00"))
        b.add_column(sa.Column("after_hours_phone", sa.String(20), nullable=True))
        b.add_column(
            sa.Column("escalate_after_min", sa.Integer(), nullable=False, server_default="15")
        )
    with op.batch_alter_table("staff") as b:
        b.add_column(sa.Column("work_phone_enc", sa.LargeBinary(), nullable=True))
        b.add_column(sa.Column("work_phone_index", sa.String(64), nullable=True))
        b.create_index("ix_staff_work_phone_index", ["work_phone_index"])
    with op.batch_alter_table("messages") as b:
        b.add_column(sa.Column("owner_id", sa.String(36), nullable=True))
        b.add_column(sa.Column("original_owner_id", sa.String(36), nullable=True))
        b.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(sa.Column("acknowledged_at", UTC(timezone=True), nullable=True))
        b.add_column(sa.Column("acknowledged_by", sa.String(36), nullable=True))
        b.add_column(
            sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0")
        )
        b.add_column(sa.Column("next_escalation_at", UTC(timezone=True), nullable=True))
        b.add_column(sa.Column("reminded_at", UTC(timezone=True), nullable=True))
        b.add_column(sa.Column("breached_at", UTC(timezone=True), nullable=True))
        b.create_foreign_key("fk_messages_owner_id_staff", "staff", ["owner_id"], ["id"])
        b.create_foreign_key(
            "fk_messages_original_owner_id_staff", "staff", ["original_owner_id"], ["id"]
        )
        b.create_foreign_key(
            "fk_messages_acknowledged_by_staff", "staff", ["acknowledged_by"], ["id"]
        )
        b.create_index("ix_messages_owner_id", ["owner_id"])
        b.create_index("ix_messages_next_escalation_at", ["next_escalation_at"])

    op.create_table(
        "absences",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("staff_id", sa.String(36), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("substitute_id", sa.String(36), nullable=True),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False, server_default="api"),
        sa.Column("source_uid", sa.String(255), nullable=True),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("citizens_told_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_absences_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_absences_staff_id_staff"),
        sa.ForeignKeyConstraint(
            ["substitute_id"], ["staff.id"], name="fk_absences_substitute_id_staff"
        ),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name="fk_absences_created_by_staff"),
        sa.PrimaryKeyConstraint("id", name="pk_absences"),
        sa.UniqueConstraint("staff_id", "source_uid", name="uq_absences_staff_id_source_uid"),
    )
    op.create_index("ix_absences_tenant_id", "absences", ["tenant_id"])
    op.create_index("ix_absences_staff_id", "absences", ["staff_id"])

    op.create_table(
        "closing_days",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_closing_days_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_closing_days"),
        sa.UniqueConstraint("tenant_id", "day", name="uq_closing_days_tenant_id_day"),
    )
    op.create_index("ix_closing_days_tenant_id", "closing_days", ["tenant_id"])

    for name, col, coltype in (
        ("duty_rotation", "weekday", sa.Integer()),
        ("duty_overrides", "day", sa.Date()),
    ):
        op.create_table(
            name,
            sa.Column("id", sa.String(36), nullable=False),
            sa.Column("tenant_id", sa.String(36), nullable=False),
            sa.Column("team_id", sa.String(36), nullable=False),
            sa.Column(col, coltype, nullable=False),
            sa.Column("staff_id", sa.String(36), nullable=False),
            sa.ForeignKeyConstraint(
                ["tenant_id"], ["tenants.id"], name=f"fk_{name}_tenant_id_tenants"
            ),
            sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=f"fk_{name}_team_id_teams"),
            sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=f"fk_{name}_staff_id_staff"),
            sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
            sa.UniqueConstraint("team_id", col, name=f"uq_{name}_team_id_{col}"),
        )
        op.create_index(f"ix_{name}_tenant_id", name, ["tenant_id"])
        op.create_index(f"ix_{name}_team_id", name, ["team_id"])

    op.create_table(
        "staff_notices",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("staff_id", sa.String(36), nullable=True),
        sa.Column("team_id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_staff_notices_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_staff_notices_staff_id_staff"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_staff_notices_team_id_teams"),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_staff_notices_message_id_messages"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_staff_notices"),
    )
    op.create_index("ix_staff_notices_tenant_id", "staff_notices", ["tenant_id"])
    op.create_index("ix_staff_notices_staff_id", "staff_notices", ["staff_id"])
    op.create_index("ix_staff_notices_message_id", "staff_notices", ["message_id"])

    op.create_table(
        "triage_terms",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("term", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_triage_terms_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_triage_terms"),
        sa.UniqueConstraint(
            "tenant_id", "kind", "term", name="uq_triage_terms_tenant_id_kind_term"
        ),
    )
    op.create_index("ix_triage_terms_tenant_id", "triage_terms", ["tenant_id"])

    with op.batch_alter_table("outbox") as b:
        b.alter_column("message_id", existing_type=sa.String(36), nullable=True)
        b.add_column(sa.Column("staff_notice_id", sa.String(36), nullable=True))
        b.create_foreign_key(
            "fk_outbox_staff_notice_id_staff_notices", "staff_notices", ["staff_notice_id"], ["id"]
        )
        b.create_index("ix_outbox_staff_notice_id", ["staff_notice_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as b:
        b.drop_index("ix_outbox_staff_notice_id")
        b.drop_constraint("fk_outbox_staff_notice_id_staff_notices", type_="foreignkey")
        b.drop_column("staff_notice_id")
        b.alter_column("message_id", existing_type=sa.String(36), nullable=False)
    for name in (
        "triage_terms",
        "staff_notices",
        "duty_overrides",
        "duty_rotation",
        "closing_days",
        "absences",
    ):
        op.drop_table(name)
    with op.batch_alter_table("messages") as b:
        b.drop_index("ix_messages_next_escalation_at")
        b.drop_index("ix_messages_owner_id")
        for fk in ("acknowledged_by", "original_owner_id", "owner_id"):
            b.drop_constraint(f"fk_messages_{fk}_staff", type_="foreignkey")
        for col in (
            "breached_at",
            "reminded_at",
            "next_escalation_at",
            "escalation_level",
            "acknowledged_by",
            "acknowledged_at",
            "urgent",
            "original_owner_id",
            "owner_id",
        ):
            b.drop_column(col)
    with op.batch_alter_table("staff") as b:
        b.drop_index("ix_staff_work_phone_index")
        b.drop_column("work_phone_index")
        b.drop_column("work_phone_enc")
    with op.batch_alter_table("teams") as b:
        for col in ("escalate_after_min", "after_hours_phone", "closes_at", "opens_at"):
            b.drop_column(col)
