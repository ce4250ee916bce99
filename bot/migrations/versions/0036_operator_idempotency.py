"""Idempotency-Key for the deployment operator's POSTs (POST /api/v1/tenants).

Revision ID: 0036_operator_idempotency
Revises: 0011_staff_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0036_operator_idempotency"
down_revision = "0011_staff_idempotency"
branch_labels = None
depends_on = None

_TABLE = "operator_idempotency_keys"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("idem_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("dek", sa.LargeBinary(), nullable=False),
        sa.Column("response_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{_TABLE}")),
        # What serialises concurrent duplicates: the second insert of a key fails.
        sa.UniqueConstraint("caller", "idem_key", name=op.f(f"uq_{_TABLE}_caller_idem_key")),
    )
    op.create_index(op.f(f"ix_{_TABLE}_created_at"), _TABLE, ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{_TABLE}_created_at"), table_name=_TABLE)
    op.drop_table(_TABLE)
