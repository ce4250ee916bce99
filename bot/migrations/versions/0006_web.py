"""web pages: staff credentials, sessions, one-time login codes, citizens' reads

Revision ID: 0006_web
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0006_web"
down_revision = "0001"
branch_labels = None
depends_on = None

_dt = bot.store.schema.core.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "web_staff_credentials",
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", _dt(timezone=True), nullable=True),
        sa.Column("created_at", _dt(timezone=True), nullable=False),
        sa.Column("updated_at", _dt(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_web_staff_credentials_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_web_staff_credentials_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_web_staff_credentials")),
        sa.UniqueConstraint("username", name=op.f("uq_web_staff_credentials_username")),
    )
    op.create_index(
        op.f("ix_web_staff_credentials_tenant_id"),
        "web_staff_credentials",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("assurance", sa.String(length=16), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", _dt(timezone=True), nullable=False),
        sa.Column("last_seen_at", _dt(timezone=True), nullable=False),
        sa.Column("ended_at", _dt(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_web_sessions_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_web_sessions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_staff_id"), "web_sessions", ["staff_id"], unique=False)
    op.create_index(op.f("ix_web_sessions_tenant_id"), "web_sessions", ["tenant_id"], unique=False)
    op.create_table(
        "web_login_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("phone_index", sa.String(length=64), nullable=False),
        sa.Column("ip_index", sa.String(length=64), nullable=False),
        sa.Column("flow_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _dt(timezone=True), nullable=False),
        sa.Column("expires_at", _dt(timezone=True), nullable=False),
        sa.Column("used_at", _dt(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_web_login_codes_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_login_codes")),
        sa.UniqueConstraint("flow_hash", name=op.f("uq_web_login_codes_flow_hash")),
    )
    op.create_index(
        "ix_web_login_codes_ip", "web_login_codes", ["ip_index", "created_at"], unique=False
    )
    op.create_index(
        "ix_web_login_codes_phone", "web_login_codes", ["phone_index", "created_at"], unique=False
    )
    op.create_index(
        op.f("ix_web_login_codes_tenant_id"), "web_login_codes", ["tenant_id"], unique=False
    )
    op.create_table(
        "web_citizen_reads",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("first_read_at", _dt(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_web_citizen_reads_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_web_citizen_reads_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_web_citizen_reads")),
    )
    op.create_index(
        op.f("ix_web_citizen_reads_tenant_id"), "web_citizen_reads", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_web_citizen_reads_tenant_id"), table_name="web_citizen_reads")
    op.drop_table("web_citizen_reads")
    op.drop_index(op.f("ix_web_login_codes_tenant_id"), table_name="web_login_codes")
    op.drop_index("ix_web_login_codes_phone", table_name="web_login_codes")
    op.drop_index("ix_web_login_codes_ip", table_name="web_login_codes")
    op.drop_table("web_login_codes")
    op.drop_index(op.f("ix_web_sessions_tenant_id"), table_name="web_sessions")
    op.drop_index(op.f("ix_web_sessions_staff_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_web_staff_credentials_tenant_id"), table_name="web_staff_credentials")
    op.drop_table("web_staff_credentials")
