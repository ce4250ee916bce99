"""One conversation per case and person (and one unassigned thread per person).

Revision ID: 0008_one_thread
Revises: 0007_delivery
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_one_thread"
down_revision = "0007_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as b:
        b.create_unique_constraint("uq_conversations_case_id_person_id", ["case_id", "person_id"])
    op.create_index(
        "uq_conversations_unassigned",
        "conversations",
        ["tenant_id", "person_id"],
        unique=True,
        postgresql_where=sa.text("case_id IS NULL"),
        sqlite_where=sa.text("case_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_conversations_unassigned", table_name="conversations")
    with op.batch_alter_table("conversations") as b:
        b.drop_constraint("uq_conversations_case_id_person_id", type_="unique")
