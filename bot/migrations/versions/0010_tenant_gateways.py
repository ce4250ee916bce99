"""A municipality's own gateway order (primary, secondary).

Revision ID: 0010_tenant_gateways
Revises: 0009_restrictions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_tenant_gateways"
down_revision = "0009_restrictions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenant_settings") as b:
        b.add_column(sa.Column("gateways", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenant_settings") as b:
        b.drop_column("gateways")
