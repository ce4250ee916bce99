"""integration: API keys, idempotency, case and participant details, webhooks

Side tables only: the core tables are not altered.

Revision ID: 0005_integration
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0005_integration"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, bot.store.schema.core.UTCDateTime(timezone=True), nullable=nullable)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def _tenant_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "integration_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        _ts("created_at"),
        _ts("expires_at", nullable=True),
        _ts("revoked_at", nullable=True),
        _tenant_fk("integration_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_integration_keys_key_hash")),
    )
    _tenant_index("integration_keys")

    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("idem_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("dek", sa.LargeBinary(), nullable=False),
        sa.Column("response_enc", sa.LargeBinary(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["integration_keys.id"],
            name=op.f("fk_idempotency_keys_key_id_integration_keys"),
        ),
        _tenant_fk("idempotency_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("key_id", "idem_key", name=op.f("uq_idempotency_keys_key_id_idem_key")),
    )
    _tenant_index("idempotency_keys")
    op.create_index(
        op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False
    )

    op.create_table(
        "case_details",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("kle_code", sa.String(length=32), nullable=True),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_details_case_id_cases")
        ),
        _tenant_fk("case_details"),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_details")),
    )
    _tenant_index("case_details")

    op.create_table(
        "participant_details",
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("authority_from", sa.Date(), nullable=True),
        sa.Column("authority_to", sa.Date(), nullable=True),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_participant_details_participant_id_participants"),
        ),
        _tenant_fk("participant_details"),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_participant_details")),
    )
    _tenant_index("participant_details")

    op.create_table(
        "participant_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        _ts("recorded_at"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_participant_consents_participant_id_participants"),
        ),
        _tenant_fk("participant_consents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_consents")),
        sa.UniqueConstraint(
            "participant_id", "channel", name=op.f("uq_participant_consents_participant_id_channel")
        ),
    )
    _tenant_index("participant_consents")
    op.create_index(
        op.f("ix_participant_consents_participant_id"),
        "participant_consents",
        ["participant_id"],
        unique=False,
    )

    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("dek", sa.LargeBinary(), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("disabled_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["integration_keys.id"],
            name=op.f("fk_webhook_subscriptions_key_id_integration_keys"),
        ),
        _tenant_fk("webhook_subscriptions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    _tenant_index("webhook_subscriptions")

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        _ts("lease_until", nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        _ts("created_at"),
        _ts("delivered_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        _tenant_fk("webhook_deliveries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    _tenant_index("webhook_deliveries")
    op.create_index(
        op.f("ix_webhook_deliveries_subscription_id"),
        "webhook_deliveries",
        ["subscription_id"],
        unique=False,
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["state", "next_attempt_at"],
        unique=False,
    )

    op.create_table(
        "external_refs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        _ts("created_at"),
        _tenant_fk("external_refs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_refs")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "ref", name=op.f("uq_external_refs_tenant_id_kind_ref")
        ),
    )
    _tenant_index("external_refs")
    op.create_index(op.f("ix_external_refs_row_id"), "external_refs", ["row_id"], unique=False)


def downgrade() -> None:
    op.drop_table("external_refs")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
    op.drop_table("participant_consents")
    op.drop_table("participant_details")
    op.drop_table("case_details")
    op.drop_table("idempotency_keys")
    op.drop_table("integration_keys")
