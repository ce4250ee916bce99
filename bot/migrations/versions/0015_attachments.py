"""Files a citizen attaches to a message in the secure inbox.

Revision ID: 0015_attachments
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0015_attachments"
down_revision = "0010_tenant_gateways"
branch_labels = None
depends_on = None

_dt = bot.store.schema.core.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "message_attachments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("key_scope", sa.String(length=8), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename_enc", sa.LargeBinary(), nullable=False),
        sa.Column("content_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _dt(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_message_attachments_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_attachments_message_id_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_message_attachments_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_message_attachments_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attachments")),
    )
    for column in ("tenant_id", "message_id", "conversation_id", "case_id"):
        op.create_index(op.f(f"ix_message_attachments_{column}"), "message_attachments", [column])


def downgrade() -> None:
    for column in ("tenant_id", "message_id", "conversation_id", "case_id"):
        op.drop_index(op.f(f"ix_message_attachments_{column}"), table_name="message_attachments")
    op.drop_table("message_attachments")
