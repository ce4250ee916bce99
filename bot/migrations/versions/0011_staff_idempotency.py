"""Idempotency-Key for caseworker (staff-token) POSTs.

Revision ID: 0011_staff_idempotency
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0011_staff_idempotency"
down_revision = "0010_tenant_gateways"
branch_labels = None
depends_on = None

_TABLE = "staff_idempotency_keys"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("idem_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("dek", sa.LargeBinary(), nullable=False),
        sa.Column("response_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{_TABLE}_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f(f"fk_{_TABLE}_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{_TABLE}")),
        sa.UniqueConstraint(
            "tenant_id",
            "staff_id",
            "idem_key",
            name=op.f(f"uq_{_TABLE}_tenant_id_staff_id_idem_key"),
        ),
    )
    op.create_index(op.f(f"ix_{_TABLE}_tenant_id"), _TABLE, ["tenant_id"], unique=False)
    op.create_index(op.f(f"ix_{_TABLE}_created_at"), _TABLE, ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{_TABLE}_created_at"), table_name=_TABLE)
    op.drop_index(op.f(f"ix_{_TABLE}_tenant_id"), table_name=_TABLE)
    op.drop_table(_TABLE)
