"""consent: one consent record (consent_records) instead of consents + participant_consents

Every row of both old tables moves, with its id and time:

- ``consents`` (STOP/START and e-mail consent, per person, with history):
  opted_out → withdrawn, opted_in → given, scope proactive; source sms →
  sms_stop, api → api, web → page (anything else → migration); the old source
  word stays in ``actor`` ("migration:consents:<source>").
- ``participant_consents`` (the case system's word per participant, one row
  per channel): granted → given, refused otherwise, scope answers (its
  "no SMS" held back everything but the automatic answers), ``participant_id``
  kept and ``person_id`` taken from the participant; source migration (the
  old table did not say), actor "migration:participant_consents".

Nothing reads the old tables any more, so both are dropped. The downgrade
puts them back from the new one (the case system's word: only its latest per
participant and channel, as the old table kept).

Revision ID: 0027_one_consent
Revises: 0005_integration, 0007_delivery
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema.core import UTCDateTime

revision = "0027_one_consent"
down_revision = "0005_integration"  # participant_consents
branch_labels = None
depends_on = "0007_delivery"  # consents

_FROM_CONSENTS = """
INSERT INTO consent_records
    (id, tenant_id, person_id, participant_id, channel, state, scope, source, at, actor)
SELECT id, tenant_id, person_id, NULL, channel,
       CASE state WHEN 'opted_out' THEN 'withdrawn' WHEN 'opted_in' THEN 'given' ELSE state END,
       'proactive',
       CASE source WHEN 'sms' THEN 'sms_stop' WHEN 'api' THEN 'api' WHEN 'web' THEN 'page'
                   ELSE 'migration' END,
       at, 'migration:consents:' || source
FROM consents
"""

_FROM_PARTICIPANT_CONSENTS = """
INSERT INTO consent_records
    (id, tenant_id, person_id, participant_id, channel, state, scope, source, at, actor)
SELECT pc.id, pc.tenant_id, p.person_id, pc.participant_id, pc.channel,
       CASE WHEN pc.granted THEN 'given' ELSE 'refused' END,
       'answers', 'migration', pc.recorded_at, 'migration:participant_consents'
FROM participant_consents pc JOIN participants p ON p.id = pc.participant_id
"""


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("participant_id", sa.String(36), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("scope", sa.String(12), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_consent_records_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_consent_records_person_id_persons"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_consent_records_participant_id_participants",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consent_records"),
    )
    op.create_index("ix_consent_records_tenant_id", "consent_records", ["tenant_id"])
    op.create_index("ix_consent_records_participant_id", "consent_records", ["participant_id"])
    op.create_index("ix_consent_records_person", "consent_records", ["person_id", "channel", "at"])
    op.execute(_FROM_CONSENTS)
    op.execute(_FROM_PARTICIPANT_CONSENTS)
    op.drop_table("participant_consents")
    op.drop_table("consents")


_TO_CONSENTS = """
INSERT INTO consents (id, tenant_id, person_id, channel, state, source, at)
SELECT id, tenant_id, person_id, channel,
       CASE state WHEN 'given' THEN 'opted_in' ELSE 'opted_out' END,
       CASE source WHEN 'sms_stop' THEN 'sms' WHEN 'page' THEN 'web' ELSE 'api' END,
       at
FROM consent_records
WHERE participant_id IS NULL AND channel IN ('sms', 'email')
"""

_TO_PARTICIPANT_CONSENTS = """
INSERT INTO participant_consents (id, tenant_id, participant_id, channel, granted, recorded_at)
SELECT id, tenant_id, participant_id, channel, state = 'given', at
FROM (
    SELECT r.*, ROW_NUMBER() OVER (
        PARTITION BY participant_id, channel ORDER BY at DESC, id DESC
    ) AS newest
    FROM consent_records r
    WHERE participant_id IS NOT NULL
) latest
WHERE newest = 1
"""


def downgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_consents_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_consents_person_id_persons"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
    )
    op.create_index("ix_consents_tenant_id", "consents", ["tenant_id"])
    op.create_index("ix_consents_person_id", "consents", ["person_id"])
    op.create_table(
        "participant_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_participant_consents_participant_id_participants",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_participant_consents_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_participant_consents"),
        sa.UniqueConstraint(
            "participant_id", "channel", name="uq_participant_consents_participant_id_channel"
        ),
    )
    op.create_index("ix_participant_consents_tenant_id", "participant_consents", ["tenant_id"])
    op.create_index(
        "ix_participant_consents_participant_id", "participant_consents", ["participant_id"]
    )
    op.execute(_TO_CONSENTS)
    op.execute(_TO_PARTICIPANT_CONSENTS)
    op.drop_table("consent_records")
