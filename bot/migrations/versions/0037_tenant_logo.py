"""A municipality's logo for the family's pages (``tovholder tenant logo``).

Revision ID: 0037_tenant_logo
Revises: 0036_operator_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0037_tenant_logo"
down_revision = "0036_operator_idempotency"
branch_labels = None
depends_on = None

_TABLE = "tenant_logos"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{_TABLE}_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f(f"pk_{_TABLE}")),
    )


def downgrade() -> None:
    op.drop_table(_TABLE)
