"""retention per case type: rules, append-only retention records, one sanctioned delete

A closed case's journal is removed when its retention period has passed, and
only then. On PostgreSQL the database itself enforces it:

- ``journal_retention`` is append-only, and a record can only be inserted for
  a case that is due (closed, retention period past, every entry exported) and
  only naming the chain's current head; its ``removed_at`` is forced to the
  transaction's time;
- ``journal_entries`` and ``journal_heads`` refuse UPDATE as before, and refuse
  DELETE unless the transaction has set ``tovholder.retention`` to the chain
  and inserted that chain's retention record in this same transaction;
- ``tovholder_retention_remove(case_id, now, id, actor)`` does all of it in one
  call, and is the path the application uses.

Every trigger is ``ENABLE ALWAYS``, so a superuser setting
``session_replication_role = replica`` is refused too.

Revision ID: 0012_retention
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.store.schema.core

revision = "0012_retention"
down_revision = "0010_tenant_gateways"
branch_labels = None
# The journal tables and their triggers come from 0002 (a sibling branch of 0010).
depends_on = "0002_journal"

# The defaults must agree with journal.retention.DEFAULT_DAYS / DEFAULT_BY_TYPE
# (tests/journal/test_retention.py checks that they do).
_DAYS = """
CREATE OR REPLACE FUNCTION tovholder_retention_days(p_tenant varchar, p_case_type varchar)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT days FROM retention_rules WHERE tenant_id = p_tenant AND case_type = p_case_type),
        (SELECT days FROM retention_rules WHERE tenant_id = p_tenant AND case_type = '*'),
        CASE p_case_type WHEN 'boernesag' THEN 3653 ELSE 1826 END)
$$
"""

# When a case's journal may be removed: NULL while it may not be (open, never closed,
# an export still outstanding), else the last entry's time plus the retention period.
_DUE_AT = """
CREATE OR REPLACE FUNCTION tovholder_retention_due_at(p_case_id varchar)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT max(e.created_at)
           + make_interval(days => tovholder_retention_days(c.tenant_id, c.case_type))
    FROM cases c
    JOIN journal_entries e ON e.chain = 'case:' || c.id
    WHERE c.id = p_case_id
      AND c.status = 'closed'
      AND EXISTS (SELECT 1 FROM journal_entries k
                  WHERE k.chain = 'case:' || c.id AND k.kind = 'case_closed')
      AND NOT EXISTS (SELECT 1 FROM journal_export_intake i
                      JOIN journal_entries x ON x.id = i.entry_id
                      WHERE x.chain = 'case:' || c.id)
      AND NOT EXISTS (SELECT 1 FROM journal_exports o
                      JOIN journal_entries x ON x.id = o.entry_id
                      WHERE x.chain = 'case:' || c.id AND o.state <> 'done')
    GROUP BY c.id, c.tenant_id, c.case_type
$$
"""

_RECORD_GUARD = """
CREATE OR REPLACE FUNCTION tovholder_retention_record_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_due timestamptz;
BEGIN
    v_due := tovholder_retention_due_at(NEW.case_id);
    IF v_due IS NULL OR v_due > now() THEN
        RAISE EXCEPTION 'tovholder: case % is not due for retention', NEW.case_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.chain <> 'case:' || NEW.case_id OR NOT EXISTS (
        SELECT 1 FROM journal_heads
        WHERE chain = NEW.chain AND seq = NEW.final_seq AND hash = NEW.final_hash
    ) THEN
        RAISE EXCEPTION 'tovholder: a retention record must name the chain''s head'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.removed_at := now();
    RETURN NEW;
END
$$
"""

# Replaces 0002's refusal on journal_entries: UPDATE never, DELETE only under retention.
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
    RAISE EXCEPTION 'tovholder: journal_entries is append-only; % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

_HEAD_FORWARD = """
CREATE OR REPLACE FUNCTION tovholder_head_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('tovholder.retention', true) = OLD.chain
           AND EXISTS (SELECT 1 FROM journal_retention r
                       WHERE r.chain = OLD.chain AND r.final_seq = OLD.seq
                         AND r.final_hash = OLD.hash AND r.removed_at = now()) THEN
            RETURN OLD;
        END IF;
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

