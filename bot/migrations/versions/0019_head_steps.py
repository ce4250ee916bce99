"""A journal head may move past several entries at once, if every one it passes links up.

0012's trigger let a head move exactly one entry per UPDATE, so a batch that
files a hundred entries on one case moved its head a hundred times. Now one
UPDATE may move it any number of entries forward, and the trigger checks more
than before: every entry between the old head and the new one exists (seq has
no gaps) and each names the one before it (``prev_hash``), starting from the
old head's hash; the new head names an existing entry, as before. Backwards,
sideways (another chain or municipality) and deleting stay refused, and
retention's sanctioned delete is unchanged.

PostgreSQL only; on SQLite the rules are kept in code.

Revision ID: 0019_head_steps
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

from alembic import op

revision = "0019_head_steps"
down_revision = "0010_tenant_gateways"
branch_labels = None
# Replaces the function 0012 wrote.
depends_on = "0012_retention"

# Retention's sanctioned delete, as 0012 wrote it; anything else is refused.
_ON_DELETE = """    IF TG_OP = 'DELETE' THEN
        IF current_setting('tovholder.retention', true) = OLD.chain
           AND EXISTS (SELECT 1 FROM journal_retention r
                       WHERE r.chain = OLD.chain AND r.final_seq = OLD.seq
                         AND r.final_hash = OLD.hash AND r.removed_at = now()) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'tovholder: journal_heads is append-only; DELETE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
"""

_HEAD_FORWARD = """
CREATE OR REPLACE FUNCTION tovholder_head_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    passed integer;
    linked boolean;
BEGIN
{on_delete}    IF NEW.chain <> OLD.chain OR NEW.tenant_id <> OLD.tenant_id OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'tovholder: a journal head only moves forward'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM journal_entries
        WHERE chain = NEW.chain AND seq = NEW.seq AND hash = NEW.hash
    ) THEN
        RAISE EXCEPTION 'tovholder: a journal head must name an existing entry'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT count(*), coalesce(bool_and(ok), false) INTO passed, linked FROM (
        SELECT prev_hash = lag(hash, 1, OLD.hash) OVER (ORDER BY seq) AS ok
        FROM journal_entries
        WHERE chain = NEW.chain AND seq > OLD.seq AND seq <= NEW.seq
    ) steps;
    IF passed <> NEW.seq - OLD.seq OR NOT linked THEN
        RAISE EXCEPTION 'tovholder: a journal head moves only along linked entries'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
""".format(on_delete=_ON_DELETE)

# 0012's, restored on downgrade.
_HEAD_FORWARD_0012 = """
CREATE OR REPLACE FUNCTION tovholder_head_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
{on_delete}    IF NEW.chain <> OLD.chain OR NEW.tenant_id <> OLD.tenant_id
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
""".format(on_delete=_ON_DELETE)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_HEAD_FORWARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_HEAD_FORWARD_0012)
