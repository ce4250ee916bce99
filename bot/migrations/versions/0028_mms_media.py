"""mms: the media of an inbound MMS, queued to be fetched after the webhook is answered

Revision ID: 0028_mms_media
Revises: 0023_call_tasks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0028_mms_media"
down_revision = "0023_call_tasks"
branch_labels = None
depends_on = "0015_attachments"


def upgrade() -> None:
    op.create_table(
        "mms_media",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("declared_type", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("attachment_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_mms_media_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_mms_media_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["message_attachments.id"],
            name=op.f("fk_mms_media_attachment_id_message_attachments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mms_media")),
    )
    op.create_index(op.f("ix_mms_media_tenant_id"), "mms_media", ["tenant_id"])
    op.create_index(
        "ux_mms_media_message_position", "mms_media", ["message_id", "position"], unique=True
    )
    op.create_index("ix_mms_media_due", "mms_media", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_mms_media_due", table_name="mms_media")
    op.drop_index("ux_mms_media_message_position", table_name="mms_media")
    op.drop_index(op.f("ix_mms_media_tenant_id"), table_name="mms_media")
    op.drop_table("mms_media")
