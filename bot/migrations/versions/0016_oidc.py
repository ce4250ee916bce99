"""Logging in through OpenID Connect: login flows, staff identities, persons' CPR.

Revision ID: 0016_oidc
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0016_oidc"
down_revision = "0010_tenant_gateways"
branch_labels = None
depends_on = ("0006_web",)  # web_sessions comes from the web pages branch


def upgrade() -> None:
    op.create_table(
        "web_oidc_flows",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("state_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("provider", sa.String(8), nullable=False),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id"), nullable=True),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("next_path", sa.String(300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "web_staff_oidc",
        sa.Column("staff_id", sa.String(36), sa.ForeignKey("staff.id"), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("login_index", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("tenant_id", "login_index", name="uq_web_staff_oidc_login"),
    )
    op.create_table(
        "web_person_cpr",
        sa.Column("person_id", sa.String(36), sa.ForeignKey("persons.id"), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("cpr_index", sa.String(64), nullable=False),
        sa.Column("cpr_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_web_person_cpr_index", "web_person_cpr", ["cpr_index"])
    with op.batch_alter_table("web_sessions") as b:
        b.add_column(sa.Column("person_id", sa.String(36), nullable=True))
        b.create_foreign_key("fk_web_sessions_person_id_persons", "persons", ["person_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as b:
        b.drop_constraint("fk_web_sessions_person_id_persons", type_="foreignkey")
        b.drop_column("person_id")
    op.drop_index("ix_web_person_cpr_index", table_name="web_person_cpr")
    op.drop_table("web_person_cpr")
    op.drop_table("web_staff_oidc")
    op.drop_table("web_oidc_flows")
