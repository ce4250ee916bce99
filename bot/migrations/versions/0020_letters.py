"""Letters sent by Digital Post (SF1601): the letters' outbox, receipts and failures.

Revision ID: 0020_letters
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0020_letters"
down_revision = "0010_tenant_gateways"
branch_labels = None
depends_on = None

_dt = bot.store.schema.core.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "letters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("message_uuid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", _dt(timezone=True), nullable=False),
        sa.Column("lease_until", _dt(timezone=True), nullable=True),
        sa.Column("sender_cvr", sa.String(length=8), nullable=False),
        sa.Column("sender_label", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("cpr_enc", sa.LargeBinary(), nullable=False),
        sa.Column("title_enc", sa.LargeBinary(), nullable=False),
        sa.Column("filename_enc", sa.LargeBinary(), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("transaction_id", sa.String(length=36), nullable=True),
        sa.Column("sent_at", _dt(timezone=True), nullable=True),
        sa.Column("failure_code", sa.String(length=32), nullable=True),
        sa.Column("failure_enc", sa.LargeBinary(), nullable=True),
        sa.Column("failed_at", _dt(timezone=True), nullable=True),
        sa.Column("failure_seen", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", _dt(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_letters_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_letters_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_letters_author_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letters")),
        sa.UniqueConstraint("message_uuid", name=op.f("uq_letters_message_uuid")),
    )
    op.create_index(op.f("ix_letters_tenant_id"), "letters", ["tenant_id"])
    op.create_index(op.f("ix_letters_case_id"), "letters", ["case_id"])
    op.create_index("ix_letters_due", "letters", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_letters_due", table_name="letters")
    op.drop_index(op.f("ix_letters_case_id"), table_name="letters")
    op.drop_index(op.f("ix_letters_tenant_id"), table_name="letters")
    op.drop_table("letters")
