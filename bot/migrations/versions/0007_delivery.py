"""Channels: sensitivity and delivery route on messages, channel preference, consent, inbox links.

Revision ID: 0007_delivery
Revises: 0003_routing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0007_delivery"
down_revision = "0003_routing"
branch_labels = None
depends_on = None

UTC = bot.store.schema.core.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("messages") as b:
        b.add_column(
            sa.Column("sensitive", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        b.add_column(sa.Column("via", sa.String(8), nullable=True))
    with op.batch_alter_table("persons") as b:
        b.add_column(sa.Column("channel_pref", sa.String(12), nullable=False, server_default="sms"))
        b.add_column(sa.Column("email_enc", sa.LargeBinary(), nullable=True))
    op.create_table(
        "consents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_consents_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_consents_person_id_persons"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
    )
    op.create_index("ix_consents_tenant_id", "consents", ["tenant_id"])
    op.create_index("ix_consents_person_id", "consents", ["person_id"])
    op.create_table(
        "inbox_links",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("used_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_inbox_links_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_inbox_links_person_id_persons"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_inbox_links_message_id_messages"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inbox_links"),
        sa.UniqueConstraint("token_hash", name="uq_inbox_links_token_hash"),
    )
    for col in ("tenant_id", "person_id", "message_id"):
        op.create_index(f"ix_inbox_links_{col}", "inbox_links", [col])
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("max_segments", sa.Integer(), nullable=False, server_default="3"),
        sa.Column("sensitive_terms", sa.Text(), nullable=False, server_default="[]"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_tenant_settings_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenant_settings"),
    )


def downgrade() -> None:
    op.drop_table("tenant_settings")
    op.drop_table("inbox_links")
    op.drop_table("consents")
    with op.batch_alter_table("persons") as b:
        b.drop_column("email_enc")
        b.drop_column("channel_pref")
    with op.batch_alter_table("messages") as b:
        b.drop_column("via")
        b.drop_column("sensitive")
