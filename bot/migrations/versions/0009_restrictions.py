"""Restrictions of processing (erasure requests against journalised material).

Revision ID: 0009_restrictions
Revises: 0008_one_thread
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0009_restrictions"
down_revision = "0008_one_thread"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "restrictions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=False),
        sa.Column("staff_id", sa.String(36), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_restrictions_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_restrictions_person_id_persons"
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_restrictions_staff_id_staff"),
        sa.PrimaryKeyConstraint("id", name="pk_restrictions"),
    )
    op.create_index("ix_restrictions_tenant_id", "restrictions", ["tenant_id"])
    op.create_index("ix_restrictions_person_id", "restrictions", ["person_id"])


def downgrade() -> None:
    op.drop_table("restrictions")
