"""shared limits: gateway token buckets, circuit breakers and login starts shared by all workers

Revision ID: 0032_shared_limits
Revises: 0028_mms_media
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0032_shared_limits"
down_revision = "0028_mms_media"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_limits",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("stamp", UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("open_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("trial_until", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_shared_limits")),
    )


def downgrade() -> None:
    op.drop_table("shared_limits")
