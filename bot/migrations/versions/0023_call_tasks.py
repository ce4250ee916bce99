"""tasks: a due time and a dedupe key on follow-up tasks (call tasks that exist)

A call task (an undelivered SMS with no other channel, a sensitive message to
an SMS-only citizen) is a ``followup_tasks`` row due at the next working day's
opening; ``dedupe_key`` ("call:<message id>") is unique, so a retried delivery
report or relay pass never makes a second one.

Revision ID: 0023_call_tasks
Revises: 0022_signed_heads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0023_call_tasks"
down_revision = "0022_signed_heads"
branch_labels = None
depends_on = "0004_scheduler"  # followup_tasks comes from the scheduler branch


def upgrade() -> None:
    op.add_column("followup_tasks", sa.Column("due_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("followup_tasks", sa.Column("dedupe_key", sa.String(length=80), nullable=True))
    op.create_index("ux_followup_tasks_dedupe", "followup_tasks", ["dedupe_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_followup_tasks_dedupe", table_name="followup_tasks")
    with op.batch_alter_table("followup_tasks") as batch:
        batch.drop_column("dedupe_key")
        batch.drop_column("due_at")
