"""Urgent sends past quiet hours; case-type templates per municipality and per timeline.

Revision ID: 0013_scheduler_templates
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0013_scheduler_templates"
down_revision = "0010_tenant_gateways"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "urgent_sends",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_urgent_sends_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_urgent_sends_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_urgent_sends_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_urgent_sends")),
    )
    op.create_index(op.f("ix_urgent_sends_tenant_id"), "urgent_sends", ["tenant_id"])
    op.create_table(
        "case_type_templates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.Column("updated_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_case_type_templates_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["staff.id"], name=op.f("fk_case_type_templates_updated_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_type_templates")),
        sa.UniqueConstraint(
            "tenant_id", "code", name=op.f("uq_case_type_templates_tenant_id_code")
        ),
    )
    op.create_index(op.f("ix_case_type_templates_tenant_id"), "case_type_templates", ["tenant_id"])
    op.create_table(
        "timeline_templates",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_timeline_templates_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_timeline_templates_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_timeline_templates")),
    )
    op.create_index(op.f("ix_timeline_templates_tenant_id"), "timeline_templates", ["tenant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_timeline_templates_tenant_id"), table_name="timeline_templates")
    op.drop_table("timeline_templates")
    op.drop_index(op.f("ix_case_type_templates_tenant_id"), table_name="case_type_templates")
    op.drop_table("case_type_templates")
    op.drop_index(op.f("ix_urgent_sends_tenant_id"), table_name="urgent_sends")
    op.drop_table("urgent_sends")
