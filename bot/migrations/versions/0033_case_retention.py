"""retention covers the whole case: archive rules, case restrictions, no-exporter rules

- ``retention_rules.action``: ``remove`` (the case goes when its period ends) or
  ``archive`` (archive law requires keeping it: the case is restricted instead);
- ``restrictions.case_id``: a restriction of processing on one case (person and
  staff may then be empty: the system restricts an archived case itself);
- ``access_copy_exemptions``: the rules a municipality chose to exempt material
  from the citizen's own copy (e.g. internal notes, offentlighedsloven § 23);
- PostgreSQL: ``tovholder_retention_due_at`` refuses a restricted case or an
  archive rule, and accepts a case whose entries were never exported when the
  deployment exports nowhere (``tovholder.exports_nowhere``) and the municipality
  has set its own rule for the type; ``tovholder_retention_remove`` takes that
  flag as a fifth argument (the four-argument form stays and exports somewhere).

Revision ID: 0033_case_retention
Revises: 0028_mms_media
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0033_case_retention"
down_revision = "0028_mms_media"
branch_labels = None
depends_on = None

_ACTION = """
CREATE OR REPLACE FUNCTION tovholder_retention_action(p_tenant varchar, p_case_type varchar)
RETURNS varchar LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT action FROM retention_rules WHERE tenant_id = p_tenant AND case_type = p_case_type),
        (SELECT action FROM retention_rules WHERE tenant_id = p_tenant AND case_type = '*'),
        'remove')
$$
"""

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
      AND NOT EXISTS (SELECT 1 FROM restrictions r WHERE r.case_id = c.id)
      AND tovholder_retention_action(c.tenant_id, c.case_type) = 'remove'
      AND NOT EXISTS (SELECT 1 FROM journal_exports o
                      JOIN journal_entries x ON x.id = o.entry_id
                      WHERE x.chain = 'case:' || c.id AND o.state <> 'done')
      AND (NOT EXISTS (SELECT 1 FROM journal_export_intake i
                       JOIN journal_entries x ON x.id = i.entry_id
                       WHERE x.chain = 'case:' || c.id)
           OR (current_setting('tovholder.exports_nowhere', true) = 'on'
               AND EXISTS (SELECT 1 FROM retention_rules w WHERE w.tenant_id = c.tenant_id
                           AND w.case_type IN (c.case_type, '*'))))
    GROUP BY c.id, c.tenant_id, c.case_type
$$
"""

_REMOVE5 = """
CREATE OR REPLACE FUNCTION tovholder_retention_remove(
    p_case_id varchar, p_now timestamptz, p_id varchar, p_actor varchar,
    p_exports_nowhere boolean
) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('tovholder.exports_nowhere',
                       CASE WHEN p_exports_nowhere THEN 'on' ELSE '' END, true);
    RETURN tovholder_retention_remove_0012(p_case_id, p_now, p_id, p_actor);
END
$$
"""

_REMOVE4 = """
CREATE OR REPLACE FUNCTION tovholder_retention_remove(
    p_case_id varchar, p_now timestamptz, p_id varchar, p_actor varchar
) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    RETURN tovholder_retention_remove(p_case_id, p_now, p_id, p_actor, false);
END
$$
"""


def _m0012():  # type: ignore[no-untyped-def]
    return importlib.import_module("bot.migrations.versions.0012_retention")


def upgrade() -> None:
    op.add_column(
        "retention_rules",
        sa.Column("action", sa.String(length=12), server_default="remove", nullable=False),
    )
    with op.batch_alter_table("restrictions") as batch:
        batch.add_column(sa.Column("case_id", sa.String(length=36), nullable=True))
        batch.alter_column("person_id", existing_type=sa.String(length=36), nullable=True)
        batch.alter_column("staff_id", existing_type=sa.String(length=36), nullable=True)
        batch.create_foreign_key(
            op.f("fk_restrictions_case_id_cases"), "cases", ["case_id"], ["id"]
        )
        batch.create_index(op.f("ix_restrictions_case_id"), ["case_id"], unique=False)
    op.create_table(
        "access_copy_exemptions",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_access_copy_exemptions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "rule", name=op.f("pk_access_copy_exemptions")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    # 0012's body, renamed: the five-argument form sets the flag, then runs it.
    op.execute(
        _m0012()._REMOVE.replace(
            "FUNCTION tovholder_retention_remove(", "FUNCTION tovholder_retention_remove_0012(", 1
        )
    )
    for sql in (_ACTION, _DUE_AT, _REMOVE5, _REMOVE4):
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        m = _m0012()
        op.execute(
            "DROP FUNCTION IF EXISTS tovholder_retention_remove(varchar, timestamptz, "
            "varchar, varchar, boolean)"
        )
        op.execute(m._REMOVE)
        op.execute(m._DUE_AT)
        op.execute(
            "DROP FUNCTION IF EXISTS tovholder_retention_remove_0012(varchar, timestamptz, "
            "varchar, varchar)"
        )
        op.execute("DROP FUNCTION IF EXISTS tovholder_retention_action(varchar, varchar)")
    op.drop_table("access_copy_exemptions")
    with op.batch_alter_table("restrictions") as batch:
        batch.drop_index(op.f("ix_restrictions_case_id"))
        batch.drop_constraint(op.f("fk_restrictions_case_id_cases"), type_="foreignkey")
        batch.alter_column("staff_id", existing_type=sa.String(length=36), nullable=False)
        batch.alter_column("person_id", existing_type=sa.String(length=36), nullable=False)
        batch.drop_column("case_id")
    op.drop_column("retention_rules", "action")
