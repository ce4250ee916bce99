"""Live updates across workers: NOTIFY when a caseworker's inbox changes (PostgreSQL only).

AFTER triggers on ``messages``, ``conversations``, ``cases`` and
``web_citizen_reads`` call
``pg_notify('tovholder_inbox', …)`` so every writer, in any worker process,
wakes the open inbox streams of that municipality without any hot-path code
knowing about it. The payload carries ids only — tenant, conversation (or
case) and what kind of change — never a name, a number or a message body.
NOTIFY is transactional: it is delivered on commit, and identical payloads in
one transaction are folded into one.

On SQLite (one process) there is nobody else to tell: this is a no-op there.

Revision ID: 0017_notify
Revises: 0010_tenant_gateways
"""

from __future__ import annotations

from alembic import op

revision = "0017_notify"
down_revision = "0010_tenant_gateways"
branch_labels = None
# web_citizen_reads (the citizen read a message) comes from the web branch.
depends_on = "0006_web"

CHANNEL = "tovholder_inbox"

_MESSAGE_FN = f"""
CREATE OR REPLACE FUNCTION tovholder_notify_message() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    change text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        change := 'message';
    ELSIF NEW.owner_id IS DISTINCT FROM OLD.owner_id
       OR NEW.conversation_id IS DISTINCT FROM OLD.conversation_id
       OR NEW.case_id IS DISTINCT FROM OLD.case_id THEN
        change := 'routing';
    ELSIF NEW.acknowledged_at IS DISTINCT FROM OLD.acknowledged_at THEN
        change := 'ack';
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        change := 'status';
    ELSIF NEW.awaiting_reply IS DISTINCT FROM OLD.awaiting_reply THEN
        change := 'answered';
    ELSE
        RETURN NULL;
    END IF;
    PERFORM pg_notify('{CHANNEL}', json_build_object(
        'tenant', NEW.tenant_id, 'conversation', NEW.conversation_id, 'kind', change)::text);
    IF TG_OP = 'UPDATE' AND NEW.conversation_id IS DISTINCT FROM OLD.conversation_id THEN
        PERFORM pg_notify('{CHANNEL}', json_build_object(
            'tenant', OLD.tenant_id, 'conversation', OLD.conversation_id, 'kind', change)::text);
    END IF;
    RETURN NULL;
END
$$
"""

_CONVERSATION_FN = f"""
CREATE OR REPLACE FUNCTION tovholder_notify_conversation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.case_id IS DISTINCT FROM OLD.case_id THEN
        PERFORM pg_notify('{CHANNEL}', json_build_object(
            'tenant', NEW.tenant_id, 'conversation', NEW.id, 'kind', 'routing')::text);
    END IF;
    RETURN NULL;
END
$$
"""

# A case changing hands changes who sees its threads: no single conversation is
# named, so every open stream of the municipality re-checks its own list.
_CASE_FN = f"""
CREATE OR REPLACE FUNCTION tovholder_notify_case() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.owner_id IS DISTINCT FROM OLD.owner_id
       OR NEW.team_id IS DISTINCT FROM OLD.team_id THEN
        PERFORM pg_notify('{CHANNEL}', json_build_object(
            'tenant', NEW.tenant_id, 'conversation', NULL, 'kind', 'case')::text);
    END IF;
    RETURN NULL;
END
$$
"""

# "Read by the citizen" shows on the caseworker's thread page.
_READ_FN = f"""
CREATE OR REPLACE FUNCTION tovholder_notify_read() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', json_build_object(
        'tenant', NEW.tenant_id,
        'conversation', (SELECT conversation_id FROM messages WHERE id = NEW.message_id),
        'kind', 'read')::text);
    RETURN NULL;
END
$$
"""

_TRIGGERS = (
    "CREATE TRIGGER tovholder_notify_message_insert AFTER INSERT ON messages "
    "FOR EACH ROW EXECUTE FUNCTION tovholder_notify_message()",
    "CREATE TRIGGER tovholder_notify_message_update AFTER UPDATE OF "
    "owner_id, conversation_id, case_id, acknowledged_at, status, awaiting_reply ON messages "
    "FOR EACH ROW EXECUTE FUNCTION tovholder_notify_message()",
    "CREATE TRIGGER tovholder_notify_conversation_update AFTER UPDATE OF case_id "
    "ON conversations FOR EACH ROW EXECUTE FUNCTION tovholder_notify_conversation()",
    "CREATE TRIGGER tovholder_notify_case_update AFTER UPDATE OF owner_id, team_id ON cases "
    "FOR EACH ROW EXECUTE FUNCTION tovholder_notify_case()",
    "CREATE TRIGGER tovholder_notify_read_insert AFTER INSERT ON web_citizen_reads "
    "FOR EACH ROW EXECUTE FUNCTION tovholder_notify_read()",
)


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for sql in (_MESSAGE_FN, _CONVERSATION_FN, _CASE_FN, _READ_FN, *_TRIGGERS):
        op.execute(sql)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS tovholder_notify_read_insert ON web_citizen_reads")
    op.execute("DROP TRIGGER IF EXISTS tovholder_notify_case_update ON cases")
    op.execute("DROP TRIGGER IF EXISTS tovholder_notify_conversation_update ON conversations")
    op.execute("DROP TRIGGER IF EXISTS tovholder_notify_message_update ON messages")
    op.execute("DROP TRIGGER IF EXISTS tovholder_notify_message_insert ON messages")
    op.execute("DROP FUNCTION IF EXISTS tovholder_notify_read()")
    op.execute("DROP FUNCTION IF EXISTS tovholder_notify_case()")
    op.execute("DROP FUNCTION IF EXISTS tovholder_notify_conversation()")
    op.execute("DROP FUNCTION IF EXISTS tovholder_notify_message()")
