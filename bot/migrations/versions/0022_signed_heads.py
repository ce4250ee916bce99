"""journal: signed heads, one append-only row per commit that moves journal heads

Each row lists, for every chain the commit moved, the head it started from and
the new head (seq, hash), signed with Ed25519 under a key the database never
sees (see :mod:`journal.signing`). On PostgreSQL the table refuses UPDATE,
DELETE and TRUNCATE like the journal itself (``ENABLE ALWAYS``).

Revision ID: 0022_signed_heads
Revises: 0021_no_truncate
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_signed_heads"
down_revision = "0021_no_truncate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_signed_heads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("heads", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_signed_heads")),
    )
    op.create_index(
        op.f("ix_journal_signed_heads_at"), "journal_signed_heads", ["at"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER journal_signed_heads_append_only BEFORE UPDATE OR DELETE "
            "ON journal_signed_heads FOR EACH ROW EXECUTE FUNCTION tovholder_refuse_change()"
        )
        op.execute(
            "ALTER TABLE journal_signed_heads ENABLE ALWAYS TRIGGER "
            "journal_signed_heads_append_only"
        )
        op.execute(
            "CREATE TRIGGER tovholder_no_truncate BEFORE TRUNCATE ON journal_signed_heads "
            "FOR EACH STATEMENT EXECUTE FUNCTION tovholder_refuse_truncate()"
        )
        op.execute("ALTER TABLE journal_signed_heads ENABLE ALWAYS TRIGGER tovholder_no_truncate")


def downgrade() -> None:
    op.drop_index(op.f("ix_journal_signed_heads_at"), table_name="journal_signed_heads")
    op.drop_table("journal_signed_heads")
