"""journal: redactions, the content of unassigned entries removed with their case

A case removed at the end of its retention period takes with it the content of
the entries in its municipality's unassigned chain that are about its messages
(see :mod:`journal.redaction`). Each such entry keeps its place, fields and hash;
its ``content_enc`` is cleared, and a signed, append-only ``journal_redactions``
row records it. On PostgreSQL the database enforces it:

- ``journal_redactions`` refuses UPDATE, DELETE and TRUNCATE, and a row can only
  be inserted in the transaction that inserted the retention record it names;
- ``journal_entries`` still refuses every UPDATE but one: clearing
  ``content_enc`` (nothing else) of an entry a redaction row inserted in this
  same transaction names, with its current hash.

Revision ID: 0035_redactions
Revises: 0033_case_retention
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035_redactions"
down_revision = "0033_case_retention"
branch_labels = None
depends_on = None

_REDACTION_GUARD = """
CREATE OR REPLACE FUNCTION tovholder_redaction_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM journal_retention r
                   WHERE r.id = NEW.retention_id AND r.case_id = NEW.case_id
                     AND r.removed_at = now()) THEN
        RAISE EXCEPTION 'tovholder: a redaction goes only with its case''s removal'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.chain NOT LIKE 'unassigned:%' OR NOT EXISTS (
        SELECT 1 FROM journal_entries
        WHERE id = NEW.entry_id AND chain = NEW.chain AND seq = NEW.seq AND hash = NEW.entry_hash
    ) THEN
        RAISE EXCEPTION 'tovholder: a redaction must name an unassigned entry as it stands'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
"""

# 0012's guard, and one UPDATE more: clearing the content of an entry redacted now.
_ENTRY_GUARD = """
CREATE OR REPLACE FUNCTION tovholder_journal_entry_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('tovholder.retention', true) = OLD.chain
       AND EXISTS (SELECT 1 FROM journal_retention r
                   WHERE r.chain = OLD.chain AND r.final_seq >= OLD.seq
                     AND r.removed_at = now()) THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.content_enc IS NULL
       AND (to_jsonb(NEW) - 'content_enc') = (to_jsonb(OLD) - 'content_enc')
       AND EXISTS (SELECT 1 FROM journal_redactions x
                   JOIN journal_retention r ON r.id = x.retention_id
                   WHERE x.entry_id = OLD.id AND x.entry_hash = OLD.hash
                     AND r.removed_at = now()) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'tovholder: journal_entries is append-only; % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "journal_redactions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("chain", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("redacted_sha256", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("retention_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_journal_redactions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_redactions")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_journal_redactions_chain_seq")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_journal_redactions_entry_id")),
    )
    for col in ("tenant_id", "chain"):
        op.create_index(
            op.f(f"ix_journal_redactions_{col}"), "journal_redactions", [col], unique=False
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_REDACTION_GUARD)
    op.execute(_ENTRY_GUARD)
    op.execute(
        "CREATE TRIGGER journal_redactions_append_only BEFORE UPDATE OR DELETE "
        "ON journal_redactions FOR EACH ROW EXECUTE FUNCTION tovholder_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER journal_redactions_with_removal BEFORE INSERT ON journal_redactions "
        "FOR EACH ROW EXECUTE FUNCTION tovholder_redaction_guard()"
    )
    op.execute(
        "CREATE TRIGGER tovholder_no_truncate BEFORE TRUNCATE ON journal_redactions "
        "FOR EACH STATEMENT EXECUTE FUNCTION tovholder_refuse_truncate()"
    )
    for name in (
        "journal_redactions_append_only",
        "journal_redactions_with_removal",
        "tovholder_no_truncate",
    ):
        op.execute(f"ALTER TABLE journal_redactions ENABLE ALWAYS TRIGGER {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from importlib import import_module

        op.execute(import_module("bot.migrations.versions.0012_retention")._ENTRY_GUARD)
        op.execute("DROP TRIGGER IF EXISTS tovholder_no_truncate ON journal_redactions")
        op.execute("DROP TRIGGER IF EXISTS journal_redactions_with_removal ON journal_redactions")
        op.execute("DROP TRIGGER IF EXISTS journal_redactions_append_only ON journal_redactions")
        op.execute("DROP FUNCTION IF EXISTS tovholder_redaction_guard()")
    for col in ("chain", "tenant_id"):
        op.drop_index(op.f(f"ix_journal_redactions_{col}"), table_name="journal_redactions")
    op.drop_table("journal_redactions")
