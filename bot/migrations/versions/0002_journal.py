"""journal: export outbox, heads anchors, append-only triggers

The journal and the access log are append-only. On PostgreSQL the database
itself refuses UPDATE and DELETE on ``journal_entries`` and ``access_log``, and
lets a chain head only move forward one entry at a time to an entry that
exists. The triggers are ``ENABLE ALWAYS`` so they also fire for a superuser
session with ``session_replication_role = replica``. TRUNCATE is deliberately
not blocked (the test fixture empties tables with it); a rewrite by someone
who may run DDL is caught by ``journal verify`` against the external heads sink.

Revision ID: 0002_journal
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0002_journal"
down_revision = "0001"
branch_labels = None
depends_on = None

_REFUSE = """
CREATE OR REPLACE FUNCTION tovholder_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tovholder: % is append-only; % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

_HEAD_FORWARD = """
CREATE OR REPLACE FUNCTION tovholder_head_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'tovholder: journal_heads is append-only; DELETE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.chain <> OLD.chain OR NEW.tenant_id <> OLD.tenant_id
            OR NEW.seq <> OLD.seq + 1 THEN
        RAISE EXCEPTION 'tovholder: a journal head only moves forward one entry at a time'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM journal_entries
        WHERE chain = NEW.chain AND seq = NEW.seq AND hash = NEW.hash
    ) THEN
        RAISE EXCEPTION 'tovholder: a journal head must name an existing entry'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
"""

# (trigger, table, events, function)
_TRIGGERS = [
    (
        "journal_entries_append_only",
        "journal_entries",
        "UPDATE OR DELETE",
        "tovholder_refuse_change",
    ),
    ("access_log_append_only", "access_log", "UPDATE OR DELETE", "tovholder_refuse_change"),
    ("journal_heads_forward_only", "journal_heads", "UPDATE OR DELETE", "tovholder_head_forward"),
]


def upgrade() -> None:
    op.create_table(
        "journal_anchors",
        sa.Column("chain", sa.String(length=80), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("anchored_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_journal_anchors_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_journal_anchors")),
    )
    op.create_index(
        op.f("ix_journal_anchors_tenant_id"), "journal_anchors", ["tenant_id"], unique=False
    )
    op.create_table(
        "journal_export_intake",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_export_intake_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_journal_export_intake_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_journal_export_intake")),
    )
    op.create_index(
        op.f("ix_journal_export_intake_tenant_id"),
        "journal_export_intake",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "journal_exports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("exporter", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("lease_until", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("receipt", sa.String(length=200), nullable=True),
        sa.Column("exported_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_exports_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_journal_exports_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_exports")),
        sa.UniqueConstraint(
            "entry_id", "exporter", name=op.f("uq_journal_exports_entry_id_exporter")
        ),
    )
    op.create_index(
        "ix_journal_exports_due", "journal_exports", ["state", "next_attempt_at"], unique=False
    )
    op.create_index(
        op.f("ix_journal_exports_tenant_id"), "journal_exports", ["tenant_id"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REFUSE)
        op.execute(_HEAD_FORWARD)
        for name, table, events, function in _TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {events} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
            # ALWAYS: fires even when a superuser sets session_replication_role.
            op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _events, _function in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tovholder_head_forward()")
        op.execute("DROP FUNCTION IF EXISTS tovholder_refuse_change()")
    op.drop_index(op.f("ix_journal_exports_tenant_id"), table_name="journal_exports")
    op.drop_index("ix_journal_exports_due", table_name="journal_exports")
    op.drop_table("journal_exports")
    op.drop_index(op.f("ix_journal_export_intake_tenant_id"), table_name="journal_export_intake")
    op.drop_table("journal_export_intake")
    op.drop_index(op.f("ix_journal_anchors_tenant_id"), table_name="journal_anchors")
    op.drop_table("journal_anchors")
