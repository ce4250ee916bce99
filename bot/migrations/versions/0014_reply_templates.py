"""web pages: a municipality's plain-language reply templates (svarskabeloner)

Revision ID: 0014_reply_templates
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0014_reply_templates"
down_revision = "0010_tenant_gateways"
branch_labels = None
depends_on = None

_dt = bot.store.schema.core.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "web_reply_templates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", _dt(timezone=True), nullable=False),
        sa.Column("updated_at", _dt(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_web_reply_templates_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_web_reply_templates_created_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_reply_templates")),
        sa.UniqueConstraint(
            "tenant_id", "title", name=op.f("uq_web_reply_templates_tenant_id_title")
        ),
    )
    op.create_index(
        op.f("ix_web_reply_templates_tenant_id"), "web_reply_templates", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_web_reply_templates_tenant_id"), table_name="web_reply_templates")
    op.drop_table("web_reply_templates")