# 0002's original, restored on downgrade.
_HEAD_FORWARD_0002 = """
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

# The sanctioned path. p_now may move the clock back (tests, dry runs), never past the
# database's own: nothing is removed before the database agrees it is due.
_REMOVE = """
CREATE OR REPLACE FUNCTION tovholder_retention_remove(
    p_case_id varchar, p_now timestamptz, p_id varchar, p_actor varchar
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_chain varchar := 'case:' || p_case_id;
    v_case record;
    v_head record;
    v_due timestamptz;
    v_days integer;
    v_count integer;
    v_closed timestamptz;
    v_source varchar;
BEGIN
    -- Lock the case (against a reopening) and the head (against an append).
    SELECT id, tenant_id, case_type INTO v_case FROM cases WHERE id = p_case_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tovholder: no case %', p_case_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT seq, hash INTO v_head FROM journal_heads WHERE chain = v_chain FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tovholder: case % has no journal', p_case_id
            USING ERRCODE = 'no_data_found';
    END IF;
    v_due := tovholder_retention_due_at(p_case_id);
    IF v_due IS NULL OR v_due > LEAST(p_now, now()) THEN
        RAISE EXCEPTION 'tovholder: case % is not due for retention', p_case_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    v_days := tovholder_retention_days(v_case.tenant_id, v_case.case_type);
    v_source := CASE
        WHEN EXISTS (SELECT 1 FROM retention_rules WHERE tenant_id = v_case.tenant_id
                     AND case_type IN (v_case.case_type, '*')) THEN 'municipality'
        ELSE 'default' END;
    SELECT count(*), max(created_at) FILTER (WHERE kind = 'case_closed')
        INTO v_count, v_closed FROM journal_entries WHERE chain = v_chain;
    INSERT INTO journal_retention (id, tenant_id, case_id, chain, entries, final_seq,
                                   final_hash, closed_at, due_at, rule, actor, removed_at)
    VALUES (p_id, v_case.tenant_id, p_case_id, v_chain, v_count, v_head.seq, v_head.hash,
            v_closed, v_due, v_case.case_type || ': ' || v_days || ' days (' || v_source || ')',
            p_actor, now());
    PERFORM set_config('tovholder.retention', v_chain, true);
    DELETE FROM journal_export_intake
        WHERE entry_id IN (SELECT id FROM journal_entries WHERE chain = v_chain);
    DELETE FROM journal_exports
        WHERE entry_id IN (SELECT id FROM journal_entries WHERE chain = v_chain);
    DELETE FROM journal_anchors WHERE chain = v_chain;
    DELETE FROM journal_entries WHERE chain = v_chain;
    DELETE FROM journal_heads WHERE chain = v_chain;
    PERFORM set_config('tovholder.retention', '', true);
    RETURN v_count;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "retention_rules",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("case_type", sa.String(length=64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_retention_rules_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "case_type", name=op.f("pk_retention_rules")),
    )
    op.create_table(
        "journal_retention",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("chain", sa.String(length=80), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("final_seq", sa.Integer(), nullable=False),
        sa.Column("final_hash", sa.String(length=64), nullable=False),
        sa.Column("closed_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("removed_at", bot.store.schema.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_journal_retention_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_journal_retention_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_retention")),
    )
    for col in ("tenant_id", "case_id", "chain"):
        op.create_index(
            op.f(f"ix_journal_retention_{col}"), "journal_retention", [col], unique=False
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    for sql in (_DAYS, _DUE_AT, _RECORD_GUARD, _ENTRY_GUARD, _HEAD_FORWARD, _REMOVE):
        op.execute(sql)
    op.execute("DROP TRIGGER journal_entries_append_only ON journal_entries")
    op.execute(
        "CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries "
        "FOR EACH ROW EXECUTE FUNCTION tovholder_journal_entry_guard()"
    )
    op.execute("ALTER TABLE journal_entries ENABLE ALWAYS TRIGGER journal_entries_append_only")
    op.execute(
        "CREATE TRIGGER journal_retention_append_only BEFORE UPDATE OR DELETE "
        "ON journal_retention FOR EACH ROW EXECUTE FUNCTION tovholder_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER journal_retention_due_only BEFORE INSERT ON journal_retention "
        "FOR EACH ROW EXECUTE FUNCTION tovholder_retention_record_guard()"
    )
    for name in ("journal_retention_append_only", "journal_retention_due_only"):
        op.execute(f"ALTER TABLE journal_retention ENABLE ALWAYS TRIGGER {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS journal_retention_due_only ON journal_retention")
        op.execute("DROP TRIGGER IF EXISTS journal_retention_append_only ON journal_retention")
        op.execute("DROP TRIGGER journal_entries_append_only ON journal_entries")
        op.execute(
            "CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE "
            "ON journal_entries FOR EACH ROW EXECUTE FUNCTION tovholder_refuse_change()"
        )
        op.execute("ALTER TABLE journal_entries ENABLE ALWAYS TRIGGER journal_entries_append_only")
        op.execute(_HEAD_FORWARD_0002)
        op.execute(
            "DROP FUNCTION IF EXISTS tovholder_retention_remove(varchar, timestamptz, "
            "varchar, varchar)"
        )
        op.execute("DROP FUNCTION IF EXISTS tovholder_journal_entry_guard()")
        op.execute("DROP FUNCTION IF EXISTS tovholder_retention_record_guard()")
        op.execute("DROP FUNCTION IF EXISTS tovholder_retention_due_at(varchar)")
        op.execute("DROP FUNCTION IF EXISTS tovholder_retention_days(varchar, varchar)")
    op.drop_table("journal_retention")
    op.drop_table("retention_rules")
