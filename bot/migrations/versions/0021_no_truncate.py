"""journal: TRUNCATE refused on the journal, its heads, the access log and retention records

0002 left TRUNCATE open (the test fixture emptied tables with it), so one
statement could wipe the journal without firing the UPDATE/DELETE triggers.
Now a ``BEFORE TRUNCATE`` trigger refuses it on every append-only table, and
like the others it is ``ENABLE ALWAYS`` (a superuser in replica mode is
refused too).

``tovholder_truncate_guard(on)`` switches these triggers off (``false``) and
on again (``true``) inside the caller's transaction, for a test or benchmark
that empties its own database. ``ALTER TABLE`` needs the tables' owner, so the
function gives nothing to a role that could not switch the triggers off anyway.

PostgreSQL only; SQLite has no triggers for this (``journal verify`` finds it).

Revision ID: 0021_no_truncate
Revises: 0019_head_steps
"""

from __future__ import annotations

from alembic import op

revision = "0021_no_truncate"
down_revision = "0019_head_steps"
branch_labels = None
depends_on = None

TABLES = ("journal_entries", "journal_heads", "access_log", "journal_retention")
TRIGGER = "tovholder_no_truncate"

_REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION tovholder_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tovholder: % is append-only; TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

_GUARD = """
CREATE OR REPLACE FUNCTION tovholder_truncate_guard(p_on boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'tovholder_no_truncate' LOOP
        IF p_on THEN
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER tovholder_no_truncate', t);
        ELSE
            EXECUTE format('ALTER TABLE %s DISABLE TRIGGER tovholder_no_truncate', t);
        END IF;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_REFUSE_TRUNCATE)
    op.execute(_GUARD)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tovholder_refuse_truncate()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {TRIGGER}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS tovholder_truncate_guard(boolean)")
    op.execute("DROP FUNCTION IF EXISTS tovholder_refuse_truncate()")
