"""search: blind-index tokens of people's names, for the caseworker's case search

One row per person and normalised word of their name, a keyed HMAC (never the
word). Rows are written when a person is created; people created before this
migration get theirs from ``tovholder search reindex`` (the migration has no
index key, so it cannot compute them). See docs/search-index.md.

Also the case list's index of open messages by case (partial, like
``ix_messages_awaiting``: only messages awaiting a reply are in it).

Revision ID: 0024_case_search
Revises: 0022_signed_heads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_case_search"
down_revision = "0022_signed_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_search_tokens",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_person_search_tokens_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_person_search_tokens_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("person_id", "token", name=op.f("pk_person_search_tokens")),
    )
    op.create_index(
        "ix_person_search_tokens_lookup",
        "person_search_tokens",
        ["tenant_id", "token"],
        unique=False,
    )

    # The case list's open items, by case: only the messages awaiting a reply.
    where = sa.text("awaiting_reply IS TRUE")
    op.create_index(
        "ix_messages_awaiting_case",
        "messages",
        ["case_id"],
        unique=False,
        postgresql_where=where,
        sqlite_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_awaiting_case", table_name="messages")
    op.drop_index("ix_person_search_tokens_lookup", table_name="person_search_tokens")
    op.drop_table("person_search_tokens")
