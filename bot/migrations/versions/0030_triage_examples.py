"""triage: a message's triage level and why; staff-taught examples; per-municipality weights

Revision ID: 0030_triage_examples
Revises: 0028_mms_media
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0030_triage_examples"
down_revision = "0028_mms_media"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("triage_level", sa.String(length=12), nullable=True))
    op.add_column("messages", sa.Column("triage_why_enc", sa.LargeBinary(), nullable=True))
    op.create_table(
        "triage_examples",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("key_scope", sa.String(length=8), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_triage_examples_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_triage_examples_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_triage_examples_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_triage_examples_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_triage_examples_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_examples")),
        sa.UniqueConstraint("message_id", name=op.f("uq_triage_examples_message_id")),
    )
    op.create_index(op.f("ix_triage_examples_tenant_id"), "triage_examples", ["tenant_id"])
    op.create_table(
        "triage_models",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("dek", sa.LargeBinary(), nullable=False),
        sa.Column("weights_enc", sa.LargeBinary(), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("trained_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_triage_models_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_models")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_triage_models_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("triage_models")
    op.drop_index(op.f("ix_triage_examples_tenant_id"), table_name="triage_examples")
    op.drop_table("triage_examples")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("triage_why_enc")
        batch.drop_column("triage_level")
