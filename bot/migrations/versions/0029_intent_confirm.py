"""intents: a family's wish in their own words waits here for their yes

Revision ID: 0029_intent_confirm
Revises: 0028_mms_media
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0029_intent_confirm"
down_revision = "0028_mms_media"
branch_labels = None
depends_on = None


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    table, col = target.split(".")
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_intent_confirmations_{column}_{table}")
    )


def upgrade() -> None:
    op.create_table(
        "intent_confirmations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("phone_index", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("appointment_id", sa.String(length=36), nullable=True),
        sa.Column("intent", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("question_id", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("asked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer_id", sa.String(length=36), nullable=True),
        _fk("tenant_id", "tenants.id"),
        _fk("person_id", "persons.id"),
        _fk("case_id", "cases.id"),
        _fk("appointment_id", "appointments.id"),
        _fk("message_id", "messages.id"),
        _fk("question_id", "messages.id"),
        _fk("answer_id", "messages.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intent_confirmations")),
    )
    op.create_index(
        "ix_intent_confirmations_open",
        "intent_confirmations",
        ["tenant_id", "phone_index", "state"],
    )


def downgrade() -> None:
    op.drop_index("ix_intent_confirmations_open", table_name="intent_confirmations")
    op.drop_table("intent_confirmations")
